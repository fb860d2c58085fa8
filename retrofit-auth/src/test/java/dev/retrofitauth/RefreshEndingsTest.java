package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import retrofit2.Response;

/**
 * How the calls that waited end when the refresh does not succeed: rejected, failed, failing fast,
 * impossible, or superseded by a sign-in or sign-out.
 */
final class RefreshEndingsTest extends AuthCallFixture {
  @Test
  void rejectedRefreshClearsTokensAndReturnsOriginal401() throws Exception {
    fixture.server.acceptOnly("other");
    refreshApi.answer(
        current -> {
          throw new RefreshRejectedException("revoked");
        });

    Response<String> response = api.me().execute();

    assertEquals(401, response.code());
    assertEquals("unauthorized", response.errorBody().string());
    assertNull(fixture.auth.currentTokens());
    assertNull(store.load());
    assertEquals(Arrays.asList("save", "clear"), store.writes); // Sign-in, then cleared once.
    assertEquals(Arrays.asList("signedIn", "signedOut REFRESH_REJECTED"), listener.events);
    assertEquals(Arrays.asList("Bearer old"), authorizations());
    // Signed out: the next call goes without a token.
    api.me().execute();
    assertNull(fixture.server.requests.get(1).getHeader("Authorization"));
  }

  @Test
  void transientFailureKeepsTokensAndFailsWithCause() throws Exception {
    fixture.server.acceptOnly("other");
    IOException cause = new IOException("token endpoint down");
    refreshApi.answer(
        current -> {
          throw cause;
        });

    IOException e = assertThrows(IOException.class, () -> api.me().execute());

    assertEquals("Token refresh failed: " + cause.getMessage(), e.getMessage());
    assertSame(cause, e.getCause());
    assertEquals(Tokens.of("old", "r1"), fixture.auth.currentTokens());
    assertEquals(Tokens.of("old", "r1"), store.load());
    assertEquals(Arrays.asList("save"), store.writes); // Only the sign-in wrote.
    assertEquals(Arrays.asList("signedIn", "refreshFailed"), listener.events);
    assertSame(cause, listener.causes.get(0));
  }

  @Test
  void runtimeExceptionFromRefreshApiIsTransientFailure() throws Exception {
    fixture.server.acceptOnly("other");
    IllegalStateException bug = new IllegalStateException("bug in user code");
    refreshApi.answer(
        current -> {
          throw bug;
        });

    IOException e = assertThrows(IOException.class, () -> api.me().execute());

    // The top-level message carries the useful part: what the user's code threw, and why.
    assertEquals(
        "Token refresh failed: RefreshApi threw java.lang.IllegalStateException: bug in user code",
        e.getMessage());
    assertEquals(
        "RefreshApi threw java.lang.IllegalStateException: bug in user code",
        e.getCause().getMessage());
    assertSame(bug, e.getCause().getCause());
    assertEquals(Tokens.of("old", "r1"), fixture.auth.currentTokens());
  }

  @Test
  void failuresAreNotCached() throws Exception {
    fixture.close();
    fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .refreshBackoff(0, 0, TimeUnit.MILLISECONDS));
    api = fixture.create(Api.class);
    fixture.server.acceptOnly("other");
    refreshApi.answer(
        current -> {
          throw new IOException("down");
        });
    assertThrows(IOException.class, () -> api.me().execute());
    refreshApi.answer(
        current -> {
          fixture.server.acceptOnly("new");
          return Tokens.of("new", "r2");
        });

    Response<String> response = api.me().execute();

    assertEquals(200, response.code());
    assertEquals(2, refreshApi.calls.get());
  }

  @Test
  void backoffFailsFastUntilIntervalPasses() throws Exception {
    AtomicInteger now = new AtomicInteger(1_000);
    fixture.close();
    fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .clock(now::get)
                .refreshBackoff(10, 100, TimeUnit.SECONDS));
    api = fixture.create(Api.class);
    fixture.server.acceptOnly("other");
    IOException cause = new IOException("down");
    refreshApi.answer(
        current -> {
          throw cause;
        });
    assertThrows(IOException.class, () -> api.me().execute());

    now.addAndGet(7_999); // Less than 80% of 10 s: still inside any jittered interval.
    IOException fast = assertThrows(IOException.class, () -> api.me().execute());
    assertSame(cause, fast.getCause());
    assertEquals(1, refreshApi.calls.get());

    now.addAndGet(2_001); // 10 s after the failure: the interval is over.
    assertThrows(IOException.class, () -> api.me().execute());
    assertEquals(2, refreshApi.calls.get());
  }

  @Test
  void noRefreshApiPasses401ThroughAndTellsListenerOnce() throws Exception {
    fixture.close();
    fixture = Fixture.create(RefreshManager.builder().addListener(listener));
    api = fixture.create(Api.class);
    listener.events.clear();
    fixture.server.acceptOnly("other");

    assertEquals(401, api.me().execute().code());
    assertEquals(401, api.me().execute().code());

    // The tokens are kept, so this is not a sign-out.
    assertEquals(Arrays.asList("noRefreshPossible"), listener.events);
    assertEquals(Tokens.of("old", "r1"), fixture.auth.currentTokens());
  }

  @Test
  void noRefreshTokenCanClearTokensWhenAsked() throws Exception {
    fixture.close();
    fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .clearTokensWhenUnrefreshable(true)
                .addListener(listener));
    fixture.auth.signIn(Tokens.of("old"));
    api = fixture.create(Api.class);
    listener.events.clear();
    fixture.server.acceptOnly("other");

    assertEquals(401, api.me().execute().code());

    assertNull(fixture.auth.currentTokens());
    assertEquals(Arrays.asList("signedOut NO_REFRESH_POSSIBLE"), listener.events);
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void signOutDuringRefreshDiscardsResultAndPassesWaiters401() throws Exception {
    fixture.server.acceptOnly("other");
    refreshApi.hold();
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    api.me().enqueue(Callbacks.recording(results));
    refreshApi.awaitEntered();

    fixture.auth.signOut();
    Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
    assertEquals(401, ((Response<?>) result[1]).code());
    refreshApi.release();

    Await.until("refresh finished", () -> Await.waiting(fixture.auth) == 0);
    Await.until("refresh returned", () -> fixture.auth.stats().refreshesStarted() == 1);
    assertNull(fixture.auth.currentTokens());
    assertEquals(0, fixture.auth.stats().refreshesSucceeded());
  }

  @Test
  void signInDuringRefreshWinsAndWaitersUseItsToken() throws Exception {
    fixture.server.acceptOnly("other");
    refreshApi.hold();
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    api.me().enqueue(Callbacks.recording(results));
    refreshApi.awaitEntered();

    fixture.server.acceptOnly("signed-in");
    fixture.auth.signIn(Tokens.of("signed-in", "r9"));
    Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
    assertEquals("ok /api/me", ((Response<?>) result[1]).body());
    refreshApi.release(); // Its "new" tokens arrive late and are discarded.

    Await.until("refresh returned", () -> refreshApi.calls.get() == 1);
    assertEquals(Tokens.of("signed-in", "r9"), fixture.auth.currentTokens());
  }
}
