package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Response;

/** Expiry-aware refresh, backoff, timeouts and the listener, driven by an injected clock. */
final class LifecycleTest {
  private static final long T0 = 1_000_000_000_000L;

  private final AtomicLong now = new AtomicLong(T0);
  private final RecordingListener listener = new RecordingListener();
  private GatedRefreshApi refreshApi;
  private Fixture fixture;

  @AfterEach
  void tearDown() throws IOException {
    if (fixture != null) fixture.close();
  }

  private Api start(RefreshManager.Builder builder, Tokens tokens) throws IOException {
    refreshApi =
        new GatedRefreshApi(
            current -> {
              fixture.server.acceptOnly("new");
              return Tokens.of("new", "r2", now.get() + 3_600_000);
            });
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequestsPerHost(1_000);
    dispatcher.setMaxRequests(1_000);
    fixture =
        Fixture.create(
            builder.refreshApi(refreshApi).clock(now::get).addListener(listener),
            new OkHttpClient.Builder().dispatcher(dispatcher));
    fixture.auth.signIn(tokens);
    listener.events.clear();
    return fixture.create(Api.class);
  }

  @Test
  void tokenInsideLeewayIsRefreshedBeforeSendAndNoExpiredTokenIsSent() throws Exception {
    Api api =
        start(
            RefreshManager.builder().expiryLeeway(30, TimeUnit.SECONDS),
            Tokens.of("old", "r1", T0 + 3_600_000));
    assertEquals(200, api.me().execute().code()); // An hour left: sent as it is.

    now.set(T0 + 3_600_000 - 29_999); // 29.999 s left: inside the leeway.
    Response<String> response = api.me().execute();

    assertEquals(200, response.code());
    assertEquals(1, refreshApi.calls.get());
    assertEquals(Arrays.asList("Bearer old", "Bearer new"), authorizations());
  }

  @Test
  void stormAtExpirySharesOneProactiveRefreshAndSendsNoExpiredToken() throws Exception {
    Api api = start(RefreshManager.builder(), Tokens.of("old", "r1", T0));
    refreshApi.hold();
    now.set(T0 + 1); // Expired.
    int calls = 200;
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < calls; i++) api.me().enqueue(Callbacks.recording(results));
    Await.until("all wait", () -> Await.waiting(fixture.auth) == calls);

    refreshApi.release();

