package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.RecordedRequest;
import okhttp3.mockwebserver.SocketPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import retrofit2.Response;

/** Faults on the API side of a refresh. */
final class ApiFaultsTest {
  private GatedRefreshApi refreshApi;
  private Fixture fixture;

  @AfterEach
  void tearDown() throws IOException {
    if (fixture != null) fixture.close();
  }

  private Api start(ApiServer server) throws IOException {
    return start(server, new okhttp3.OkHttpClient.Builder());
  }

  private Api start(ApiServer server, okhttp3.OkHttpClient.Builder clientBuilder)
      throws IOException {
    refreshApi =
        new GatedRefreshApi(
            current -> {
              server.acceptOnly("new");
              return Tokens.of("new", "r2");
            });
    RefreshManager auth = RefreshManager.builder().refreshApi(refreshApi).build();
    auth.signIn(Tokens.of("old", "r1"));
    fixture = new Fixture(server, auth, clientBuilder.addInterceptor(auth.interceptor()).build());
    return fixture.create(Api.class);
  }

  @Test
  void retryFailureReachesCallerOnceAsItIs() throws Exception {
    AtomicInteger retries = new AtomicInteger();
    Api api =
        start(
            new ApiServer("nobody") {
              @Override
              MockResponse respond(RecordedRequest request, String authorization) {
                if ("Bearer new".equals(authorization)) {
                  retries.incrementAndGet();
                  return new MockResponse().setSocketPolicy(SocketPolicy.DISCONNECT_AFTER_REQUEST);
                }
                return super.respond(request, authorization);
              }
            },
            // Surface the dropped connection instead of letting OkHttp try a fresh one.
            new okhttp3.OkHttpClient.Builder().retryOnConnectionFailure(false));

    IOException sync = assertThrows(IOException.class, () -> api.me().execute());
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    fixture.auth.signIn(Tokens.of("old", "r1"));
    api.me().enqueue(Callbacks.recording(results));

    assertTrue(results.poll(30, TimeUnit.SECONDS) instanceof IOException);
    assertNull(results.poll(100, TimeUnit.MILLISECONDS)); // Once.
    // The retry's own failure, not wrapped as a refresh failure.
    assertTrue(sync.getMessage().startsWith("unexpected end of stream"), sync.getMessage());
    assertEquals(2, retries.get()); // Each call's retry went out once, and was not repeated.
    assertEquals(2, refreshApi.calls.get());
  }

  @Test
  void droppedConnectionsWhileWaitingDoNotAffectWaiters() throws Exception {
    Api api = start(new ApiServer("other"));
    refreshApi.hold();
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < 10; i++) api.me().enqueue(Callbacks.recording(results));
    Await.until("all wait", () -> Await.waiting(fixture.auth) == 10);

    // Every pooled connection is dropped while the calls wait.
    fixture.client.connectionPool().evictAll();
    assertEquals(0, fixture.client.connectionPool().connectionCount());
    refreshApi.release();

    for (int i = 0; i < 10; i++) {
      Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
      assertEquals(200, ((Response<?>) result[1]).code());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"Bearer error=\"invalid_token\", error_description=\"expired\"", ""})
  void unauthorizedWithOrWithoutChallengeRefreshes(String challenge) throws Exception {
    Api api =
        start(
            new ApiServer("other") {
              @Override
              MockResponse respond(RecordedRequest request, String authorization) {
                MockResponse response = super.respond(request, authorization);
                if (!challenge.isEmpty() && response.getStatus().contains("401")) {
                  response.setHeader("WWW-Authenticate", challenge);
                }
                return response;
              }
            });

    assertEquals(200, api.me().execute().code());
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void forbiddenWithInsufficientScopeNeverRefreshes() throws Exception {
    Api api =
        start(
            new ApiServer("old") {
              @Override
              MockResponse respond(RecordedRequest request, String authorization) {
                return new MockResponse()
                    .setResponseCode(403)
                    .setHeader("WWW-Authenticate", "Bearer error=\"insufficient_scope\"");
              }
            });

    assertEquals(403, api.me().execute().code());
    assertEquals(0, refreshApi.calls.get());
    assertEquals(1, fixture.server.requests.size());
  }
}
