package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reactivex.rxjava3.core.Single;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import retrofit2.Retrofit;
import retrofit2.adapter.rxjava3.RxJava3CallAdapterFactory;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * The mistakes a new user made on purpose, from the first-hour report: each used to fail silently
 * (a session lost on every restart, bare 401s once the token expired, an error that named the wrong
 * fix), and now fails at once with a message that says what to do. Each test failed before.
 */
final class MisconfigurationTest {
  @TempDir Path directory;

  @Test
  void tokenFileInAMissingDirectoryFailsWhenTheStoreIsMade() {
    File file = directory.resolve("missing").resolve("tokens.json").toFile();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TokenStore.file(file));
    assertEquals(
        "the token file's directory does not exist: "
            + file.getParentFile().getAbsolutePath()
            + " (create it first, readable and writable by you alone)",
        e.getMessage());
  }

  @Test
  void tokenFilePathThatIsADirectoryFails() {
    File file = directory.toFile();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TokenStore.file(file));
    assertEquals(
        "the token file is a directory: "
            + file.getAbsolutePath()
            + " (name a file in it, as tokens.json)",
        e.getMessage());
  }

  @Test
  void signInThatCannotSaveThrowsWhenNobodyListens() {
    IOException diskFull = new IOException("disk full");
    RefreshManager auth = RefreshManager.builder().tokenStore(failingStore(diskFull)).build();

    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> auth.signIn(Tokens.of("a", "r")));
    assertSame(diskFull, e.getCause());
    assertTrue(
        e.getMessage()
            .startsWith(
                "signIn() could not save the tokens to failing store (IOException:"
                    + " disk full); they are used from memory"),
        e.getMessage());
    assertEquals(Tokens.of("a", "r"), auth.currentTokens());
  }

  @Test
  void signInThatCannotSaveTellsTheListenerAndDoesNotThrow() {
    RecordingListener listener = new RecordingListener();
    RefreshManager auth =
        RefreshManager.builder()
            .tokenStore(failingStore(new IOException("disk full")))
            .addListener(listener)
            .build();

    auth.signIn(Tokens.of("a", "r"));
    assertEquals(java.util.Arrays.asList("storeFailed", "signedIn"), listener.events);
  }

  /** The README's plain OkHttp snippet used for a Retrofit API: bare 401s after expiry. */
  @Test
  void interceptorWithoutTheFactoryFailsTheFirstCallWithTheFix() throws Exception {
    try (ApiServer server = new ApiServer("old")) {
      RefreshManager auth =
          RefreshManager.builder()
              .refreshApi(current -> Tokens.of("new", "r2"))
              .addAllowedOrigin(server.url("/"))
              .build();
      auth.signIn(Tokens.of("old", "r1"));
      OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
      Services.Api api =
          new Retrofit.Builder()
              .baseUrl(server.url("/"))
              .client(client)
              .addConverterFactory(ScalarsConverterFactory.create())
              .build()
              .create(Services.Api.class);

      IOException e = assertThrows(IOException.class, () -> api.me().execute());
      assertEquals(
          "Add AuthCallAdapterFactory.create(auth) to this Retrofit.Builder, first among its call"
              + " adapter factories: without it a 401 is never refreshed, and every call fails once"
              + " the token expires (or add auth.authenticator() to the OkHttpClient). The call to"
              + " Api.me() reached auth.interceptor() without it (mark the method @NoAuth if it"
              + " must not carry the token, or @NoRetry if it may go without a refresh).",
          e.getMessage());
      client.dispatcher().executorService().shutdown();
    }
  }

  interface RxApi {
    @GET("api/me")
    Single<String> me();
  }

  /** The README said create() fails; it succeeded, and the error named the wrong fix. */
  @Test
  void rxFactoryAddedFirstFailsTheFirstCallWithMoveIt() throws Exception {
    try (ApiServer server = new ApiServer("old")) {
      RefreshManager auth = RefreshManager.builder().refreshApi(current -> current).build();
      auth.signIn(Tokens.of("old", "r1"));
      OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
      RxApi api =
          new Retrofit.Builder()
              .baseUrl(server.url("/"))
              .client(client)
              .addCallAdapterFactory(RxJava3CallAdapterFactory.createSynchronous())
              .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
              .addConverterFactory(ScalarsConverterFactory.create())
              .build()
              .create(RxApi.class);

      Throwable e = assertThrows(Throwable.class, () -> api.me().blockingGet());
      IOException cause = e instanceof IOException ? (IOException) e : (IOException) e.getCause();
      assertTrue(
          cause
              .getMessage()
              .startsWith(
                  "Move AuthCallAdapterFactory before RxJava3CallAdapterFactory. "
                      + "AuthCallAdapterFactory must be added before RxJava3CallAdapterFactory"),
          cause.getMessage());
      client.dispatcher().executorService().shutdown();
    }
  }

  private static TokenStore failingStore(IOException failure) {
    return new TokenStore() {
      @Override
      public @Nullable Tokens load() {
        return null;
      }

      @Override
      public void save(Tokens tokens) throws IOException {
        throw failure;
      }

      @Override
      public void clear() throws IOException {
        throw failure;
      }

      @Override
      public String toString() {
        return "failing store";
      }
    };
  }
}
