package dev.retrofitauth.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * Two managers in one JVM, each with its own store instance and Redis connection, as two processes
 * would have, sharing one Redis key, over real HTTP. Concurrent 401s on both make one refresh
 * request: one manager refreshes inside the lease, the other waits for the lease, reads the store
 * and adopts the new tokens.
 */
final class TwoManagersTest {
  private static final int CALLS_PER_MANAGER = 25;

  interface Service {
    @GET("api/me")
    Call<String> me();
  }

  private TestRedis redis;
  private RotatingTokenServer server;
  private final OkHttpClient plain = new OkHttpClient();

  @BeforeEach
  void start() throws IOException {
    redis = TestRedis.start();
    server = new RotatingTokenServer();
  }

  @AfterEach
  void stop() throws IOException {
    server.close();
    redis.close();
    plain.dispatcher().executorService().shutdown();
    plain.connectionPool().evictAll();
  }

  private RedisTokenStore store() {
    return RedisTokenStore.builder(redis.connect()).key("test:tokens:two-managers").build();
  }

  /** Exchanges the refresh token at the server's token endpoint, as an app's RefreshApi would. */
  private RefreshApi refreshApi() {
    return current -> {
      Request request =
          new Request.Builder()
              .url(server.server.url("/token"))
              .post(
                  RequestBody.create(
                      String.valueOf(current.refreshToken()), MediaType.get("text/plain")))
              .build();
      try (Response response = plain.newCall(request).execute()) {
        if (response.code() == 400) throw new RefreshRejectedException("invalid_grant");
        if (!response.isSuccessful()) throw new IOException("HTTP " + response.code());
        String[] tokens = response.body().string().split(" ");
        return Tokens.of(tokens[0], tokens[1]);
      }
    };
  }

  private Service service(RefreshManager auth) {
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    client.dispatcher().setMaxRequestsPerHost(CALLS_PER_MANAGER);
    return new Retrofit.Builder()
        .baseUrl(server.server.url("/"))
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
        .addConverterFactory(ScalarsConverterFactory.create())
        .build()
        .create(Service.class);
  }

