package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/**
 * {@link TokenStore#file} is a {@link SharedTokenStore}: managers that share the file, in this
 * process or in others, refresh once, and a refresh whose lease ended never overwrites newer
 * tokens. The multi-process versions are in {@code dev.retrofitauth.fleet}.
 */
class SharedFileStoreTest {
  @TempDir Path directory;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final ExecutorService refreshThread = Executors.newSingleThreadExecutor();
  private ApiServer server;
  private File file;

  @BeforeEach
  void setUp() throws IOException {
    server = new ApiServer("new");
    file = directory.resolve("tokens.json").toFile();
    TokenStore.file(file).save(Tokens.of("old", "r1"));
  }

  @AfterEach
  void tearDown() throws IOException {
    executor.shutdownNow();
    refreshThread.shutdownNow();
    server.close();
  }

  @Test
  void twoManagersSharingTheFileInOneProcessRefreshOnce() throws Exception {
    GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r2")).hold();
    RefreshManager a = manager(refreshApi);
    RefreshManager b = manager(refreshApi);

    Future<Response<String>> first = executor.submit(() -> api(a).me().execute());
    refreshApi.awaitEntered();
    Future<Response<String>> second = executor.submit(() -> api(b).me().execute());
    Await.until("b's call waits for its refresh", () -> Await.waiting(b) == 1);
    refreshApi.release();

    assertEquals("ok /api/me", first.get(30, TimeUnit.SECONDS).body());
    assertEquals("ok /api/me", second.get(30, TimeUnit.SECONDS).body());
    assertEquals(1, refreshApi.calls.get());
    assertEquals(Tokens.of("new", "r2"), b.currentTokens()); // Adopted from the file.
  }

  @Test
  void signOutInOneManagerSignsTheOtherOutInsteadOfBeingUndoneByItsRefresh() throws Exception {
    GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r2"));
    RefreshManager a = manager(refreshApi);
    RecordingListener listener = new RecordingListener();
    RefreshManager b =
        RefreshManager.builder()
            .tokenStore(TokenStore.file(file))
            .refreshApi(refreshApi)
            .addListener(listener)
            .build();

    a.signOut();
    Response<String> response = api(b).me().execute();

    assertEquals(401, response.code());
    assertEquals(0, refreshApi.calls.get());
    assertNull(b.currentTokens());
    assertNull(TokenStore.file(file).load()); // Not signed back in by b's refresh.
    assertEquals(
        java.util.Collections.singletonList("signedOut SIGNED_OUT_ELSEWHERE"), listener.events);
  }

  @Test
  void leaseIsExclusiveEvenThroughAnotherPathToTheFile() throws Exception {
    Path link = Files.createSymbolicLink(directory.resolve("link"), directory);
    SharedTokenStore one = (SharedTokenStore) TokenStore.file(file);
    SharedTokenStore other =
        (SharedTokenStore) TokenStore.file(link.resolve("tokens.json").toFile());

    try (SharedTokenStore.Lease held = one.lease(1_000)) {
      InterruptedIOException busy =
          assertThrows(InterruptedIOException.class, () -> other.lease(50));
      assertTrue(busy.getMessage().contains("held the lease"), busy.getMessage());
      assertEquals(Tokens.of("old", "r1"), held.load());
    }
    other.lease(1_000).close(); // Free again once released.
  }

  @Test
  void holderWhoseLeaseEndedCannotOverwriteNewerTokens() throws Exception {
    SharedTokenStore store = (SharedTokenStore) TokenStore.file(file);
    SharedTokenStore.Lease late = store.lease(1_000);
    assertEquals(Tokens.of("old", "r1"), late.load());
    late.close(); // As the manager does when it abandons a refresh that hangs.

    try (SharedTokenStore.Lease next = store.lease(1_000)) {
      next.load();
      assertTrue(next.save(Tokens.of("newer", "r3")));
    }

    assertFalse(late.save(Tokens.of("late", "r2")));
    assertEquals(Tokens.of("newer", "r3"), store.load());
  }

  @Test
  void saveIsRefusedWhenTheFileChangedUnderTheLease() throws Exception {
    SharedTokenStore store = (SharedTokenStore) TokenStore.file(file);
    try (SharedTokenStore.Lease lease = store.lease(1_000)) {
      lease.load();
      // A writer that ignores the lease, such as an older version of this library.
      Files.write(
          file.toPath(),
          "{\"version\":1,\"access_token\":\"foreign\"}".getBytes(StandardCharsets.UTF_8));

      assertFalse(lease.save(Tokens.of("mine", "r2")));
    }
    assertEquals(Tokens.of("foreign"), store.load());
  }

