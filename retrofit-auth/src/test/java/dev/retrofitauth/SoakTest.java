package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.http.GET;

/**
 * Many expiry cycles of concurrent mixed calls against a server that rotates refresh tokens and
 * counts any presented twice. CI runs a short version; {@code mvn -B verify -Pstress} runs 100
 * cycles of 200 calls ({@code -Dretrofitauth.soakCycles}, {@code -Dretrofitauth.soakCalls}).
 */
final class SoakTest {
  private static final int CYCLES = Integer.getInteger("retrofitauth.soakCycles", 10);
  private static final int CALLS = Integer.getInteger("retrofitauth.soakCalls", 60);

  interface Api {
    @GET("api/item")
    Call<String> item();

    @GET("api/item")
    CompletableFuture<String> itemFuture();
  }

  @Test
  void everyCycleRefreshesOnceAndLosesNothing() throws Exception {
    Set<String> liveAccess = ConcurrentHashMap.newKeySet();
    Set<String> liveRefresh = ConcurrentHashMap.newKeySet();
    Set<String> presented = ConcurrentHashMap.newKeySet();
    AtomicInteger presentedTwice = new AtomicInteger();
    AtomicInteger refreshes = new AtomicInteger();
    ApiServer server =
        new ApiServer("unused") {
          @Override
          MockResponse respond(RecordedRequest request, String authorization) {
            if (request.getPath().startsWith("/token")) {
              String refresh = request.getBody().readUtf8();
              if (!presented.add(refresh)) presentedTwice.incrementAndGet();
              if (!liveRefresh.remove(refresh)) return new MockResponse().setResponseCode(400);
              refreshes.incrementAndGet();
              return new MockResponse().setBody(issue(liveAccess, liveRefresh));
            }
            boolean ok = authorization != null && liveAccess.contains(authorization.substring(7));
            return ok ? new MockResponse().setBody("ok") : new MockResponse().setResponseCode(401);
          }
        };
    server.recording = false;
    okhttp3.OkHttpClient tokenClient = new OkHttpClient();
    RefreshManager auth =
        RefreshManager.builder()
            .refreshApi(
                current -> {
                  try (okhttp3.Response r =
                      tokenClient
                          .newCall(
                              new okhttp3.Request.Builder()
                                  .url(server.httpUrl("/token"))
                                  .post(okhttp3.RequestBody.create(current.refreshToken(), null))
                                  .build())
                          .execute()) {
                    if (r.code() == 400) throw new RefreshRejectedException("reused");
                    String[] parts = r.body().string().split(" ");
                    return Tokens.of(parts[0], parts[1]);
                  }
                })
            .build();
    auth.signIn(tokens(issue(liveAccess, liveRefresh)));
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(CALLS);
    dispatcher.setMaxRequestsPerHost(CALLS);
    Fixture fixture =
        new Fixture(
            server,
            auth,
            new OkHttpClient.Builder()
                .dispatcher(dispatcher)
                .addInterceptor(auth.interceptor())
                .build());
    Api api = fixture.create(Api.class);
    ExecutorService syncCallers = Executors.newFixedThreadPool(16);
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    int[] warmThreads = {0};
    long[] warmOurs = {0};
    long[] warmHeap = {0};
    AtomicInteger succeeded = new AtomicInteger();
    try {
      assertTimeoutPreemptively(
          Duration.ofMinutes(10),
          () -> {
            for (int cycle = 0; cycle < CYCLES; cycle++) {
              liveAccess.clear(); // The access token expires.
              CountDownLatch done = new CountDownLatch(CALLS);
              for (int i = 0; i < CALLS; i++) {
                switch (i % 3) {
                  case 0:
                    syncCallers.execute(
                        () -> {
                          try {
                            if ("ok".equals(api.item().execute().body()))
                              succeeded.incrementAndGet();
                          } catch (Exception ignored) {
                            // Counted as lost below.
                          }
                          done.countDown();
                        });
                    break;
                  case 1:
                    api.item()
                        .enqueue(
                            new Callback<String>() {
                              @Override
                              public void onResponse(Call<String> c, Response<String> r) {
                                if ("ok".equals(r.body())) succeeded.incrementAndGet();
                                done.countDown();
                              }

                              @Override
                              public void onFailure(Call<String> c, Throwable t) {
                                done.countDown();
                              }
                            });
                    break;
                  default:
                    api.itemFuture()
                        .whenComplete(
                            (body, t) -> {
                              if ("ok".equals(body)) succeeded.incrementAndGet();
                              done.countDown();
                            });
                }
              }
              assertTrue(done.await(60, TimeUnit.SECONDS), "cycle " + cycle + " completed");
              server.forgetRequests();
              if (cycle == 0) {
                // The pools are warm now: from here on nothing may grow with the cycles.
                System.gc();
                warmThreads[0] = libraryAndTestThreads();
                warmOurs[0] = retrofitAuthThreads();
                warmHeap[0] = memory.getHeapMemoryUsage().getUsed();
              }
            }
            System.gc();
            int threads = libraryAndTestThreads();
            long heap = memory.getHeapMemoryUsage().getUsed();
            assertTrue(
                threads <= warmThreads[0] + 4,
                threads + " threads vs " + warmThreads[0] + ": " + threadsByName());
            assertTrue(heap < warmHeap[0] + 16L * 1024 * 1024, heap + " vs " + warmHeap[0]);
            // Other tests' managers may still have idle threads; this one's must not grow.
            long ours = retrofitAuthThreads();
            assertTrue(ours <= warmOurs[0] + 1, ours + " retrofit-auth threads vs " + warmOurs[0]);
          });
      int cycles = CYCLES;
      assertEquals(cycles, refreshes.get(), "one refresh per expiry cycle");
      assertEquals(cycles, auth.stats().refreshesSucceeded());
      assertEquals(cycles * CALLS, succeeded.get(), "no call lost");
      assertEquals(0, presentedTwice.get(), "no refresh token presented twice");
      assertEquals(0, Await.waiting(auth));
    } finally {
      syncCallers.shutdownNow();
      fixture.close();
    }
  }

  /**
   * Counts live threads other than OkHttp's and MockWebServer's own pools, which keep idle threads
   * for a minute in numbers that follow each cycle's peak concurrency.
   */
  private static int libraryAndTestThreads() {
    int count = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      String name = t.getName();
      if (!name.startsWith("OkHttp ") && !name.startsWith("MockWebServer")) count++;
    }
    return count;
  }

  private static long retrofitAuthThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("retrofit-auth"))
        .count();
  }

  /** Counts live threads by name, with digits removed: {@code OkHttp Dispatcher=12, ...}. */
  private static String threadsByName() {
    java.util.Map<String, Long> counts = new java.util.TreeMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      counts.merge(t.getName().replaceAll("[0-9]+", "#"), 1L, Long::sum);
    }
    return counts.toString();
  }

  private static String issue(Set<String> liveAccess, Set<String> liveRefresh) {
    String access = "a-" + UUID.randomUUID();
    String refresh = "r-" + UUID.randomUUID();
    liveAccess.add(access);
    liveRefresh.add(refresh);
    return access + " " + refresh;
  }

  private static Tokens tokens(String pair) {
    String[] parts = pair.split(" ");
    return Tokens.of(parts[0], parts[1]);
  }
}
