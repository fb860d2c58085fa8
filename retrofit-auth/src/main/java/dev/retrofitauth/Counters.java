package dev.retrofitauth;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What one session's engine has done so far. {@link SingleFlight} counts refreshes under its lock;
 * the edge counts retries, nonce resends and avoided requests through it, without the lock. {@link
 * RefreshManager.Stats} reads a copy.
 */
final class Counters {
  long refreshesStarted; // Guarded by lock: SingleFlight's.
  long refreshesSucceeded; // Guarded by lock.
  long refreshesRejected; // Guarded by lock.
  long refreshesFailed; // Guarded by lock.
  long stale401s; // Guarded by lock.
  long refreshNanosSucceeded; // Guarded by lock.
  long refreshNanosRejected; // Guarded by lock.
  long refreshNanosFailed; // Guarded by lock.

  final AtomicLong retries = new AtomicLong();
  final AtomicLong dpopNonceResends = new AtomicLong();
  final AtomicLong deadTokenRequestsAvoided = new AtomicLong();

  // Only in a copy: the calls waiting when it was taken.
  int callsWaitingForRefresh;
  int callsWaitingForRetrySlot;

  /** Adds {@code other}'s counts to these: a registry's total over the sessions of a credential. */
  void add(Counters other) {
    refreshesStarted += other.refreshesStarted;
    refreshesSucceeded += other.refreshesSucceeded;
    refreshesRejected += other.refreshesRejected;
    refreshesFailed += other.refreshesFailed;
    stale401s += other.stale401s;
    refreshNanosSucceeded += other.refreshNanosSucceeded;
    refreshNanosRejected += other.refreshNanosRejected;
    refreshNanosFailed += other.refreshNanosFailed;
    retries.addAndGet(other.retries.get());
    dpopNonceResends.addAndGet(other.dpopNonceResends.get());
    deadTokenRequestsAvoided.addAndGet(other.deadTokenRequestsAvoided.get());
  }

  /** Returns a copy, taken under the lock, with the calls waiting right now. */
  Counters copy(int waitingForRefresh, int waitingForRetrySlot) {
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
    copy.callsWaitingForRefresh = waitingForRefresh;
    copy.callsWaitingForRetrySlot = waitingForRetrySlot;
    return copy;
  }
}
