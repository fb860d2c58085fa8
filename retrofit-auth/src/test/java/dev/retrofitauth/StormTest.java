package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;

/** Many calls get a 401 at once; they must share one refresh and each retry once. */
final class StormTest {
  private static final int SYNC_CALLS = 200;
  private static final int ASYNC_CALLS = 800;
  private static final int CALLS = SYNC_CALLS + ASYNC_CALLS;

  private GatedRefreshApi refreshApi;
  private Fixture fixture;
  private ExecutorService callers;

  @BeforeEach
  void setUp() throws IOException {
    refreshApi =
        new GatedRefreshApi(
                current -> {
                  fixture.server.acceptOnly("new");
                  return Tokens.of("new", "r2");
                })
            .hold();
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(CALLS);
    dispatcher.setMaxRequestsPerHost(CALLS);
    fixture =
        Fixture.create(
            RefreshManager.builder().refreshApi(refreshApi),
            new OkHttpClient.Builder().dispatcher(dispatcher));
    callers = Executors.newFixedThreadPool(SYNC_CALLS);
  }

  @AfterEach
  void tearDown() throws IOException {
    callers.shutdownNow();
    fixture.close();
  }

  @Test
  void thousandConcurrent401sShareOneRefreshAndRetryOnce() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(120),
        () -> {
          Api api = fixture.create(Api.class);
          fixture.server.acceptOnly("other"); // "old" has expired on the server.
          // Hold every request on the server until all of them arrived, so that all get a 401.
          CountDownLatch arrived = fixture.server.closeGate(CALLS);
          List<Object> results = new CopyOnWriteArrayList<>();
          CountDownLatch done = new CountDownLatch(CALLS);
          for (int i = 0; i < SYNC_CALLS; i++) {
            callers.execute(
                () -> {
                  try {
                    results.add(api.me().execute());
                  } catch (Throwable t) {
                    results.add(t);
                  }
                  done.countDown();
                });
          }
          for (int i = 0; i < ASYNC_CALLS; i++) {
            api.me()
                .enqueue(
                    new Callback<String>() {
                      @Override
                      public void onResponse(Call<String> call, Response<String> response) {
                        results.add(response);
                        done.countDown();
                      }

                      @Override
                      public void onFailure(Call<String> call, Throwable t) {
                        results.add(t);
                        done.countDown();
                      }
                    });
          }
          assertTrue(arrived.await(60, TimeUnit.SECONDS), "all calls reached the server");
          fixture.server.openGate();
          Await.until(
              "every call waits for the refresh", () -> Await.waiting(fixture.auth) == CALLS);
          assertEquals(1, refreshApi.calls.get());

          refreshApi.release();

          assertTrue(done.await(60, TimeUnit.SECONDS), "every call completed");
          assertEquals(CALLS, results.size()); // No call lost, none delivered twice.
          for (Object result : results) {
            assertTrue(result instanceof Response, String.valueOf(result));
            assertEquals("ok /api/me", ((Response<?>) result).body());
          }
          assertEquals(1, refreshApi.calls.get());
          assertEquals(CALLS, fixture.server.count("Bearer old"));
          assertEquals(CALLS, fixture.server.count("Bearer new")); // Each call retried once.
          assertEquals(2 * CALLS, fixture.server.requests.size());
          RefreshManager.Stats stats = fixture.auth.stats();
          assertEquals(1, stats.refreshesStarted());
          assertEquals(CALLS, stats.retries());
          assertEquals(0, stats.callsWaitingForRefresh());
          // OkHttp marks a call finished just after its callback returns.
          Await.until(
              "the dispatcher is idle", () -> fixture.client.dispatcher().runningCallsCount() == 0);
          Await.noDeadlock();
        });
  }
}
