package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;

/**
 * Cancels a call at a random moment, many times: before it is sent, while it waits for the refresh,
 * during its retry, after delivery, and from another thread at an arbitrary instant. Set {@code
 * -Dretrofitauth.cancelRaceIterations=N} for a longer run.
 */
final class CancellationRaceTest {
  private static final int ITERATIONS =
      Integer.getInteger("retrofitauth.cancelRaceIterations", 1_000);

  enum Moment {
    BEFORE_ENQUEUE,
    RIGHT_AFTER_ENQUEUE,
    WHILE_WAITING_FOR_REFRESH,
    DURING_RETRY,
    AFTER_DELIVERY,
    FROM_ANOTHER_THREAD
  }

  @Test
  void everyCallbackExactlyOnceAndNoRefreshResultLost() throws Exception {
    AtomicInteger issued = new AtomicInteger();
    AtomicReference<String> lastIssued = new AtomicReference<>("t0");
    AtomicReference<ApiServer> server = new AtomicReference<>();
    GatedRefreshApi refreshApi =
        new GatedRefreshApi(
            current -> {
              String next = "t" + issued.incrementAndGet();
              server.get().acceptOnly(next);
              lastIssued.set(next);
              return Tokens.of(next, "r" + issued.get());
            });
    try (Fixture fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .refreshBackoff(0, 0, TimeUnit.MILLISECONDS))) {
      server.set(fixture.server);
      fixture.auth.signIn(Tokens.of("t0", "r0"));
      Api api = fixture.create(Api.class);
      Random random = new Random(42);
      List<AtomicInteger> callbacks = new ArrayList<>();
      int[] moments = new int[Moment.values().length];

      assertTimeoutPreemptively(
          Duration.ofSeconds(120),
          () -> {
            for (int i = 0; i < ITERATIONS; i++) {
              Moment moment = Moment.values()[random.nextInt(Moment.values().length)];
              moments[moment.ordinal()]++;
              fixture.server.acceptOnly("dead-" + i); // The current token has expired.
              AtomicInteger count = new AtomicInteger();
              callbacks.add(count);
              CountDownLatch delivered = new CountDownLatch(1);
              Callback<String> callback =
                  new Callback<String>() {
                    @Override
                    public void onResponse(Call<String> call, Response<String> response) {
                      count.incrementAndGet();
                      delivered.countDown();
                    }

                    @Override
                    public void onFailure(Call<String> call, Throwable t) {
                      count.incrementAndGet();
                      delivered.countDown();
                    }
                  };
              Call<String> call = api.me();
              runIteration(moment, call, callback, delivered, fixture, refreshApi, random);
              assertTrue(delivered.await(30, TimeUnit.SECONDS), moment + " was never answered");
              // No refresh result is lost: once the refresh that ran has ended, its token is held.
              Await.until(
                  "the refresh has ended",
                  () ->
                      fixture.auth.stats().refreshesStarted()
                          == fixture.auth.stats().refreshesSucceeded()
                              + fixture.auth.stats().refreshesFailed());
              assertEquals(
                  lastIssued.get(), fixture.auth.currentTokens().accessToken(), moment.toString());
            }
            Await.until(
                "the dispatcher is idle",
                () -> fixture.client.dispatcher().runningCallsCount() == 0);
          });

      for (int i = 0; i < callbacks.size(); i++) {
        assertEquals(1, callbacks.get(i).get(), "iteration " + i);
      }
      assertEquals(0, Await.waiting(fixture.auth));
      assertEquals(0, fixture.client.dispatcher().runningCallsCount());
      for (int n : moments) assertTrue(n > 0, "every moment was exercised");
      assertNotNull(fixture.auth.currentTokens());
    }
  }

  private static void runIteration(
      Moment moment,
      Call<String> call,
      Callback<String> callback,
      CountDownLatch delivered,
      Fixture fixture,
      GatedRefreshApi refreshApi,
      Random random)
      throws Exception {
    switch (moment) {
      case BEFORE_ENQUEUE:
        call.cancel();
        call.enqueue(callback);
        break;
      case RIGHT_AFTER_ENQUEUE:
        call.enqueue(callback);
        call.cancel();
        break;
      case WHILE_WAITING_FOR_REFRESH:
        refreshApi.hold();
        call.enqueue(callback);
        Await.until("waiting", () -> Await.waiting(fixture.auth) == 1);
        call.cancel();
        refreshApi.release();
        break;
      case DURING_RETRY:
        refreshApi.hold();
        call.enqueue(callback);
        Await.until("waiting", () -> Await.waiting(fixture.auth) == 1);
        CountDownLatch retryArrived = fixture.server.closeGate(1);
        refreshApi.release();
        assertTrue(retryArrived.await(30, TimeUnit.SECONDS));
        call.cancel();
        fixture.server.openGate();
        break;
      case AFTER_DELIVERY:
        call.enqueue(callback);
        assertTrue(delivered.await(30, TimeUnit.SECONDS));
        call.cancel();
        break;
      case FROM_ANOTHER_THREAD:
        long spinNanos = random.nextInt(2_000_000);
        Thread canceler =
            new Thread(
                () -> {
                  LockSupport.parkNanos(spinNanos);
                  call.cancel();
                });
        canceler.start();
        call.enqueue(callback);
        canceler.join(30_000);
        break;
    }
  }
}
