package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Callback;
import retrofit2.Response;

/** The engine's part of the second hardening round: each test failed on the code before it. */
final class EngineHardeningTest {
  private final RecordingListener listener = new RecordingListener();
  private final AtomicLong now = new AtomicLong(1_000_000L);
  private @Nullable Fixture fixture;

  @AfterEach
  void close() throws IOException {
    if (fixture != null) fixture.close();
  }

  /** A 429 with an absurd Retry-After blocked refreshing for 3,000 years (item 5). */
  @Test
  void retryAfterIsCappedAtOneHourByDefault() throws Exception {
    GatedRefreshApi refreshApi =
        GatedRefreshApi.throwing(
            RefreshFailedException.retryAfter("slow down", 99_999_999_999L, TimeUnit.SECONDS));
    fixture = Fixture.create(RefreshManager.builder().refreshApi(refreshApi).clock(now::get));
    fixture.server.acceptOnly("new");
    Api api = fixture.create(Api.class);
    assertThrows(IOException.class, () -> api.me().execute());

    now.addAndGet(TimeUnit.MINUTES.toMillis(59));
    assertThrows(IOException.class, () -> api.me().execute()); // Fails fast: still waiting.
    assertEquals(1, refreshApi.calls.get());

    now.addAndGet(TimeUnit.MINUTES.toMillis(1) + 1);
    refreshApi.answer(current -> Tokens.of("new", "r2"));
    assertEquals(200, api.me().execute().code());
    assertEquals(2, refreshApi.calls.get());
  }

  /** {@code Long.MAX_VALUE} overflowed to no wait at all; it is capped too, and configurable. */
  @Test
  void retryAfterOfLongMaxValueIsCappedWithoutOverflow() throws Exception {
    GatedRefreshApi refreshApi =
        GatedRefreshApi.throwing(
            RefreshFailedException.retryAfter("slow down", Long.MAX_VALUE, TimeUnit.MILLISECONDS));
    fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .clock(now::get)
                .maxRetryAfter(Duration.ofMinutes(5)));
    fixture.server.acceptOnly("new");
    Api api = fixture.create(Api.class);
    assertThrows(IOException.class, () -> api.me().execute());

    now.addAndGet(TimeUnit.MINUTES.toMillis(4));
    assertThrows(IOException.class, () -> api.me().execute());
    assertEquals(1, refreshApi.calls.get());

