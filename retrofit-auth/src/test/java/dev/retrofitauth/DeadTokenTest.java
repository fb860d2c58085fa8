package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Response;

/**
 * Never send a token known to be dead, and refresh in the background before the leeway (the second
 * performance round).
 */
final class DeadTokenTest {
  private final GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r2"));
  private @Nullable Fixture fixture;

  @AfterEach
  void close() throws IOException {
    if (fixture != null) fixture.close();
  }

  /**
   * With OkHttp's default dispatcher (5 requests per host), calls queue in the dispatcher: they
   * passed the adapter before the refresh started and reach the interceptor after. 52 of 1,000 went
   * out with the dead token before; now only those in flight when the 401 arrived.
   */
  @Test
  void defaultDispatcherStormSendsTheDeadTokenOnlyForCallsAlreadyInFlight() throws Exception {
    refreshApi.hold();
    fixture = Fixture.create(RefreshManager.builder().refreshApi(refreshApi));
    fixture.server.acceptOnly("new");
    Api api = fixture.create(Api.class);

    // The first 5 wait at the server until all 1,000 are in OkHttp's dispatcher.
    java.util.concurrent.CountDownLatch arrived = fixture.server.closeGate(5);
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < 1_000; i++) api.me().enqueue(Callbacks.recording(results));
    assertTrue(arrived.await(30, TimeUnit.SECONDS));
    fixture.server.openGate();
    refreshApi.awaitEntered();
    Await.until("all wait for the refresh", () -> Await.waiting(fixture.auth) == 1_000);
    refreshApi.release();

