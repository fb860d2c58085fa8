package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.retrofitauth.Services.Api;
import io.reactivex.rxjava3.core.Single;
import java.io.IOException;
import java.net.InetAddress;
import java.util.Collections;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Retrofit;
import retrofit2.adapter.rxjava3.RxJava3CallAdapterFactory;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * When the library withholds the token from a request that was meant to carry it, the call fails
 * with a message that says why and how to fix it, instead of a bare 401 with no event (items 15 and
 * 16 of the second hardening round).
 */
final class WithheldTokenTest {
  private final ApiServer server;
  private final RefreshManager auth = RefreshManager.builder().build();

  WithheldTokenTest() throws IOException {
    server = new ApiServer("old");
    auth.signIn(Tokens.of("old", "r1"));
  }

  @AfterEach
  void close() throws IOException {
    server.close();
  }

  interface RxApi {
    @GET("api/me")
    Single<String> me();
  }

  /** The Android emulator's host, http://10.0.2.2, was given no token and no word why. */
  @Test
  void cleartextOriginThatIsNotLoopbackFails() {
    // A host name that is not loopback, resolved to the loopback server: no traffic leaves it.
    OkHttpClient client =
        new OkHttpClient.Builder()
            .dns(host -> Collections.singletonList(InetAddress.getLoopbackAddress()))
            .addInterceptor(auth.interceptor())
            .build();
    Api api =
        retrofit(client, "http://api.test:" + server.server.getPort() + "/").create(Api.class);

    IOException e = assertThrows(IOException.class, () -> api.me().execute());
    assertEquals(
        "auth.interceptor() withheld the token from http://api.test:"
            + server.server.getPort()
            + ": tokens never go over cleartext HTTP except to loopback. Use https, or"
            + " RefreshManager.Builder.allowCleartext(true) on a trusted network (for example an"
            + " emulator's host during development).",
        e.getMessage());
    assertEquals(0, server.server.getRequestCount());
  }

  @Test
  void cleartextAllowedSendsTheToken() throws IOException {
    RefreshManager cleartext = RefreshManager.builder().allowCleartext(true).build();
    cleartext.signIn(Tokens.of("old", "r1"));
    OkHttpClient client =
        new OkHttpClient.Builder()
            .dns(host -> Collections.singletonList(InetAddress.getLoopbackAddress()))
            .addInterceptor(cleartext.interceptor())
            .build();
    Api api =
        new Retrofit.Builder()
            .baseUrl("http://api.test:" + server.server.getPort() + "/")
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(cleartext))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);

    assertEquals(200, api.me().execute().code());
  }

  /** The interceptor without the factory: no origin was allowed, and the 401 said nothing. */
  @Test
  void interceptorWithoutFactoryFails() {
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    Api api =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client)
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);

    IOException e = assertThrows(IOException.class, () -> api.me().execute());
    assertEquals(
        "auth.interceptor() withheld the token from http://"
            + server.server.getHostName()
            + ":"
            + server.server.getPort()
            + ": no origin may receive it yet. Add AuthCallAdapterFactory.create(auth) to the"
            + " Retrofit.Builder, before any other call adapter factory (the Retrofit's base URL is"
            + " then allowed), or RefreshManager.Builder.addAllowedOrigin(url) for plain OkHttp"
            + " calls.",
        e.getMessage());
    assertEquals(0, server.server.getRequestCount());
  }

  /** An @Url to another origin, such as a CDN, still just goes without a token. */
  @Test
  void otherOriginOnPurposeGoesWithoutToken() throws Exception {
    try (ApiServer cdn = new ApiServer("none")) {
      OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
      Api api = retrofit(client, server.url("/")).create(Api.class);

      assertEquals(401, api.get(cdn.url("/image.png")).execute().code());
      assertNull(cdn.requests.get(0).getHeader("Authorization"));
    }
  }

  /**
   * The factory added after RxJava3CallAdapterFactory, on an interface whose methods all return
   * RxJava types: it was never consulted, and every 401 reached the app with no refresh.
   */
  @Test
  void rxOnlyServiceBehindTheRxFactoryFails() throws IOException {
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    // The app's other Retrofit is wired right, so the factory is in use and the origin allowed.
    Api api = retrofit(client, server.url("/")).create(Api.class);
    assertEquals(200, api.me().execute().code());
    RxApi rx =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client)
            .addCallAdapterFactory(RxJava3CallAdapterFactory.createSynchronous())
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .validateEagerly(true)
            .build()
            .create(RxApi.class);

    RuntimeException thrown = assertThrows(RuntimeException.class, () -> rx.me().blockingGet());
    // It names the factory to move: the one that took the call.
    assertEquals(
        "Move AuthCallAdapterFactory before RxJava3CallAdapterFactory. AuthCallAdapterFactory must"
            + " be added before RxJava3CallAdapterFactory: call"
            + " addCallAdapterFactory(AuthCallAdapterFactory.create(auth)) first, otherwise the"
            + " calls it adapts are never refreshed on 401. The call to RxApi.me() reached"
            + " auth.interceptor() without it (mark the method @NoAuth if it must not carry the"
            + " token, or @NoRetry if it may go without a refresh).",
        thrown.getCause().getMessage());
  }

  private Retrofit retrofit(OkHttpClient client, String baseUrl) {
    return new Retrofit.Builder()
        .baseUrl(baseUrl)
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
        .addConverterFactory(ScalarsConverterFactory.create())
        .build();
  }
}
