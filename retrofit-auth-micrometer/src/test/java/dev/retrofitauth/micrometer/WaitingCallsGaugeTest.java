package dev.retrofitauth.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.RefreshManager;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The {@code retrofit.auth.calls.waiting} gauge while calls are held, and after they go. */
final class WaitingCallsGaugeTest {
  private Harness harness;

  @AfterEach
  void tearDown() throws IOException {
    if (harness != null) harness.close();
  }

  @Test
  void countsCallsWaitingForARefreshWhileItRuns() throws Exception {
    harness = new Harness(RefreshManager.builder());
    harness.server.accept("other");
    harness.refreshApi.hold();
    List<BlockingQueue<Object>> results = new ArrayList<>();
    results.add(Harness.enqueue(harness.api.me())); // Gets a 401 and starts the refresh.
    harness.refreshApi.awaitEntered();
    results.add(Harness.enqueue(harness.api.me())); // These two wait before they are sent.
    results.add(Harness.enqueue(harness.api.me()));

    Harness.await("three calls waiting", () -> harness.waiting("refresh") == 3);
    assertEquals(0, harness.waiting("retry.slot"));
    // Started but not ended: the refresh in flight.
    assertEquals(1, harness.counter("retrofit.auth.refreshes.started"));
    assertEquals(0, harness.timerCount("succeeded"));

    harness.refreshApi.release();

    for (BlockingQueue<Object> result : results) {
      assertEquals("ok /api/me", Harness.response(result).body());
    }
    assertEquals(0, harness.waiting("refresh"));
    assertEquals(1, harness.timerCount("succeeded"));
    assertEquals(1, harness.refreshApi.calls.get());
    // Only the first call was sent before the refresh; the other two went out once, with "new".
    assertEquals(1, harness.counter("retrofit.auth.retries"));
  }

  @Test
  void countsCallsWaitingForARetrySlotInQueueMode() throws Exception {
    harness = new Harness(RefreshManager.builder().queueMode(true).maxConcurrentRetries(1));
    harness.server.accept("other");
    harness.refreshApi.hold();
    List<BlockingQueue<Object>> results = new ArrayList<>();
    results.add(Harness.enqueue(harness.api.me()));
    harness.refreshApi.awaitEntered();
    results.add(Harness.enqueue(harness.api.me()));
    results.add(Harness.enqueue(harness.api.me()));
    Harness.await("three calls queued", () -> harness.waiting("refresh") == 3);
    // The one retry slot is taken by a request the server holds; the other two wait for it.
    CountDownLatch retrySent =
        harness.server.hold(r -> "Bearer new".equals(r.getHeader("Authorization")), 1);

    harness.refreshApi.release();

    assertTrue(retrySent.await(30, TimeUnit.SECONDS));
    Harness.await("two calls waiting for the slot", () -> harness.waiting("retry.slot") == 2);
    assertEquals(0, harness.waiting("refresh"));
    assertEquals(1, harness.timerCount("succeeded"));

    harness.server.release();

    for (BlockingQueue<Object> result : results) {
      assertEquals("ok /api/me", Harness.response(result).body());
    }
    assertEquals(0, harness.waiting("retry.slot"));
    assertEquals(0, harness.waiting("refresh"));
  }
}
