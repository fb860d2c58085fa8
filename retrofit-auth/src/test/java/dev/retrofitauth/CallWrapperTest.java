package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Response;

/**
 * The wrapping call behaves like a Retrofit call: clone, cancel, interrupt, and a loud failure when
 * the interceptor is missing or misplaced.
 */
final class CallWrapperTest extends AuthCallFixture {
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
    canceled.enqueue(Callbacks.recording(first));
    api.me().enqueue(Callbacks.recording(second));
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
    unwired.me().enqueue(Callbacks.recording(results));
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
}