    for (int i = 0; i < calls; i++) {
      Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
      assertEquals(200, ((Response<?>) result[1]).code());
    }
    assertEquals(0, fixture.server.count("Bearer old"));
    assertEquals(calls, fixture.server.count("Bearer new"));
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void tokenWithoutExpiryIsNeverRefreshedAhead() throws Exception {
    Api api = start(RefreshManager.builder(), Tokens.of("old", "r1"));
    now.set(Long.MAX_VALUE / 2);

    assertEquals(200, api.me().execute().code());

    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void failedProactiveRefreshSendsWithOldTokenWhileItIsValid() throws Exception {
    Api api = start(RefreshManager.builder(), Tokens.of("old", "r1", T0 + 10_000));
    IOException down = new IOException("down");
    refreshApi.answer(
        current -> {
          throw down;
        });

    // A token that lives 10 s: a 0.8 s margin, its last 0.4 s the leeway; 9.7 s in, inside it.
    now.set(T0 + 9_700);
    Response<String> response = api.me().execute(); // Inside the leeway, not yet expired.

    assertEquals(200, response.code());
    assertEquals(Arrays.asList("Bearer old"), authorizations());
    assertEquals(Arrays.asList("refreshFailed"), listener.events);
  }

  @Test
  void failedProactiveRefreshFailsCallWhenTokenHasExpired() throws Exception {
    Api api = start(RefreshManager.builder(), Tokens.of("old", "r1", T0 - 1));
    IOException down = new IOException("down");
    refreshApi.answer(
        current -> {
          throw down;
        });

    IOException e = assertThrows(IOException.class, () -> api.me().execute());

    assertSame(down, e.getCause());
    assertEquals(0, fixture.server.requests.size());
  }

  @Test
  void backoffGrowsWithFailuresInARowAndSuccessResetsIt() throws Exception {
    Api api =
        start(
            RefreshManager.builder().refreshBackoff(10, 100, TimeUnit.SECONDS),
            Tokens.of("old", "r1"));
    fixture.server.acceptOnly("other");
    IOException down = new IOException("down");
    refreshApi.answer(
        current -> {
          throw down;
        });
    assertThrows(IOException.class, () -> api.me().execute()); // Failure 1: 8 to 10 s.
    now.addAndGet(10_000);
    assertThrows(IOException.class, () -> api.me().execute()); // Failure 2: 16 to 20 s.
    assertEquals(2, refreshApi.calls.get());
    now.addAndGet(15_999);
    assertThrows(IOException.class, () -> api.me().execute());
    assertEquals(2, refreshApi.calls.get()); // Still backing off: the interval grew.

    now.addAndGet(4_001);
    refreshApi.answer(
        current -> {
          fixture.server.acceptOnly("new");
          return Tokens.of("new", "r2");
        });
    assertEquals(200, api.me().execute().code()); // Success resets the backoff...
    fixture.server.acceptOnly("gone");
    refreshApi.answer(
        current -> {
          throw down;
        });
    assertThrows(IOException.class, () -> api.me().execute()); // ...so this failure waits 8-10 s.
    now.addAndGet(10_000);
    assertThrows(IOException.class, () -> api.me().execute());
    assertEquals(5, refreshApi.calls.get());
  }

  @Test
  void retryAfterFromRefreshApiHoldsOffNextRefresh() throws Exception {
    Api api =
        start(
            RefreshManager.builder().refreshBackoff(1, 1, TimeUnit.SECONDS),
            Tokens.of("old", "r1"));
    fixture.server.acceptOnly("other");
    refreshApi.answer(
        current -> {
          throw RefreshFailedException.retryAfter("slow down", 2, TimeUnit.MINUTES);
        });
    assertThrows(IOException.class, () -> api.me().execute());

    now.addAndGet(TimeUnit.SECONDS.toMillis(119)); // Past the backoff, not past Retry-After.
    assertThrows(IOException.class, () -> api.me().execute());
    assertEquals(1, refreshApi.calls.get());

    now.addAndGet(TimeUnit.SECONDS.toMillis(1));
    assertThrows(IOException.class, () -> api.me().execute());
    assertEquals(2, refreshApi.calls.get());
  }

  @Test
  void permanentFailureNeverLoopsUntilSignIn() throws Exception {
    Api api = start(RefreshManager.builder(), Tokens.of("old", "r1"));
    fixture.server.acceptOnly("other");
    RefreshFailedException misconfigured = RefreshFailedException.permanent("invalid_client");
    refreshApi.answer(
        current -> {
          throw misconfigured;
        });

    for (int i = 0; i < 5; i++) {
      IOException e = assertThrows(IOException.class, () -> api.me().execute());
      assertSame(misconfigured, e.getCause());
      now.addAndGet(TimeUnit.DAYS.toMillis(1));
    }

    assertEquals(1, refreshApi.calls.get());
    assertEquals(Tokens.of("old", "r1"), fixture.auth.currentTokens()); // No token lost.
    fixture.auth.signIn(Tokens.of("other", "r3"));
    assertEquals(200, api.me().execute().code());
  }

  @Test
  void refreshTimeoutFailsWaitersButKeepsLateResult() throws Exception {
    Api api =
        start(
            RefreshManager.builder().refreshTimeout(200, TimeUnit.MILLISECONDS),
            Tokens.of("old", "r1"));
    fixture.server.acceptOnly("other");
    refreshApi.hold();

    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          IOException e = assertThrows(IOException.class, () -> api.me().execute());
          assertTrue(e.getCause() instanceof InterruptedIOException, String.valueOf(e.getCause()));
          assertEquals("token refresh timed out after 200 ms", e.getCause().getMessage());
          // While the timed-out refresh still runs, no second one starts.
          assertThrows(IOException.class, () -> api.me().execute());
          assertEquals(1, refreshApi.calls.get());
        });

