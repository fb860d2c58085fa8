package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import retrofit2.Call;
import retrofit2.Response;
import retrofit2.http.GET;
import retrofit2.http.Path;

/** Queue mode: one central queue retries the calls, in order, with a cap, by group. */
final class QueueModeTest {
  interface Api {
    @GET("api/me")
    Call<String> me();

    @RetryPriority(10)
    @GET("api/high/{n}")
    Call<String> high(@Path("n") int n);

    @GET("api/normal/{n}")
    Call<String> normal(@Path("n") int n);

    @RetryPriority(-5)
    @GET("api/low/{n}")
    Call<String> low(@Path("n") int n);

    @RetryGroup("feed")
    @GET("api/feed/{n}")
    Call<String> feed(@Path("n") int n);
  }

  private final AtomicLong now = new AtomicLong(1_000_000L);
  private final RecordingListener listener = new RecordingListener();
  private final List<String> retriedPaths = new CopyOnWriteArrayList<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private volatile CountDownLatch holdRetries = new CountDownLatch(0);
  private GatedRefreshApi refreshApi;
  private Fixture fixture;
  private Api api;

  @AfterEach
  void tearDown() throws IOException {
    holdRetries.countDown();
    if (fixture != null) fixture.close();
  }

  private void start(RefreshManager.Builder builder) throws IOException {
    refreshApi =
        new GatedRefreshApi(
            current -> {
              fixture.server.acceptOnly("new");
              return Tokens.of("new", "r2");
            });
    ApiServer server =
        new ApiServer("old") {
          @Override
          MockResponse respond(RecordedRequest request, String authorization) {
            if (!"Bearer new".equals(authorization)) return super.respond(request, authorization);
            retriedPaths.add(request.getPath());
            int current = inFlight.incrementAndGet();
            maxInFlight.accumulateAndGet(current, Math::max);
            try {
              if (!holdRetries.await(30, TimeUnit.SECONDS)) throw new AssertionError("held");
            } catch (InterruptedException e) {
              throw new AssertionError(e);
            } finally {
              inFlight.decrementAndGet();
            }
            return super.respond(request, authorization);
          }
        };
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(2_000);
    dispatcher.setMaxRequestsPerHost(2_000);
    RefreshManager auth =
        builder.refreshApi(refreshApi).clock(now::get).addListener(listener).build();
    auth.signIn(Tokens.of("old", "r1"));
    fixture =
        new Fixture(
            server,
            auth,
            new OkHttpClient.Builder()
                .dispatcher(dispatcher)
                .addInterceptor(auth.interceptor())
                .build());
    api = fixture.create(Api.class);
    listener.events.clear();
  }

  /** Sends one call that gets a 401 and holds its refresh open, so later calls queue in order. */
  private BlockingQueue<Object> startHeldRefresh() throws Exception {
    fixture.server.acceptOnly("other");
    refreshApi.hold();
    BlockingQueue<Object> first = new LinkedBlockingQueue<>();
    api.me().enqueue(Callbacks.recording(first));
    refreshApi.awaitEntered();
    return first;
  }

  @Test
  void retriesReachServerInPriorityThenArrivalOrder() throws Exception {
    start(RefreshManager.builder().queueMode(true).maxConcurrentRetries(1));
    BlockingQueue<Object> first = startHeldRefresh();
    int calls = 500;
    List<String> expected = new ArrayList<>();
    List<int[]> keys = new ArrayList<>(); // {priority, arrival}
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < calls; i++) {
      Call<String> call;
      int priority;
      if (i % 5 == 0) {
        call = api.high(i);
        priority = 10;
      } else if (i % 5 == 1) {
        call = api.low(i);
        priority = -5;
      } else {
        call = api.normal(i);
        priority = 0;
      }
      call.enqueue(Callbacks.recording(results));
      keys.add(new int[] {priority, i});
    }
    keys.sort(Comparator.<int[]>comparingInt(k -> -k[0]).thenComparingInt(k -> k[1]));
    // The call that started the refresh joined first, with priority 0.
    boolean firstPlaced = false;
    for (int[] key : keys) {
      if (!firstPlaced && key[0] <= 0) {
        expected.add("/api/me");
        firstPlaced = true;
      }
      String kind = key[0] == 10 ? "high" : key[0] == 0 ? "normal" : "low";
      expected.add("/api/" + kind + "/" + key[1]);
    }
    Await.until("all queued", () -> Await.waiting(fixture.auth) == calls + 1);

