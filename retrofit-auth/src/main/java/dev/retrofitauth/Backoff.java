package dev.retrofitauth;

import java.io.IOException;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * How long 401s fail fast after a refresh failed, before the next refresh may start: an interval
 * that grows with each failure in a row, with jitter, and at least what the server asked for with
 * {@code Retry-After}, up to a cap. A permanent failure blocks refreshing until the session
 * changes.
 *
 * <p>Used under {@link SingleFlight}'s lock; the time is passed in, read before the lock was taken.
 */
final class Backoff {
  private final long initialMillis;
  private final long maxMillis;
  private final long maxRetryAfterMillis;

  private int failuresInARow; // Guarded by lock: SingleFlight's.
  private long untilMillis; // Guarded by lock.
  private @Nullable IOException lastFailure; // Guarded by lock.

  Backoff(long initialMillis, long maxMillis, long maxRetryAfterMillis) {
    this.initialMillis = initialMillis;
    this.maxMillis = maxMillis;
    this.maxRetryAfterMillis = maxRetryAfterMillis;
  }

  /** True if a refresh may not start at {@code now}. */
  boolean active(long now) {
    return lastFailure != null && now < untilMillis;
  }

  /** The failure that the calls failing fast report as their cause. */
  @Nullable IOException lastFailure() {
    return lastFailure;
  }

  /** Until when refreshing waits after the failures so far; 0 when it does not. */
  long untilMillis() {
    return untilMillis;
  }

  void recordFailure(@Nullable IOException failure, long now) {
    recordFailure(failure, now, ThreadLocalRandom.current().nextDouble());
  }

  /** Like {@link #recordFailure(IOException, long)}, with the jitter (0 to 1) given. */
  void recordFailure(@Nullable IOException failure, long now, double jitter) {
    failuresInARow++;
    untilMillis = saturatedAdd(now, intervalMillis(failuresInARow, jitter));
    if (failure instanceof RefreshFailedException) {
      RefreshFailedException details = (RefreshFailedException) failure;
      if (details.isPermanent()) {
        untilMillis = Long.MAX_VALUE; // Until signIn() or signOut().
      } else {
        // Capped: a server's Retry-After must not stop refreshing for good (or overflow).
        long retryAfter = Math.min(details.retryAfterMillis(), maxRetryAfterMillis);
        untilMillis = Math.max(untilMillis, saturatedAdd(now, retryAfter));
      }
    }
    lastFailure = failure;
  }

  /** A success, or a new session: the next 401 may refresh at once. */
  void reset() {
    failuresInARow = 0;
    untilMillis = 0L;
    lastFailure = null;
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  private long intervalMillis(int failures, double jitter) {
    if (initialMillis == 0L) return 0L;
    long delay = initialMillis;
    for (int i = 1; i < failures && delay < maxMillis; i++) delay *= 2;
    delay = Math.min(delay, maxMillis);
    // Up to 20% less, so that a fleet of clients that failed together does not retry together.
    return delay - (long) (delay * 0.2 * jitter);
  }
}