    refreshApi.release(); // The late answer rotated the token: it must not be lost.
    Await.until("late refresh saved", () -> fixture.auth.stats().refreshesSucceeded() == 1);
    assertEquals("new", fixture.auth.currentTokens().accessToken());
    assertEquals(200, api.me().execute().code());
    assertEquals(Arrays.asList("refreshFailed", "refreshed"), listener.events);
  }

  @Test
  void thousandWaitersOnRejectedRefreshHearOneSignOut() throws Exception {
    Api api = start(RefreshManager.builder(), Tokens.of("old", "r1"));
    fixture.server.acceptOnly("other");
    refreshApi.hold();
    refreshApi.answer(
        current -> {
          throw new RefreshRejectedException("revoked");
        });
    int calls = 1_000;
    CountDownLatch done = new CountDownLatch(calls);
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < calls; i++) api.me().enqueue(Callbacks.recording(results));
    Await.until("all wait", () -> Await.waiting(fixture.auth) == calls);

    refreshApi.release();

    for (int i = 0; i < calls; i++) {
      Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
      assertEquals(401, ((Response<?>) result[1]).code());
      done.countDown();
    }
    assertEquals(Collections.singletonList("signedOut REFRESH_REJECTED"), listener.events);
    assertNull(fixture.auth.currentTokens());
    assertEquals(1, fixture.auth.stats().refreshesRejected());
  }

  @Test
  void statsCountWhatHappened() throws Exception {
    Api api = start(RefreshManager.builder(), Tokens.of("old", "r1"));
    fixture.server.acceptOnly("other");
    api.me().execute();

    RefreshManager.Stats stats = fixture.auth.stats();

    assertEquals(1, stats.refreshesStarted());
    assertEquals(1, stats.refreshesSucceeded());
    assertEquals(0, stats.refreshesRejected());
    assertEquals(0, stats.refreshesFailed());
    assertEquals(1, stats.retries());
    assertEquals(0, stats.callsWaitingForRefresh());
    assertEquals(
        "Stats{refreshesStarted=1, refreshesSucceeded=1, refreshesRejected=0, refreshesFailed=0, "
            + "stale401s=0, retries=1, callsWaitingForRefresh=0, callsWaitingForRetrySlot=0}",
        stats.toString());
  }

  @Test
  void listenerThatThrowsDoesNotBreakCalls() throws Exception {
    java.util.List<Throwable> uncaught = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.ExecutorService refreshThreads =
        java.util.concurrent.Executors.newSingleThreadExecutor(
            r -> {
              Thread thread = new Thread(r, "refresh");
              thread.setUncaughtExceptionHandler((t, e) -> uncaught.add(e));
              return thread;
            });
    Api api =
        start(
            RefreshManager.builder()
                .refreshExecutor(refreshThreads)
                .addListener(
                    new AuthListener() {
                      @Override
                      public void onRefreshed() {
                        throw new IllegalStateException("listener bug");
                      }
                    }),
            Tokens.of("old", "r1"));
    fixture.server.acceptOnly("other");

    assertEquals(200, api.me().execute().code());
    assertEquals(Arrays.asList("refreshed"), listener.events); // Later listeners still hear it.
    // Not swallowed: the refresh thread's uncaught-exception handler gets it, after the others.
    assertEquals(1, uncaught.size());
    assertEquals("listener bug", uncaught.get(0).getMessage());
    refreshThreads.shutdown();
  }

  /** A listener's exception used to be swallowed with nothing logged. */
  @Test
  void listenerExceptionReachesTheThreadsUncaughtExceptionHandler() throws Exception {
    start(RefreshManager.builder(), Tokens.of("old", "r1"));
    RecordingListener second = new RecordingListener();
    RefreshManager auth =
        RefreshManager.builder()
            .addListener(
                new AuthListener() {
                  @Override
                  public void onSignedIn() {
                    throw new IllegalStateException("first listener bug");
                  }
                })
            .addListener(second)
            .build();
    java.util.List<Throwable> uncaught = new java.util.concurrent.CopyOnWriteArrayList<>();
    Thread thread = Thread.currentThread();
    Thread.UncaughtExceptionHandler previous = thread.getUncaughtExceptionHandler();
    thread.setUncaughtExceptionHandler((t, e) -> uncaught.add(e));
    try {
      auth.signIn(Tokens.of("a", "r"));
    } finally {
      thread.setUncaughtExceptionHandler(previous);
    }
    assertEquals(Arrays.asList("signedIn"), second.events);
    assertEquals(1, uncaught.size());
    assertEquals("first listener bug", uncaught.get(0).getMessage());
  }

  private java.util.List<String> authorizations() {
    return fixture.server.requests.stream()
        .map(r -> r.getHeader("Authorization"))
        .collect(java.util.stream.Collectors.toList());
  }
}
