package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Response;

/**
 * A 401 makes the call wait for one shared refresh and sends it again once with the new token; a
 * stale 401 retries at once, and a call made during a refresh waits for it.
 */
final class RetryOnceTest extends AuthCallFixture {
  @Test
  void attachesBearerToken() throws Exception {
    Response<String> response = api.me().execute();

    assertEquals(200, response.code());
    assertEquals("Bearer old", fixture.server.requests.get(0).getHeader("Authorization"));
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void unauthorizedRefreshesOnceAndRetriesWithNewToken() throws Exception {
    fixture.server.acceptOnly("other"); // "old" is now dead.
    refreshApi.answer(
        current -> {
          fixture.server.acceptOnly("new");
          return Tokens.of("new", "r2");
        });

    Response<String> response = api.me().execute();

    assertEquals(200, response.code());
    assertEquals("ok /api/me", response.body());
    assertEquals(1, refreshApi.calls.get());
    assertEquals(Tokens.of("old", "r1"), refreshApi.presented.get(0));
    assertEquals(Arrays.asList("Bearer old", "Bearer new"), authorizations());
    assertEquals(Tokens.of("new", "r2"), fixture.auth.currentTokens());
    assertEquals(Tokens.of("new", "r2"), store.load());
    assertEquals(Arrays.asList("signedIn", "refreshed"), listener.events);
    assertEquals(1, fixture.auth.stats().retries());
  }

  @Test
  void refreshRunsOnManagerExecutorNotCallerThread() throws Exception {
    fixture.server.acceptOnly("other");

    api.me().execute();

    assertTrue(
        refreshApi.threads.get(0).startsWith("retrofit-auth refresh"),
        refreshApi.threads.toString());
  }

  @Test
  void retryThatStillGets401IsReturnedWithoutSecondRefresh() throws Exception {
    fixture.server.acceptOnly("nobody");
    refreshApi.answer(current -> Tokens.of("new", "r2")); // The server still refuses "new".

    Response<String> response = api.me().execute();

    assertEquals(401, response.code());
    assertEquals(1, refreshApi.calls.get());
    assertEquals(Arrays.asList("Bearer old", "Bearer new"), authorizations());
  }

  @Test
  void asyncUnauthorizedRefreshesAndDeliversRetryToWrapper() throws Exception {
    fixture.server.acceptOnly("other");
    Call<String> call = api.me();
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();

    call.enqueue(Callbacks.recording(results));

    Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
    assertSame(call, result[0]);
    assertEquals("ok /api/me", ((Response<?>) result[1]).body());
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void refreshedTokensAreSavedBeforeAnyWaiterIsReleased() throws Exception {
    List<Long> retriesWhenSaved = new java.util.concurrent.CopyOnWriteArrayList<>();
    RefreshManager[] manager = new RefreshManager[1];
    TokenStore checking =
        new TokenStore() {
          private volatile Tokens tokens;

          @Override
          public Tokens load() {
            return tokens;
          }

          @Override
          public void save(Tokens tokens) {
            if (tokens.accessToken().equals("new"))
              retriesWhenSaved.add(manager[0].stats().retries());
            this.tokens = tokens;
          }

          @Override
          public void clear() {
            tokens = null;
          }
        };
    fixture.close();
    fixture = Fixture.create(RefreshManager.builder().refreshApi(refreshApi).tokenStore(checking));
    manager[0] = fixture.auth;
    api = fixture.create(Api.class);
    fixture.server.acceptOnly("other");
    refreshApi.hold();
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < 10; i++) api.me().enqueue(Callbacks.recording(results));
    Await.until("all wait", () -> Await.waiting(fixture.auth) == 10);

    refreshApi.release();

    for (int i = 0; i < 10; i++) assertTrue(results.poll(30, TimeUnit.SECONDS) instanceof Object[]);
    assertEquals(Arrays.asList(0L), retriesWhenSaved); // No call had been released yet.
  }

  @Test
  void refreshWithoutNewRefreshTokenKeepsOldOne() throws Exception {
    fixture.server.acceptOnly("other");
    refreshApi.answer(
        current -> {
          fixture.server.acceptOnly("new");
          return Tokens.of("new");
        });

    api.me().execute();

    assertEquals(Tokens.of("new", "r1"), fixture.auth.currentTokens());
  }

  @Test
  void stale401RetriesWithCurrentTokenWithoutRefresh() throws Exception {
    CountDownLatch arrived = fixture.server.closeGate(1);
    fixture.server.acceptOnly("new");
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    api.me().enqueue(Callbacks.recording(results));
    assertTrue(arrived.await(30, TimeUnit.SECONDS));
    // Another call's refresh finished while this one was on the wire with "old".
    fixture.auth.signIn(Tokens.of("new", "r2"));
    fixture.server.openGate();

    Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);

    assertEquals("ok /api/me", ((Response<?>) result[1]).body());
    assertEquals(0, refreshApi.calls.get());
    assertEquals(1, fixture.auth.stats().stale401s());
    assertEquals(Arrays.asList("Bearer old", "Bearer new"), authorizations());
  }

  @Test
  void callStartedDuringRefreshWaitsAndIsSentOnceWithNewToken() throws Exception {
    fixture.server.acceptOnly("other");
    refreshApi.hold();
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    api.me().enqueue(Callbacks.recording(results));
    refreshApi.awaitEntered();

    api.me().enqueue(Callbacks.recording(results)); // Starts while the refresh is running.
    Await.until("second call waits", () -> Await.waiting(fixture.auth) == 2);
    assertEquals(1, fixture.server.requests.size()); // It was not sent with the dead token.
    refreshApi.release();

    results.poll(30, TimeUnit.SECONDS);
    results.poll(30, TimeUnit.SECONDS);
    assertEquals(1, fixture.server.count("Bearer old"));
    assertEquals(2, fixture.server.count("Bearer new"));
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void refreshApiCallThatGets401PassesThroughInsteadOfWaitingForItself() throws Exception {
    fixture.server.acceptOnly("other");
    refreshApi.answer(
        current -> {
          // Wrongly not @NoAuth: its 401 must come back instead of waiting for this refresh.
          Response<String> response = api.me().execute();
          throw new RefreshRejectedException("refresh endpoint said " + response.code());
        });

    Response<String> response = api.me().execute();

    assertEquals(401, response.code());
    assertEquals(1, refreshApi.calls.get());
    assertNull(fixture.auth.currentTokens());
  }
}
