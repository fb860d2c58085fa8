package dev.retrofitauth;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Waits for conditions with a deadline; never sleeps for a fixed time. */
final class Await {
  private Await() {}

  /** Waits until {@code condition} holds, or fails after 30 seconds with {@code what}. */
  static void until(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting: " + what);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }

  /** Calls that wait in {@code auth}: for a refresh, or in queue mode for a retry slot. */
  static int waiting(RefreshManager auth) {
    RefreshManager.Stats stats = auth.stats();
    return stats.callsWaitingForRefresh() + stats.callsWaitingForRetrySlot();
  }

  /** Calls that wait in {@code engine}: for a refresh, or in queue mode for a retry slot. */
  static int waiting(SingleFlight engine) {
    Counters counters = engine.counters();
    return counters.callsWaitingForRefresh + counters.callsWaitingForRetrySlot;
  }

  /** Fails if any threads of this JVM are deadlocked. */
  static void noDeadlock() {
    long[] deadlocked = ManagementFactory.getThreadMXBean().findDeadlockedThreads();
    if (deadlocked != null) {
      throw new AssertionError("deadlocked threads: " + java.util.Arrays.toString(deadlocked));
    }
  }
}