    for (int i = 0; i < 1_000; i++) {
      Object result = results.poll(30, TimeUnit.SECONDS);
      assertTrue(result instanceof Object[], "call failed: " + result);
      assertEquals(200, ((Response<?>) ((Object[]) result)[1]).code());
    }
    assertEquals(5, fixture.server.count("Bearer old")); // The 5 in flight when the 401 came.
    assertEquals(995, fixture.auth.stats().deadTokenRequestsAvoided());
    assertEquals(1, refreshApi.calls.get());
    assertEquals(1_000, fixture.server.count("Bearer new"));
  }

  @Test
  void noRetryCallsAndPlainCallsStillGoToTheNetwork() throws Exception {
    refreshApi.hold();
    okhttp3.Dispatcher oneAtATime = new okhttp3.Dispatcher();
    oneAtATime.setMaxRequestsPerHost(1);
    fixture =
        Fixture.create(
            RefreshManager.builder().refreshApi(refreshApi),
            new okhttp3.OkHttpClient.Builder().dispatcher(oneAtATime));
    fixture.server.acceptOnly("new");
    Api api = fixture.create(Api.class);
    fixture.create(Api.class).open().execute(); // The factory allows the origin.
    java.util.concurrent.CountDownLatch arrived = fixture.server.closeGate(1);
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    api.me().enqueue(Callbacks.recording(results)); // Its 401 starts the refresh.
    assertTrue(arrived.await(30, TimeUnit.SECONDS));
    // Queued behind it in the dispatcher: they reach the interceptor once the refresh runs.
    api.poll().enqueue(Callbacks.recording(results));
    java.util.concurrent.CompletableFuture<Integer> plain =
        new java.util.concurrent.CompletableFuture<>();
    fixture
        .client
        .newCall(new Request.Builder().url(fixture.server.url("/img")).build())
        .enqueue(
            new okhttp3.Callback() {
              @Override
              public void onFailure(okhttp3.Call call, IOException e) {
                plain.completeExceptionally(e);
              }

              @Override
              public void onResponse(okhttp3.Call call, okhttp3.Response response) {
                plain.complete(response.code());
                response.close();
              }
            });
    fixture.server.openGate();

    assertEquals(401, plain.get(30, TimeUnit.SECONDS)); // A real answer from the server.
    Object poll = results.poll(30, TimeUnit.SECONDS); // @NoRetry: a real answer too.
    assertEquals(401, ((Response<?>) ((Object[]) poll)[1]).code());
    assertEquals(3, fixture.server.count("Bearer old"));
    assertEquals(0, fixture.auth.stats().deadTokenRequestsAvoided());
    refreshApi.release();
    results.poll(30, TimeUnit.SECONDS);
  }

  @Test
  void refreshAheadRunsInTheBackgroundWhileCallsGoOn() throws Exception {
    AtomicLong now = new AtomicLong(1_000_000L);
    refreshApi.hold();
    refreshApi.answer(current -> Tokens.of("new", "r2", now.get() + 3_600_000));
    fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .clock(now::get)
                .expiryLeeway(30, TimeUnit.SECONDS)
                .refreshAhead(30, TimeUnit.SECONDS));
    fixture.auth.signIn(Tokens.of("old", "r1", now.get() + 600_000)); // Ten minutes left.
    Api api = fixture.create(Api.class);

    // Ten minutes: a 48 s margin, the last 24 s the leeway. 40 s left: inside the window.
    now.addAndGet(600_000 - 40_000);
    for (int i = 0; i < 10; i++) assertEquals(200, api.me().execute().code());
    refreshApi.awaitEntered(); // One background refresh started...
    assertEquals(0, Await.waiting(fixture.auth)); // ...and no call waited for it.
    assertEquals(10, fixture.server.count("Bearer old"));
    fixture.server.acceptOnly("new");
    refreshApi.release();
    Await.until("refreshed", () -> fixture.auth.stats().refreshesSucceeded() == 1);

    assertEquals(200, api.me().execute().code());
    assertEquals(1, refreshApi.calls.get());
    assertEquals(0, fixture.server.count("Bearer new") - 1);
  }

  @Test
  void failedBackgroundRefreshHarmsNoCallAndIsTriedAgainAfterTheBackoff() throws Exception {
    AtomicLong now = new AtomicLong(1_000_000L);
    refreshApi.answer(
        current -> {
          throw new IOException("token endpoint down");
        });
    fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .clock(now::get)
                .refreshBackoff(1, 1, TimeUnit.SECONDS));
    fixture.auth.signIn(Tokens.of("old", "r1", now.get() + 600_000));
    Api api = fixture.create(Api.class);

    now.addAndGet(600_000 - 40_000); // Inside the refresh-ahead window (48 s to 24 s before).
    assertEquals(200, api.me().execute().code());
    Await.until("failed", () -> fixture.auth.stats().refreshesFailed() == 1);
    assertEquals(200, api.me().execute().code()); // In the backoff: no second refresh.
    assertEquals(1, refreshApi.calls.get());

    now.addAndGet(1_001);
    refreshApi.hold();
    refreshApi.answer(current -> Tokens.of("new", "r2", now.get() + 3_600_000));
    assertEquals(200, api.me().execute().code()); // Goes with "old"; tries again meanwhile.
    refreshApi.release();
    Await.until("refreshed", () -> fixture.auth.stats().refreshesSucceeded() == 1);
    assertEquals(2, refreshApi.calls.get());
  }

  /**
   * The RefreshApi's own call through the factory, without @NoAuth, during a refresh that a 401
   * started: it must reach the server (an outside review found it answered locally).
   */
  @Test
  void theRefreshApisOwnCallIsNeverAnsweredLocally() throws Exception {
    java.util.concurrent.atomic.AtomicReference<Api> api =
        new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicInteger seen =
        new java.util.concurrent.atomic.AtomicInteger();
    fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(
                    current -> {
                      seen.set(api.get().me().execute().code()); // Some servers want the old token.
                      return Tokens.of("new", "r2");
                    }));
    fixture.server.acceptOnly("new");
    api.set(fixture.create(Api.class));

    assertEquals(200, api.get().me().execute().code());
    assertEquals(401, seen.get()); // The server's real answer...
    assertEquals(2, fixture.server.count("Bearer old")); // ...to a request that went out.
    assertEquals(0, fixture.auth.stats().deadTokenRequestsAvoided());
  }

  /** A one-shot body cannot be retried, so a local 401 would mean it is never sent. */
  @Test
  void oneShotBodiesAreNeverAnsweredLocally() throws Exception {
    refreshApi.hold();
    okhttp3.Dispatcher oneAtATime = new okhttp3.Dispatcher();
    oneAtATime.setMaxRequestsPerHost(1);
    fixture =
        Fixture.create(
            RefreshManager.builder().refreshApi(refreshApi),
            new okhttp3.OkHttpClient.Builder().dispatcher(oneAtATime));
    fixture.server.acceptOnly("new");
    Api api = fixture.create(Api.class);
    java.util.concurrent.CountDownLatch arrived = fixture.server.closeGate(1);
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    api.me().enqueue(Callbacks.recording(results)); // Its 401 starts the refresh.
    assertTrue(arrived.await(30, TimeUnit.SECONDS));
    okhttp3.RequestBody oneShot =
        new okhttp3.RequestBody() {
          @Override
          public okhttp3.MediaType contentType() {
            return null;
          }

          @Override
          public void writeTo(okio.BufferedSink sink) throws IOException {
            sink.writeUtf8("once");
          }

          @Override
          public boolean isOneShot() {
            return true;
          }
        };
    BlockingQueue<Object> uploads = new LinkedBlockingQueue<>();
    api.upload(oneShot).enqueue(Callbacks.recording(uploads));
    fixture.server.openGate();

    Object upload = uploads.poll(30, TimeUnit.SECONDS);
    assertEquals(401, ((Response<?>) ((Object[]) upload)[1]).code());
    assertEquals(2, fixture.server.count("Bearer old")); // It went out.
    assertEquals(0, fixture.auth.stats().deadTokenRequestsAvoided());
    refreshApi.release();
    results.poll(30, TimeUnit.SECONDS);
  }
}
