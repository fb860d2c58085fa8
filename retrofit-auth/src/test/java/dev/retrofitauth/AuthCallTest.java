package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import dev.retrofitauth.Services.NoRetryApi;
import dev.retrofitauth.Services.PublicApi;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.RequestBody;
import okio.BufferedSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;

final class AuthCallTest {
  private final RecordingListener listener = new RecordingListener();
  private final RecordingStore store = new RecordingStore();
  private GatedRefreshApi refreshApi;
  private Fixture fixture;
  private Api api;

  @BeforeEach
  void setUp() throws IOException {
    refreshApi =
        new GatedRefreshApi(
            current -> {
              fixture.server.acceptOnly("new");
              return Tokens.of("new", "r2");
            });
    fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .tokenStore(store)
                .addListener(listener));
    api = fixture.create(Api.class);
  }

  @AfterEach
  void tearDown() throws IOException {
    fixture.close();
  }

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

    call.enqueue(recordingCallback(results));

    Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
    assertSame(call, result[0]);
    assertEquals("ok /api/me", ((Response<?>) result[1]).body());
    assertEquals(1, refreshApi.calls.get());
  }

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

    assertEquals("Token refresh failed", e.getMessage());
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

    assertEquals("RefreshApi threw java.lang.IllegalStateException", e.getCause().getMessage());
    assertSame(bug, e.getCause().getCause());
    assertEquals(Tokens.of("old", "r1"), fixture.auth.currentTokens());
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
    for (int i = 0; i < 10; i++) api.me().enqueue(recordingCallback(results));
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
  void forbiddenNeverRefreshes() throws Exception {
    fixture.server.forceCode(403);

    Response<String> response = api.me().execute();

    assertEquals(403, response.code());
    assertEquals(0, refreshApi.calls.get());
    assertEquals(1, fixture.server.requests.size());
  }

  @Test
  void noAuthMethodNeverSeesTokenAndPasses401Through() throws Exception {
    Response<String> response = api.open().execute();

    assertEquals(401, response.code());
    assertNull(fixture.server.requests.get(0).getHeader("Authorization"));
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void noAuthInterfaceNeverSeesToken() throws Exception {
    Response<String> response = fixture.create(PublicApi.class).open().execute();

    assertEquals(401, response.code());
    assertNull(fixture.server.requests.get(0).getHeader("Authorization"));
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void noRetryMethodSendsTokenButPasses401Through() throws Exception {
    fixture.server.acceptOnly("other");

    Response<String> response = api.poll().execute();

    assertEquals(401, response.code());
    assertEquals(Arrays.asList("Bearer old"), authorizations());
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void noRetryInterfaceSendsTokenButPasses401Through() throws Exception {
    fixture.server.acceptOnly("other");

    Response<String> response = fixture.create(NoRetryApi.class).poll().execute();

    assertEquals(401, response.code());
    assertEquals(Arrays.asList("Bearer old"), authorizations());
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void oneShotBodyPasses401Through() throws Exception {
    fixture.server.acceptOnly("other");
    RequestBody oneShot =
        new RequestBody() {
          @Override
          public MediaType contentType() {
            return MediaType.get("text/plain");
          }

          @Override
          public void writeTo(BufferedSink sink) throws IOException {
            sink.writeUtf8("once");
          }

          @Override
          public boolean isOneShot() {
            return true;
          }
        };

    Response<String> response = api.upload(oneShot).execute();

    assertEquals(401, response.code());
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void repeatableBodyIsSentAgain() throws Exception {
    fixture.server.acceptOnly("other");

    Response<String> response =
        api.upload(RequestBody.create("twice", MediaType.get("text/plain"))).execute();

    assertEquals(200, response.code());
    assertEquals("twice", fixture.server.requests.get(1).getBody().readUtf8());
  }

  @Test
  void stale401RetriesWithCurrentTokenWithoutRefresh() throws Exception {
    CountDownLatch arrived = fixture.server.closeGate(1);
    fixture.server.acceptOnly("new");
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    api.me().enqueue(recordingCallback(results));
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
    api.me().enqueue(recordingCallback(results));
    refreshApi.awaitEntered();

    api.me().enqueue(recordingCallback(results)); // Starts while the refresh is running.
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
    api.me().enqueue(recordingCallback(results));
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
    api.me().enqueue(recordingCallback(results));
    refreshApi.awaitEntered();

    fixture.server.acceptOnly("signed-in");
    fixture.auth.signIn(Tokens.of("signed-in", "r9"));
    Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
    assertEquals("ok /api/me", ((Response<?>) result[1]).body());
    refreshApi.release(); // Its "new" tokens arrive late and are discarded.

    Await.until("refresh returned", () -> refreshApi.calls.get() == 1);
    assertEquals(Tokens.of("signed-in", "r9"), fixture.auth.currentTokens());
  }

  @Test
  void missingInterceptorFailsLoudly() throws Exception {
    OkHttpClient bare = new OkHttpClient();
    Api unwired = fixture.retrofit.newBuilder().client(bare).build().create(Api.class);

    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> unwired.me().execute());

    assertEquals(
        "The request was sent without passing through auth.interceptor(). Add it to the "
            + "OkHttpClient that Retrofit uses: new OkHttpClient.Builder()"
            + ".addInterceptor(auth.interceptor())",
        e.getMessage());
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    unwired.me().enqueue(recordingCallback(results));
    assertTrue(results.poll(30, TimeUnit.SECONDS) instanceof IllegalStateException);
  }

  @Test
  void networkInterceptorFailsWithFix() {
    OkHttpClient wrong =
        new OkHttpClient.Builder().addNetworkInterceptor(fixture.auth.interceptor()).build();
    Api api = fixture.retrofit.newBuilder().client(wrong).build().create(Api.class);

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> api.me().execute());

    assertEquals(
        "auth.interceptor() was added as a network interceptor. Add it with "
            + "OkHttpClient.Builder.addInterceptor(auth.interceptor()) instead of "
            + "addNetworkInterceptor(...).",
        e.getMessage());
  }

  @Test
  void callerHeaderIsKeptAndItsUnauthorizedPassesThrough() throws Exception {
    Api custom =
        fixture
            .retrofit
            .newBuilder()
            .client(
                new OkHttpClient.Builder()
                    .addInterceptor(
                        chain ->
                            chain.proceed(
                                chain
                                    .request()
                                    .newBuilder()
                                    .header("Authorization", "Basic abc")
                                    .build()))
                    .addInterceptor(fixture.auth.interceptor())
                    .build())
            .build()
            .create(Api.class);

    Response<String> response = custom.me().execute();

    assertEquals(401, response.code());
    assertEquals(Arrays.asList("Basic abc"), authorizations());
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void wrapperBehavesLikeRetrofitCall() throws Exception {
    Call<String> call = api.me();
    assertFalse(call.isExecuted());
    assertEquals("/api/me", call.request().url().encodedPath());
    assertEquals(0, call.timeout().timeoutNanos());

    call.execute();

    assertTrue(call.isExecuted());
    IllegalStateException e = assertThrows(IllegalStateException.class, call::execute);
    assertEquals("Already executed.", e.getMessage());
    Call<String> clone = call.clone();
    assertNotSame(call, clone);
    assertFalse(clone.isExecuted());
    assertEquals(200, clone.execute().code());
  }

  @Test
  void cancelBeforeExecuteFails() {
    Call<String> call = api.me();
    call.cancel();

    assertTrue(call.isCanceled());
    IOException e = assertThrows(IOException.class, call::execute);
    assertEquals("Canceled", e.getMessage());
  }

  @Test
  void cancelingWaitingCallFailsOnlyItAndRefreshCompletes() throws Exception {
    fixture.server.acceptOnly("other");
    refreshApi.hold();
    BlockingQueue<Object> first = new LinkedBlockingQueue<>();
    BlockingQueue<Object> second = new LinkedBlockingQueue<>();
    Call<String> canceled = api.me();
    canceled.enqueue(recordingCallback(first));
    api.me().enqueue(recordingCallback(second));
    Await.until("both wait", () -> Await.waiting(fixture.auth) == 2);

    canceled.cancel();

    Object failure = first.poll(30, TimeUnit.SECONDS);
    assertEquals("Canceled", ((IOException) failure).getMessage());
    assertTrue(canceled.isCanceled());
    refreshApi.release();
    Object[] result = (Object[]) second.poll(30, TimeUnit.SECONDS);
    assertEquals("ok /api/me", ((Response<?>) result[1]).body());
    assertEquals(Tokens.of("new", "r2"), fixture.auth.currentTokens());
    assertNull(first.poll(100, TimeUnit.MILLISECONDS)); // Exactly one callback.
    assertEquals(1, fixture.server.count("Bearer new")); // The canceled call was not retried.
  }

  @Test
  void interruptingWaitingSyncCallCancelsOnlyIt() throws Exception {
    fixture.server.acceptOnly("other");
    refreshApi.hold();
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    Thread caller =
        new Thread(
            () -> {
              try {
                results.add(api.me().execute());
              } catch (IOException e) {
                results.add(e);
              }
            });
    caller.start();
    Await.until("call waits", () -> Await.waiting(fixture.auth) == 1);

    caller.interrupt();

    Object result = results.poll(30, TimeUnit.SECONDS);
    assertEquals(
        "interrupted while waiting for a token refresh", ((IOException) result).getMessage());
    refreshApi.release();
    Await.until("refreshed", () -> fixture.auth.stats().refreshesSucceeded() == 1);
    assertEquals(Tokens.of("new", "r2"), fixture.auth.currentTokens());
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

  private List<String> authorizations() {
    return fixture.server.requests.stream()
        .map(r -> r.getHeader("Authorization"))
        .collect(java.util.stream.Collectors.toList());
  }

  /** Records {@code {call, response}} on success and the throwable on failure. */
  static <T> Callback<T> recordingCallback(BlockingQueue<Object> results) {
    return new Callback<T>() {
      @Override
      public void onResponse(Call<T> call, Response<T> response) {
        results.add(new Object[] {call, response});
      }

      @Override
      public void onFailure(Call<T> call, Throwable t) {
        results.add(t);
      }
    };
  }
}