    refreshApi.release();

    for (int i = 0; i < calls; i++)
      assertTrue(results.poll(30, TimeUnit.SECONDS) instanceof Object[]);
    assertTrue(first.poll(30, TimeUnit.SECONDS) instanceof Object[]);
    assertEquals(expected, retriedPaths);
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void neverMoreThanMaxConcurrentRetriesInFlight() throws Exception {
    start(RefreshManager.builder().queueMode(true).maxConcurrentRetries(4));
    fixture.server.acceptOnly("other");
    refreshApi.hold();
    int calls = 100;
    CountDownLatch arrived = fixture.server.closeGate(calls);
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < calls; i++) api.normal(i).enqueue(Callbacks.recording(results));
    assertTrue(arrived.await(30, TimeUnit.SECONDS));
    holdRetries = new CountDownLatch(1);
    fixture.server.openGate();
    Await.until("all got 401 and wait", () -> Await.waiting(fixture.auth) == calls);

    refreshApi.release();

    // Four retries are on the server; the other 96 wait in the queue for a slot.
    Await.until("four retries in flight", () -> inFlight.get() == 4);
    Await.until(
        "the rest wait for a slot",
        () ->
            fixture.auth.queuedCalls().size() == calls - 4
                && fixture.auth.queuedCalls().stream().noneMatch(QueuedCall::refreshPending));
    assertEquals(4, retriedPaths.size());
    holdRetries.countDown();
    for (int i = 0; i < calls; i++) {
      Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
      assertEquals(200, ((Response<?>) result[1]).code());
    }
    assertEquals(4, maxInFlight.get());
    assertEquals(calls, retriedPaths.size());
  }

  @Test
  void nextRetryStartsWhenOneFailsToo() throws Exception {
    start(RefreshManager.builder().queueMode(true).maxConcurrentRetries(1));
    startHeldRefresh();
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    Call<String> doomed = api.normal(1);
    doomed.enqueue(Callbacks.recording(results));
    api.normal(2).enqueue(Callbacks.recording(results));
    Await.until("queued", () -> Await.waiting(fixture.auth) == 3);
    fixture.server.server.shutdown(); // Every retry now fails with an IOException.
    refreshApi.release();

    for (int i = 0; i < 2; i++) {
      assertTrue(results.poll(30, TimeUnit.SECONDS) instanceof IOException);
    }
  }

  @Test
  void cancelingGroupFailsOnlyItsCallsOnceAndOthersSucceed() throws Exception {
    start(RefreshManager.builder().queueMode(true));
    BlockingQueue<Object> first = startHeldRefresh();
    BlockingQueue<Object> feed = new LinkedBlockingQueue<>();
    BlockingQueue<Object> others = new LinkedBlockingQueue<>();
    for (int i = 0; i < 300; i++) {
      if (i % 3 == 0 && i < 270) {
        api.feed(i).enqueue(Callbacks.recording(feed));
      } else if (i % 3 != 0) {
        api.normal(i).enqueue(Callbacks.recording(others));
      }
    }
    // Ten of the feed calls are synchronous callers, parked on their own threads.
    ExecutorService syncCallers = Executors.newFixedThreadPool(10);
    List<Future<Response<String>>> syncFeed = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      int n = 1_000 + i;
      syncFeed.add(syncCallers.submit(() -> api.feed(n).execute()));
    }
    Await.until("300 wait", () -> Await.waiting(fixture.auth) == 301);

    assertEquals(100, fixture.auth.cancelQueued("feed"));

    for (int i = 0; i < 90; i++) {
      Object failure = feed.poll(30, TimeUnit.SECONDS);
      assertEquals(
          "Canceled: retry group \"feed\" was canceled", ((IOException) failure).getMessage());
    }
    for (Future<Response<String>> f : syncFeed) {
      java.util.concurrent.ExecutionException e =
          assertThrows(
              java.util.concurrent.ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
      assertEquals("Canceled: retry group \"feed\" was canceled", e.getCause().getMessage());
    }
    syncCallers.shutdown();
    refreshApi.release();
    for (int i = 0; i < 200; i++) {
      Object[] result = (Object[]) others.poll(30, TimeUnit.SECONDS);
      assertEquals(200, ((Response<?>) result[1]).code());
    }
    assertTrue(first.poll(30, TimeUnit.SECONDS) instanceof Object[]);
    assertNull(feed.poll(50, TimeUnit.MILLISECONDS)); // Exactly one callback each.
    assertEquals(201, fixture.server.count("Bearer new"));
  }

  @Test
  void cancelAllQueuedLeavesRefreshRunning() throws Exception {
    start(RefreshManager.builder().queueMode(true));
    BlockingQueue<Object> first = startHeldRefresh();

    assertEquals(1, fixture.auth.cancelAllQueued());

    assertEquals(
        "Canceled: every queued call was canceled",
        ((IOException) first.poll(30, TimeUnit.SECONDS)).getMessage());
    refreshApi.release();
    Await.until("refreshed", () -> fixture.auth.stats().refreshesSucceeded() == 1);
    assertEquals(Tokens.of("new", "r2"), fixture.auth.currentTokens());
  }

  @Test
  void overflowFailsAtOnceAndLeavesOthersWaiting() throws Exception {
    start(RefreshManager.builder().queueMode(true).maxQueuedCalls(10));
    startHeldRefresh();
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < 9; i++) api.normal(i).enqueue(Callbacks.recording(results));
    assertEquals(10, Await.waiting(fixture.auth));

    BlockingQueue<Object> overflow = new LinkedBlockingQueue<>();
    api.normal(99).enqueue(Callbacks.recording(overflow));
    IOException sync = assertThrows(IOException.class, () -> api.normal(100).execute());

    String message = "Retry queue is full: 10 calls are waiting (maxQueuedCalls)";
    assertEquals(message, ((IOException) overflow.poll(30, TimeUnit.SECONDS)).getMessage());
    assertEquals(message, sync.getMessage());
    assertEquals(10, Await.waiting(fixture.auth));
    refreshApi.release();
    for (int i = 0; i < 9; i++) {
      Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
      assertEquals(200, ((Response<?>) result[1]).code());
    }
  }

  @Test
  void rejectedRefreshWithThousandQueuedCallsGivesOneSignOut() throws Exception {
    start(RefreshManager.builder().queueMode(true));
    BlockingQueue<Object> first = startHeldRefresh();
    refreshApi.answer(
        current -> {
          throw new RefreshRejectedException("revoked");
        });
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < 1_000; i++) api.normal(i).enqueue(Callbacks.recording(results));
    Await.until("queued", () -> Await.waiting(fixture.auth) == 1_001);

    refreshApi.release();

    for (int i = 0; i < 1_000; i++) {
      Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
      assertEquals(401, ((Response<?>) result[1]).code());
    }
    assertEquals(401, ((Response<?>) ((Object[]) first.poll(30, TimeUnit.SECONDS))[1]).code());
    assertEquals(Collections.singletonList("signedOut REFRESH_REJECTED"), listener.events);
    assertNull(fixture.auth.currentTokens());
  }

  @Test
  void signOutFailsEveryQueuedCallOnce() throws Exception {
    start(RefreshManager.builder().queueMode(true));
    BlockingQueue<Object> first = startHeldRefresh();
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < 50; i++) api.normal(i).enqueue(Callbacks.recording(results));
    Await.until("queued", () -> Await.waiting(fixture.auth) == 51);

    fixture.auth.signOut();

    for (int i = 0; i < 50; i++) {
      assertEquals(
          "Canceled: signed out while waiting for a token refresh",
          ((IOException) results.poll(30, TimeUnit.SECONDS)).getMessage());
    }
    // The call that had a 401 gets it back.
    assertEquals(401, ((Response<?>) ((Object[]) first.poll(30, TimeUnit.SECONDS))[1]).code());
    assertEquals(Collections.singletonList("signedOut SIGN_OUT_CALLED"), listener.events);
    assertEquals(0, Await.waiting(fixture.auth));
    refreshApi.release();
    assertNull(results.poll(50, TimeUnit.MILLISECONDS));
    assertEquals(0, fixture.server.count("Bearer new"));
  }

  @Test
  void syncCallerBlocksUntilItsRetryWhichRunsOnDispatcher() throws Exception {
    start(RefreshManager.builder().queueMode(true));
    List<String> retryThreads = new CopyOnWriteArrayList<>();
    OkHttpClient recording =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain -> {
                  okhttp3.Response response = chain.proceed(chain.request());
                  if ("Bearer new".equals(response.request().header("Authorization"))) {
                    retryThreads.add(Thread.currentThread().getName());
                  }
                  return response;
                })
            .addInterceptor(fixture.auth.interceptor())
            .build();
    Api recorded = fixture.retrofit.newBuilder().client(recording).build().create(Api.class);
    fixture.server.acceptOnly("other");

    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          Thread.currentThread().setName("sync-caller");
          Response<String> response = recorded.me().execute();
          assertEquals("ok /api/me", response.body());
        });

    assertEquals(1, retryThreads.size());
    assertFalse(retryThreads.get(0).equals("sync-caller"), retryThreads.toString());
    assertTrue(retryThreads.get(0).startsWith("OkHttp "), retryThreads.toString());
  }

  @Test
  void snapshotDescribesWaitingCallsWithoutTokens() throws Exception {
    start(RefreshManager.builder().queueMode(true));
    startHeldRefresh();
    now.addAndGet(1_000);
    api.feed(7).enqueue(Callbacks.recording(new LinkedBlockingQueue<>()));
    api.high(8).enqueue(Callbacks.recording(new LinkedBlockingQueue<>()));
    now.addAndGet(250);

    List<QueuedCall> snapshot = fixture.auth.queuedCalls();

    assertEquals(3, snapshot.size());
    assertEquals(
        "QueuedCall{method=Api.me, group=null, priority=0, waitingMillis=1250, "
            + "refreshPending=true}",
        snapshot.get(0).toString());
    assertEquals("Api.feed", snapshot.get(1).method());
    assertEquals("feed", snapshot.get(1).group());
    assertEquals(0, snapshot.get(1).priority());
    assertEquals(250, snapshot.get(1).waitingMillis());
    assertEquals(10, snapshot.get(2).priority());
    assertFalse(snapshot.toString().contains("old"));
    refreshApi.release();
  }

  // ---- The core scenarios, in both modes. ----

  @ParameterizedTest(name = "queueMode={0}")
  @ValueSource(booleans = {false, true})
  void stale401NeedsNoRefresh(boolean queueMode) throws Exception {
    start(RefreshManager.builder().queueMode(queueMode));
    CountDownLatch arrived = fixture.server.closeGate(1);
    fixture.server.acceptOnly("new");
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    api.me().enqueue(Callbacks.recording(results));
    assertTrue(arrived.await(30, TimeUnit.SECONDS));
    fixture.auth.signIn(Tokens.of("new", "r2"));
    fixture.server.openGate();

    Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);

    assertEquals("ok /api/me", ((Response<?>) result[1]).body());
    assertEquals(0, refreshApi.calls.get());
    assertEquals(1, fixture.auth.stats().stale401s());
  }

  @ParameterizedTest(name = "queueMode={0}")
  @ValueSource(booleans = {false, true})
  void transientFailureFailsWithCauseAndKeepsTokens(boolean queueMode) throws Exception {
    start(RefreshManager.builder().queueMode(queueMode));
    fixture.server.acceptOnly("other");
    IOException down = new IOException("down");
    refreshApi.answer(
        current -> {
          throw down;
        });

    IOException e = assertThrows(IOException.class, () -> api.me().execute());

    assertSame(down, e.getCause());
    assertEquals(Tokens.of("old", "r1"), fixture.auth.currentTokens());
  }

  @ParameterizedTest(name = "queueMode={0}")
  @ValueSource(booleans = {false, true})
  void eachCallIsRetriedOnceAtMost(boolean queueMode) throws Exception {
    start(RefreshManager.builder().queueMode(queueMode));
    fixture.server.acceptOnly("nobody");
    refreshApi.answer(current -> Tokens.of("new", "r2"));
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();

    api.me().enqueue(Callbacks.recording(results));
    Response<String> sync = api.me().execute();

    assertEquals(401, sync.code());
    assertEquals(401, ((Response<?>) ((Object[]) results.poll(30, TimeUnit.SECONDS))[1]).code());
    assertEquals(4, fixture.server.requests.size());
    assertEquals(
        Arrays.asList(2, 2),
        Arrays.asList(fixture.server.count("Bearer old"), fixture.server.count("Bearer new")));
  }
}
