package dev.retrofitauth;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The accessors of {@link RefreshManager.Stats}. Package-private, like {@code
 * AbstractStringBuilder} behind {@code StringBuilder}: users see these methods on {@code Stats}.
 */
abstract class StatsSnapshot {
  private final Counters counters;
  private final int callsWaitingForRefresh;
  private final int callsWaitingForRetrySlot;

  StatsSnapshot(Counters counters, int callsWaitingForRefresh, int callsWaitingForRetrySlot) {
    this.counters = counters;
    this.callsWaitingForRefresh = callsWaitingForRefresh;
    this.callsWaitingForRetrySlot = callsWaitingForRetrySlot;
  }

  /** Refreshes started, proactive ones included. */
  public long refreshesStarted() {
    return counters.refreshesStarted;
  }

  /** Refreshes that returned new tokens which were kept. */
  public long refreshesSucceeded() {
    return counters.refreshesSucceeded;
  }

  /** Refreshes that ended in {@link RefreshRejectedException}. */
  public long refreshesRejected() {
    return counters.refreshesRejected;
  }

  /** Refreshes that failed for a transient reason, or timed out. */
  public long refreshesFailed() {
    return counters.refreshesFailed;
  }

  /** 401s for a token that had already been replaced: retried without a refresh. */
  public long stale401s() {
    return counters.stale401s;
  }

  /** Calls sent a second time after a 401. */
  public long retries() {
    return counters.retries.get();
  }

  /**
   * Time spent in refreshes that succeeded, in {@code unit}; with {@link #refreshesSucceeded()},
   * their mean latency.
   */
  public long refreshTimeSucceeded(TimeUnit unit) {
    return unit.convert(counters.refreshNanosSucceeded, TimeUnit.NANOSECONDS);
  }

  /** Time spent in refreshes that were rejected, in {@code unit}. */
  public long refreshTimeRejected(TimeUnit unit) {
    return unit.convert(counters.refreshNanosRejected, TimeUnit.NANOSECONDS);
  }

  /** Time spent in refreshes that failed, timeouts included, in {@code unit}. */
  public long refreshTimeFailed(TimeUnit unit) {
    return unit.convert(counters.refreshNanosFailed, TimeUnit.NANOSECONDS);
  }

  /** Requests sent again once because the server asked for a new DPoP nonce. */
  public long dpopNonceResends() {
    return counters.dpopNonceResends.get();
  }

  /**
   * Requests that were about to go out with a token known to be dead (it got a 401 and its refresh
   * runs) and were answered locally instead, to be retried with the new token.
   */
  public long deadTokenRequestsAvoided() {
    return counters.deadTokenRequestsAvoided.get();
  }

  /** Calls waiting right now for a refresh to end. */
  public int callsWaitingForRefresh() {
    return callsWaitingForRefresh;
  }

  /** In queue mode, calls whose refresh has ended that wait right now for a retry slot. */
  public int callsWaitingForRetrySlot() {
    return callsWaitingForRetrySlot;
  }

  @Override
  public String toString() {
    return String.format(
        Locale.ROOT,
        "Stats{refreshesStarted=%d, refreshesSucceeded=%d, refreshesRejected=%d, "
            + "refreshesFailed=%d, stale401s=%d, retries=%d, callsWaitingForRefresh=%d, "
            + "callsWaitingForRetrySlot=%d}",
        refreshesStarted(),
        refreshesSucceeded(),
        refreshesRejected(),
        refreshesFailed(),
        stale401s(),
        retries(),
        callsWaitingForRefresh,
        callsWaitingForRetrySlot);
  }
}
