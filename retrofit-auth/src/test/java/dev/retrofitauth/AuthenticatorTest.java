package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/** RefreshManager#authenticator() gives plain OkHttp calls the same refresh. */
final class AuthenticatorTest {
  private GatedRefreshApi refreshApi;
  private Fixture fixture;
  private OkHttpClient client;

  @BeforeEach
  void setUp() throws IOException {
    refreshApi =
        new GatedRefreshApi(
            current -> {
              fixture.server.acceptOnly("new");
              return Tokens.of("new", "r2");
            });
    fixture = Fixture.create(RefreshManager.builder().refreshApi(refreshApi));
    client = fixture.client.newBuilder().authenticator(fixture.auth.authenticator()).build();
    fixture.auth.servedBy(fixture.server.server.url("/")); // As the fixture's Retrofit does.
    fixture.server.acceptOnly("other");
  }

  @AfterEach
  void tearDown() throws IOException {
    fixture.close();
  }

  /** Enqueues a plain OkHttp call; completes with its status code. */
  private CompletableFuture<Integer> enqueuePlain(String path) {
    CompletableFuture<Integer> result = new CompletableFuture<>();
    client
        .newCall(plain(path))
        .enqueue(
            new Callback() {
              @Override
              public void onFailure(Call call, IOException e) {
                result.completeExceptionally(e);
              }

              @Override
              public void onResponse(Call call, Response response) {
                response.close();
                result.complete(response.code());
              }
            });
    return result;
  }

  private Request plain(String path) {
    return new Request.Builder().url(fixture.server.httpUrl(path)).build();
  }

  @Test
  void plainCallRefreshesAndRetriesOnce() throws Exception {
    try (Response response = client.newCall(plain("/img")).execute()) {
      assertEquals(200, response.code());
    }
    assertEquals(1, refreshApi.calls.get());
    assertEquals(Arrays.asList("Bearer old", "Bearer new"), authorizations());
  }

  @Test
  void retryThatStillGets401IsFinal() throws Exception {
    refreshApi.answer(current -> Tokens.of("still-wrong", "r2"));

    try (Response response = client.newCall(plain("/img")).execute()) {
      assertEquals(401, response.code());
    }
    assertEquals(1, refreshApi.calls.get());
    assertEquals(2, fixture.server.requests.size());
  }

  @Test
  void plainAndRetrofitCallsShareOneRefresh() throws Exception {
    refreshApi.hold();
    // A Retrofit instance without the factory relies on the authenticator alone.
    Api bare =
        new Retrofit.Builder()
            .baseUrl(fixture.server.url("/"))
            .client(client)
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);
    Api wrapped = fixture.retrofit.newBuilder().client(client).build().create(Api.class);
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    java.util.concurrent.CountDownLatch arrived = fixture.server.closeGate(3);
    CompletableFuture<Integer> plainResult = enqueuePlain("/img");
    bare.me().enqueue(Callbacks.recording(results));
    wrapped.me().enqueue(Callbacks.recording(results));
    assertTrue(arrived.await(30, TimeUnit.SECONDS)); // All three were sent with "old".
    fixture.server.openGate();
    Await.until("three wait", () -> Await.waiting(fixture.auth) == 3);

    refreshApi.release();

    assertEquals(200, plainResult.get(30, TimeUnit.SECONDS));
    for (int i = 0; i < 2; i++) {
      Object[] result = (Object[]) results.poll(30, TimeUnit.SECONDS);
      assertEquals(200, ((retrofit2.Response<?>) result[1]).code());
    }
    assertEquals(1, refreshApi.calls.get());
    assertEquals(3, fixture.server.count("Bearer old"));
    assertEquals(3, fixture.server.count("Bearer new")); // Each retried once, not twice.
  }

  @Test
  void noRetryMethodIsHonoured() throws Exception {
    Api bare =
        new Retrofit.Builder()
            .baseUrl(fixture.server.url("/"))
            .client(client)
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);

    assertEquals(401, bare.poll().execute().code());
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void otherOriginIsNeverRefreshedNorGivenToken() throws Exception {
    MockWebServer other = new MockWebServer();
    other.enqueue(new MockResponse().setResponseCode(401));
    other.start();
    try (Response response =
        client.newCall(new Request.Builder().url(other.url("/x")).build()).execute()) {
      assertEquals(401, response.code());
      assertEquals(null, other.takeRequest().getHeader("Authorization"));
      assertEquals(1, other.getRequestCount());
    } finally {
      other.shutdown();
    }
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void stale401RetriesWithoutRefresh() throws Exception {
    java.util.concurrent.CountDownLatch arrived = fixture.server.closeGate(1);
    CompletableFuture<Integer> result = enqueuePlain("/img");
    assertTrue(arrived.await(30, TimeUnit.SECONDS));
    fixture.server.acceptOnly("fresh");
    fixture.auth.signIn(Tokens.of("fresh", "r5"));
    fixture.server.openGate();

    assertEquals(200, result.get(30, TimeUnit.SECONDS));
    assertEquals(0, refreshApi.calls.get());
    assertEquals(1, fixture.auth.stats().stale401s());
  }

  private List<String> authorizations() {
    return fixture.server.requests.stream()
        .map(r -> r.getHeader("Authorization"))
        .collect(java.util.stream.Collectors.toList());
  }
}