  private static List<CompletableFuture<Integer>> calls(Service service, int count) {
    List<CompletableFuture<Integer>> results = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      CompletableFuture<Integer> result = new CompletableFuture<>();
      service
          .me()
          .enqueue(
              new Callback<String>() {
                @Override
                public void onResponse(Call<String> call, retrofit2.Response<String> response) {
                  result.complete(response.code());
                }

                @Override
                public void onFailure(Call<String> call, Throwable t) {
                  result.completeExceptionally(t);
                }
              });
      results.add(result);
    }
    return results;
  }

  @Test
  void concurrent401sOnTwoManagersMakeOneRefreshPerExpiry() throws Exception {
    RefreshManager a =
        RefreshManager.builder().tokenStore(store()).refreshApi(refreshApi()).build();
    a.signIn(Tokens.of(server.access(), server.refresh()));
    RefreshManager b =
        RefreshManager.builder().tokenStore(store()).refreshApi(refreshApi()).build();
    assertEquals(Tokens.of("access-0", "refresh-0"), b.currentTokens(), "b loads a's sign-in");
    Service serviceA = service(a);
    Service serviceB = service(b);

    for (int round = 1; round <= 3; round++) {
      server.expire();
      server.closeGate();
      List<CompletableFuture<Integer>> results = new ArrayList<>();
      results.addAll(calls(serviceA, CALLS_PER_MANAGER));
      results.addAll(calls(serviceB, CALLS_PER_MANAGER));

      // One manager's refresh is at the token endpoint; hold it there until every call of both
      // managers got its 401 and waits, the other manager's behind the lease.
      server.awaitTokenRequest();
      await(
          "every call waits for a refresh",
          () ->
              a.stats().callsWaitingForRefresh() + b.stats().callsWaitingForRefresh()
                  == 2 * CALLS_PER_MANAGER);
      server.openGate();

      for (CompletableFuture<Integer> result : results) {
        assertEquals(200, result.get(30, TimeUnit.SECONDS));
      }
      assertEquals(round, server.tokenRequests.get(), "one refresh request per expiry");
      assertEquals(0, server.reusedRefreshTokens.get());
      Tokens expected = Tokens.of("access-" + round, "refresh-" + round);
      assertEquals(expected, a.currentTokens());
      assertEquals(expected, b.currentTokens());
      assertEquals(expected, store().load());
    }
  }

  @Test
  void redisAwayFailsCallsClearlyWithinTheTimeoutAndTheNextExpiryWorks() throws Exception {
    RedisTokenStore storeA = fastStore();
    RedisTokenStore storeB = fastStore();
    RefreshManager a = fastManager(storeA);
    a.signIn(Tokens.of(server.access(), server.refresh()));
    RefreshManager b = fastManager(storeB);
    Service serviceA = service(a);
    Service serviceB = service(b);

    redis.pause(); // Hung: connections stay open, nothing answers.
    server.expire();
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          List<CompletableFuture<Integer>> results = new ArrayList<>();
          results.addAll(calls(serviceA, 5));
          results.addAll(calls(serviceB, 5));
          for (CompletableFuture<Integer> result : results) {
            ExecutionException e =
                assertThrows(ExecutionException.class, () -> result.get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IOException, String.valueOf(e.getCause()));
            assertTrue(
                causes(e.getCause())
                    .contains(
                        "taking the lease test:tokens:two-managers:lease: no answer from Redis"
                            + " within 250 ms"),
                causes(e.getCause()));
          }
        });
    assertEquals(0, server.tokenRequests.get(), "no refresh without the lease");
    assertEquals(Tokens.of("access-0", "refresh-0"), a.currentTokens(), "tokens kept");
    assertEquals(Tokens.of("access-0", "refresh-0"), b.currentTokens(), "tokens kept");

    redis.resume();
    List<CompletableFuture<Integer>> results = new ArrayList<>();
    results.addAll(calls(serviceA, 5));
    results.addAll(calls(serviceB, 5));
    for (CompletableFuture<Integer> result : results) {
      assertEquals(200, result.get(30, TimeUnit.SECONDS));
    }
    assertEquals(1, server.tokenRequests.get());
    assertEquals(0, server.reusedRefreshTokens.get());
    assertEquals(Tokens.of("access-1", "refresh-1"), storeA.load());
  }

  /**
   * Redis without persistence loses the session when it restarts. The manager that comes to refresh
   * finds the shared store empty and takes that as a sign-out elsewhere.
   */
  @Test
  void redisRestartedEmptySignsTheManagersOut() throws Exception {
    RedisTokenStore storeA = fastStore();
    RefreshManager a = fastManager(storeA);
    a.signIn(Tokens.of(server.access(), server.refresh()));
    Service serviceA = service(a);

    redis.stopServer();
    redis.startServer();
    awaitReconnected(storeA);
    server.expire();
    for (CompletableFuture<Integer> result : calls(serviceA, 5)) {
      assertEquals(401, result.get(30, TimeUnit.SECONDS));
    }
    assertEquals(0, server.tokenRequests.get());
    assertNull(a.currentTokens());
  }

  /** Lettuce reconnects each connection by itself; until it has, a load fails in 250 ms. */
  private static void awaitReconnected(RedisTokenStore store) throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        store.load();
        return;
      } catch (IOException e) {
        if (attempt == 20) throw e;
      }
    }
  }

  private RefreshManager fastManager(RedisTokenStore store) {
    return RefreshManager.builder()
        .tokenStore(store)
        .refreshApi(refreshApi())
        .refreshTimeout(5, TimeUnit.SECONDS)
        .refreshBackoff(0, 0, TimeUnit.MILLISECONDS)
        .build();
  }

  private RedisTokenStore fastStore() {
    return RedisTokenStore.builder(redis.connect())
        .key("test:tokens:two-managers")
        .timeout(250, TimeUnit.MILLISECONDS)
        .build();
  }

  private static String causes(Throwable e) {
    StringBuilder messages = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) messages.append(t).append('\n');
    return messages.toString();
  }

  /** Waits for {@code condition} with a deadline, checking every millisecond. */
  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting: " + what);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }
}
