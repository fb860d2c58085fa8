package dev.retrofitauth;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the engine has done so far. {@link SingleFlight} counts under its lock; calls count their
 * retries without it. {@link RefreshManager.Stats} holds a copy.
 */
final class Counters {
  // Guarded by lock.
  long refreshesStarted;
  long refreshesSucceeded;
  long refreshesRejected;
  long refreshesFailed;
  long stale401s;
  long refreshNanosSucceeded;
  long refreshNanosRejected;
  long refreshNanosFailed;

  final AtomicLong retries = new AtomicLong();
  final AtomicLong dpopNonceResends = new AtomicLong();
  final AtomicLong deadTokenRequestsAvoided = new AtomicLong();

  /** Returns a copy, taken under the lock. */
  Counters copy() {
    Counters copy = new Counters();
    copy.refreshesStarted = refreshesStarted;
    copy.refreshesSucceeded = refreshesSucceeded;
    copy.refreshesRejected = refreshesRejected;
    copy.refreshesFailed = refreshesFailed;
    copy.stale401s = stale401s;
    copy.refreshNanosSucceeded = refreshNanosSucceeded;
    copy.refreshNanosRejected = refreshNanosRejected;
    copy.refreshNanosFailed = refreshNanosFailed;
    copy.retries.set(retries.get());
    copy.dpopNonceResends.set(dpopNonceResends.get());
    copy.deadTokenRequestsAvoided.set(deadTokenRequestsAvoided.get());
    return copy;
  }
}
