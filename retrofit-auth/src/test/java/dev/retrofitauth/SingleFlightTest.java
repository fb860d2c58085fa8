package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** Direct tests of {@link SingleFlight}: the engine without HTTP. */
final class SingleFlightTest {
  /**
   * With maxQueuedCalls(2), a stale 401 joined the retry queue before the bound was checked, so a
   * third call waited ("outside check of the documented contract").
   */
  @Test
  void staleUnauthorizedRespectsMaxQueuedCalls() throws Exception {
    GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r2")).hold();
    SingleFlight engine =
        new SingleFlight(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .queueMode(true)
                .maxConcurrentRetries(1)
                .maxQueuedCalls(2)
                .config(),
            new Listeners(new AuthListener[0]));
    engine.changeSession(Tokens.of("a", "r1"));
    HeldWaiter busy = new HeldWaiter(); // A stale 401 whose retry holds the only slot.
    engine.onUnauthorized("Bearer stale", busy);
    assertTrue(busy.slot.get() != null, "the first retry runs");
    HeldWaiter first = new HeldWaiter();
    HeldWaiter second = new HeldWaiter();
    engine.onUnauthorized("Bearer a", first); // Starts the refresh.
    engine.onUnauthorized("Bearer a", second);
    HeldWaiter third = new HeldWaiter();
    engine.onUnauthorized("Bearer stale", third);

    assertEquals("Retry queue is full: 2 calls are waiting (maxQueuedCalls)", third.failure.get());
    assertEquals(2, Await.waiting(engine));
    refreshApi.release();
    busy.finish();
    Await.until("both retried", () -> first.slot.get() != null || second.slot.get() != null);
  }

  /** A waiter whose retry holds its queue slot until the test finishes it. */
  private static final class HeldWaiter extends Waiter {
    final AtomicReference<@Nullable Runnable> slot = new AtomicReference<>();
    final AtomicReference<@Nullable String> failure = new AtomicReference<>();

    HeldWaiter() {
      super(true, MethodPolicy.DEFAULT);
    }

    @Override
    void proceed(@Nullable Runnable retryEnded) {
      this.slot.set(retryEnded);
    }

    @Override
    void passThrough() {
      failure.set("passed through");
    }

    @Override
    void fail(IOException e) {
      failure.set(e.getMessage());
    }

    void finish() {
      Runnable held = slot.get();
      if (held != null) held.run();
    }
  }
}