    now.addAndGet(TimeUnit.MINUTES.toMillis(1) + 1);
    refreshApi.answer(current -> Tokens.of("new", "r2"));
    assertEquals(200, api.me().execute().code());
  }

  /**
   * A token endpoint that never finishes kept the first refresh running, and every later call
   * failed fast for good (item 6). Now it is abandoned at twice the refresh timeout: its thread is
   * interrupted, and the next 401 refreshes again.
   */
  @Test
  void refreshThatNeverEndsIsAbandonedAtTwiceTheTimeout() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () -> {
          CountDownLatch interrupted = new CountDownLatch(1);
          AtomicInteger calls = new AtomicInteger();
          RefreshApi refreshApi =
              current -> {
                if (calls.incrementAndGet() > 1) return Tokens.of("new", "r2");
                try {
                  new CountDownLatch(1).await(); // The endpoint never answers.
                  throw new AssertionError("unreachable");
                } catch (InterruptedException e) {
                  interrupted.countDown();
                  throw new InterruptedIOException("interrupted");
                }
              };
          fixture =
              Fixture.create(
                  RefreshManager.builder()
                      .refreshApi(refreshApi)
                      .refreshBackoff(0, 0, TimeUnit.MILLISECONDS)
                      .refreshTimeout(100, TimeUnit.MILLISECONDS)
                      .addListener(listener));
          fixture.server.acceptOnly("new");
          listener.events.clear();
          Api api = fixture.create(Api.class);

          IOException timedOut = assertThrows(IOException.class, () -> api.me().execute());
          assertEquals("token refresh timed out after 100 ms", timedOut.getCause().getMessage());
          assertTrue(interrupted.await(10, TimeUnit.SECONDS), "the refresh was interrupted");

          assertEquals(200, api.me().execute().code());
          assertEquals(2, calls.get());
          assertEquals(Tokens.of("new", "r2"), fixture.auth.currentTokens());
          assertEquals(Arrays.asList("refreshFailed", "refreshed"), listener.events);
        });
  }

  /** With expires_in 10 and the 30 s leeway, every call refreshed (item 7). */
  @Test
  void tokenThatLivesShorterThanTheLeewayIsNotRefreshedOnEveryCall() throws Exception {
    GatedRefreshApi refreshApi =
        new GatedRefreshApi(current -> Tokens.of("old", "r1", now.get() + 10_000));
    fixture = Fixture.create(RefreshManager.builder().refreshApi(refreshApi).clock(now::get));
    fixture.auth.signIn(Tokens.of("old", "r1", now.get() + 10_000));
    Api api = fixture.create(Api.class);

    for (int i = 0; i < 20; i++) assertEquals(200, api.me().execute().code());
    assertEquals(0, refreshApi.calls.get());

    now.addAndGet(5_000); // Half the lifetime left: the leeway for this token.
    assertEquals(200, api.me().execute().code());
    assertEquals(1, refreshApi.calls.get());
  }

  /** The timeout of a refresh that signIn() replaced still reported a failure (item 8). */
  @Test
  void supersededRefreshReportsNoTimeout() throws Exception {
    GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("third", "r3")).hold();
    fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .refreshTimeout(200, TimeUnit.MILLISECONDS)
                .addListener(listener));
    fixture.server.acceptOnly("third");
    listener.events.clear();
    Api api = fixture.create(Api.class);
    List<Object> results = new CopyOnWriteArrayList<>();
    api.me().enqueue(recording(results));
    refreshApi.awaitEntered();
    fixture.auth.signIn(Tokens.of("second", "r2")); // Supersedes the first refresh.
    // "second" gets a 401 too: a second refresh starts, later than the first, and times out.
    api.me().enqueue(recording(results));
    Await.until("both calls ended", () -> results.size() == 2);
    // The single timer thread runs the first refresh's timeout, were it still set, before the
    // second's: by now it would have been reported.
    assertEquals(Arrays.asList("signedIn", "refreshFailed"), listener.events);
    refreshApi.release();
  }

  /**
   * With maxQueuedCalls(2), a stale 401 joined the retry queue before the bound was checked, so a
   * third call waited ("outside check of the documented contract").
   */
  @Test
  void staleUnauthorizedRespectsMaxQueuedCalls() throws Exception {
    GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r2")).hold();
    SingleFlight engine =
        new SingleFlight(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .queueMode(true)
                .maxConcurrentRetries(1)
                .maxQueuedCalls(2)
                .config(),
            new Listeners(new AuthListener[0]));
    engine.changeSession(Tokens.of("a", "r1"));
    HeldWaiter busy = new HeldWaiter(); // A stale 401 whose retry holds the only slot.
    engine.onUnauthorized("Bearer stale", busy);
    assertTrue(busy.slot.get() != null, "the first retry runs");
    HeldWaiter first = new HeldWaiter();
    HeldWaiter second = new HeldWaiter();
    engine.onUnauthorized("Bearer a", first); // Starts the refresh.
    engine.onUnauthorized("Bearer a", second);
    HeldWaiter third = new HeldWaiter();
    engine.onUnauthorized("Bearer stale", third);

    assertEquals("Retry queue is full: 2 calls are waiting (maxQueuedCalls)", third.failure.get());
    assertEquals(2, Await.waiting(engine));
    refreshApi.release();
    busy.finish();
    Await.until("both retried", () -> first.slot.get() != null || second.slot.get() != null);
  }

  /**
   * auth.authenticator() with a RefreshApi that enqueue()s a call through the same client and one
   * request per host: the refresh waited for the dispatcher slot that the waiting request held,
   * until refreshTimeout (item 10). A call that the RefreshApi enqueues through the factory now
   * runs on the refresh thread.
   */
  @Test
  void authenticatorWithEnqueueingRefreshApiAndOneSlotPerHost() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(15),
        () -> {
          AtomicReference<Api> tokenApi = new AtomicReference<>();
          RefreshApi refreshApi =
              current -> {
                CountDownLatch answered = new CountDownLatch(1);
                tokenApi
                    .get()
                    .open()
                    .enqueue(
                        new Callback<String>() {
                          @Override
                          public void onResponse(
                              retrofit2.Call<String> call, Response<String> response) {
                            answered.countDown();
                          }

                          @Override
                          public void onFailure(retrofit2.Call<String> call, Throwable t) {
                            answered.countDown();
                          }
                        });
                try {
                  if (!answered.await(60, TimeUnit.SECONDS)) throw new IOException("no answer");
                } catch (InterruptedException e) {
                  throw new InterruptedIOException();
                }
                return Tokens.of("new", "r2");
              };
          Dispatcher dispatcher = new Dispatcher();
          dispatcher.setMaxRequestsPerHost(1);
          fixture =
              Fixture.create(
                  RefreshManager.builder().refreshApi(refreshApi),
                  new OkHttpClient.Builder().dispatcher(dispatcher));
          OkHttpClient client =
              fixture.client.newBuilder().authenticator(fixture.auth.authenticator()).build();
          // The same Retrofit, on the client with the authenticator; it validates its methods
          // eagerly, so the factory allows its origin before the first call.
          tokenApi.set(
              fixture
                  .retrofit
                  .newBuilder()
                  .client(client)
                  .validateEagerly(true)
                  .build()
                  .create(Api.class));
          fixture.server.acceptOnly("new");

          java.util.concurrent.CompletableFuture<Integer> code =
              new java.util.concurrent.CompletableFuture<>();
          client
              .newCall(new Request.Builder().url(fixture.server.url("/img")).build())
              .enqueue(
                  new okhttp3.Callback() {
                    @Override
                    public void onFailure(okhttp3.Call call, IOException e) {
                      code.completeExceptionally(e);
                    }

                    @Override
                    public void onResponse(okhttp3.Call call, okhttp3.Response response) {
                      code.complete(response.code());
                      response.close();
                    }
                  });
          assertEquals(200, code.get(10, TimeUnit.SECONDS));
        });
  }

  /**
   * The same stall with a RefreshApi that enqueues a plain OkHttp call, which no factory can run
   * elsewhere: the request fails at refreshTimeout with a message that names the cause and the fix.
   */
  @Test
  void authenticatorStallOnPlainEnqueueSaysWhy() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(15),
        () -> {
          AtomicReference<OkHttpClient> shared = new AtomicReference<>();
          AtomicReference<ApiServer> server = new AtomicReference<>();
          RefreshApi refreshApi =
              current -> {
                CountDownLatch answered = new CountDownLatch(1);
                shared
                    .get()
                    .newCall(new Request.Builder().url(server.get().url("/token")).build())
                    .enqueue(
                        new okhttp3.Callback() {
                          @Override
                          public void onFailure(okhttp3.Call call, IOException e) {
                            answered.countDown();
                          }

                          @Override
                          public void onResponse(okhttp3.Call call, okhttp3.Response response) {
                            response.close();
                            answered.countDown();
                          }
                        });
                try {
                  if (!answered.await(60, TimeUnit.SECONDS)) throw new IOException("no answer");
                } catch (InterruptedException e) {
                  throw new InterruptedIOException();
                }
                return Tokens.of("new", "r2");
              };
          Dispatcher dispatcher = new Dispatcher();
          dispatcher.setMaxRequestsPerHost(1);
          fixture =
              Fixture.create(
                  RefreshManager.builder()
                      .refreshApi(refreshApi)
                      .refreshTimeout(300, TimeUnit.MILLISECONDS),
                  new OkHttpClient.Builder().dispatcher(dispatcher));
          server.set(fixture.server);
          OkHttpClient client =
              fixture.client.newBuilder().authenticator(fixture.auth.authenticator()).build();
          shared.set(client);
          fixture.auth.servedBy(fixture.server.server.url("/"));
          fixture.server.acceptOnly("new");

          java.util.concurrent.CompletableFuture<IOException> failure =
              new java.util.concurrent.CompletableFuture<>();
          client
              .newCall(new Request.Builder().url(fixture.server.url("/img")).build())
              .enqueue(
                  new okhttp3.Callback() {
                    @Override
                    public void onFailure(okhttp3.Call call, IOException e) {
                      failure.complete(e);
                    }

                    @Override
                    public void onResponse(okhttp3.Call call, okhttp3.Response response) {
                      response.close();
                      failure.completeExceptionally(new AssertionError("not stalled"));
                    }
                  });
          IOException e = failure.get(10, TimeUnit.SECONDS);
          assertEquals(
              "Token refresh failed: it did not end within refreshTimeout while"
                  + " auth.authenticator() held this request's OkHttp dispatcher thread. A"
                  + " RefreshApi that enqueue()s on the same OkHttpClient waits for that"
                  + " thread's slot: call execute() in it, or go through a Retrofit with"
                  + " AuthCallAdapterFactory.",
              e.getMessage());
        });
  }

  private static Callback<String> recording(List<Object> results) {
    return new Callback<String>() {
      @Override
      public void onResponse(retrofit2.Call<String> call, Response<String> response) {
        results.add(response.code());
      }

      @Override
      public void onFailure(retrofit2.Call<String> call, Throwable t) {
        results.add(t);
      }
    };
  }

  /** A waiter whose retry holds its queue slot until the test finishes it. */
  private static final class HeldWaiter extends Waiter {
    final AtomicReference<@Nullable Runnable> slot = new AtomicReference<>();
    final AtomicReference<@Nullable String> failure = new AtomicReference<>();

    HeldWaiter() {
      super(true, MethodPolicy.DEFAULT);
    }

    @Override
    void proceed(@Nullable Runnable retryEnded) {
      this.slot.set(retryEnded);
    }

    @Override
    void passThrough() {
      failure.set("passed through");
    }

    @Override
    void fail(IOException e) {
      failure.set(e.getMessage());
    }

    void finish() {
      Runnable held = slot.get();
      if (held != null) held.run();
    }
  }
}