  @Test
  void abandonedRefreshReleasesTheLeaseAndItsLateTokensAreRefused() throws Exception {
    CountDownLatch hung = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    RefreshManager a =
        RefreshManager.builder()
            .tokenStore(TokenStore.file(file))
            .refreshApi(hangsIgnoringInterrupts(entered, hung, Tokens.of("late", "r-late")))
            .refreshExecutor(refreshThread)
            .refreshTimeout(Duration.ofMillis(200))
            .refreshBackoff(0, 0, TimeUnit.MILLISECONDS) // The next 401 may refresh at once.
            .build();
    GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r2"));
    RefreshManager b = manager(refreshApi);

    Future<Response<String>> timesOut = executor.submit(() -> api(a).me().execute());
    assertTrue(entered.await(30, TimeUnit.SECONDS));
    // b waits for the lease until a abandons its refresh, at twice its timeout.
    assertEquals("ok /api/me", api(b).me().execute().body());
    assertEquals(1, refreshApi.calls.get());
    assertThrows(Exception.class, () -> timesOut.get(30, TimeUnit.SECONDS));

    hung.countDown();
    refreshThread.submit(() -> {}).get(30, TimeUnit.SECONDS); // a's late refresh has ended.
    assertEquals(Tokens.of("new", "r2"), TokenStore.file(file).load()); // Not replaced by "late".
    assertEquals("ok /api/me", api(a).me().execute().body()); // a adopts b's tokens.
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void abandonedRefreshThatNobodyOvertookSavesItsLateTokensInsteadOfDroppingThem()
      throws Exception {
    CountDownLatch hung = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    RefreshManager a =
        RefreshManager.builder()
            .tokenStore(TokenStore.file(file))
            .refreshApi(hangsIgnoringInterrupts(entered, hung, Tokens.of("new", "r-late")))
            .refreshExecutor(refreshThread)
            .refreshTimeout(Duration.ofMillis(200))
            .refreshBackoff(0, 0, TimeUnit.MILLISECONDS) // The next 401 may refresh at once.
            .build();

    Future<Response<String>> timesOut = executor.submit(() -> api(a).me().execute());
    assertTrue(entered.await(30, TimeUnit.SECONDS));
    assertThrows(Exception.class, () -> timesOut.get(30, TimeUnit.SECONDS));
    // Free once a abandons its refresh (at twice the timeout) and closes its lease.
    ((SharedTokenStore) TokenStore.file(file)).lease(30_000).close();
    hung.countDown(); // The refresh returns after its lease was closed.

    refreshThread.submit(() -> {}).get(30, TimeUnit.SECONDS); // a's late refresh has ended.

    // The server rotated r1 to r-late: the tokens are in the store, not dropped with the flight.
    assertEquals(Tokens.of("new", "r-late"), TokenStore.file(file).load());
    assertEquals("ok /api/me", api(a).me().execute().body()); // Adopted: no second refresh.
  }

  /** A RefreshApi that hangs until {@code hung} opens, ignoring the abandonment's interrupt. */
  private static RefreshApi hangsIgnoringInterrupts(
      CountDownLatch entered, CountDownLatch hung, Tokens late) {
    return current -> {
      entered.countDown();
      while (true) {
        try {
          if (hung.await(30, TimeUnit.SECONDS)) return late;
          throw new AssertionError("never released");
        } catch (InterruptedException ignored) {
          // Goes on waiting.
        }
      }
    };
  }

  @Test
  void refreshApiThatSignsOutWhileHoldingTheLeaseDoesNotWaitForItself() throws Exception {
    RefreshManager[] holder = new RefreshManager[1];
    RefreshApi signsOut =
        current -> {
          holder[0].signOut();
          return Tokens.of("new", "r2");
        };
    holder[0] = manager(signsOut);

    Response<String> response =
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> api(holder[0]).me().execute());

    assertEquals(401, response.code());
    assertNull(holder[0].currentTokens());
    assertNull(TokenStore.file(file).load());
    Await.noDeadlock();
  }

  @Test
  void expiredTokensInTheFileAreRefreshedWithTheirNewerRefreshToken() throws Exception {
    GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r3"));
    RefreshManager a = manager(refreshApi);
    // Another process refreshed, and its access token has expired since.
    TokenStore.file(file).save(Tokens.of("other", "r2", System.currentTimeMillis() - 1_000));

    assertEquals("ok /api/me", api(a).me().execute().body());

    assertEquals("r2", refreshApi.presented.get(0).refreshToken());
    assertEquals(Tokens.of("new", "r3"), TokenStore.file(file).load());
  }

  @Test
  void unreadableSharedFileStopsTheRefreshUntilASignInWritesItAgain() throws Exception {
    RecordingListener listener = new RecordingListener();
    GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r2"));
    RefreshManager a =
        RefreshManager.builder()
            .tokenStore(TokenStore.file(file))
            .refreshApi(refreshApi)
            .addListener(listener)
            .build();
    Files.write(file.toPath(), "{\"version\":1,\"acc".getBytes(StandardCharsets.UTF_8));

    IOException failure = assertThrows(IOException.class, () -> api(a).me().execute());

    assertTrue(
        String.valueOf(failure.getCause()).contains("could not read"), String.valueOf(failure));
    assertEquals(0, refreshApi.calls.get()); // Which refresh token is the newest is unknown.
    assertTrue(listener.events.contains("storeFailed"), listener.events.toString());
    a.signIn(Tokens.of("new", "r2"));
    assertEquals(Tokens.of("new", "r2"), TokenStore.file(file).load());
    assertEquals("ok /api/me", api(a).me().execute().body());
  }

  private RefreshManager manager(RefreshApi refreshApi) {
    return RefreshManager.builder()
        .tokenStore(TokenStore.file(file))
        .refreshApi(refreshApi)
        .build();
  }

  private Services.Api api(RefreshManager auth) {
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    return new Retrofit.Builder()
        .baseUrl(server.url("/"))
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
        .addConverterFactory(ScalarsConverterFactory.create())
        .build()
        .create(Services.Api.class);
  }
}
