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
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Callback;
import retrofit2.Response;

/**
 * The time limits of a refresh hold: a server's {@code Retry-After} is capped, a refresh that never
 * ends is abandoned at twice the timeout, a short-lived token is not refreshed on every call, and a
 * superseded refresh reports no timeout.
 */
final class TimeLimitsTest {
  private final RecordingListener listener = new RecordingListener();
  private final AtomicLong now = new AtomicLong(1_000_000L);
  private @Nullable Fixture fixture;

  @AfterEach
  void close() throws IOException {
    if (fixture != null) fixture.close();
  }

  /** A 429 with an absurd Retry-After blocked refreshing for 3,000 years. */
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
   * failed fast for good. Now it is abandoned at twice the refresh timeout: its thread is
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

  /** With expires_in 10 and the 30 s leeway, every call refreshed. */
  @Test
  void tokenThatLivesShorterThanTheLeewayIsNotRefreshedOnEveryCall() throws Exception {
    GatedRefreshApi refreshApi =
        new GatedRefreshApi(current -> Tokens.of("old", "r1", now.get() + 10_000));
    fixture = Fixture.create(RefreshManager.builder().refreshApi(refreshApi).clock(now::get));
    fixture.auth.signIn(Tokens.of("old", "r1", now.get() + 10_000));
    Api api = fixture.create(Api.class);

    for (int i = 0; i < 20; i++) assertEquals(200, api.me().execute().code());
    assertEquals(0, refreshApi.calls.get());

    now.addAndGet(9_700); // 0.3 s left: inside this token's leeway (0.4 s of its 0.8 s margin).
    assertEquals(200, api.me().execute().code());
    assertEquals(1, refreshApi.calls.get());
  }

  /** The timeout of a refresh that signIn() replaced still reported a failure. */
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
}
