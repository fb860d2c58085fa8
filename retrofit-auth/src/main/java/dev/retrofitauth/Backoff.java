package dev.retrofitauth;

import java.io.IOException;
import java.util.Random;
import org.jspecify.annotations.Nullable;

/**
 * How long 401s fail fast after a refresh failed, before the next refresh may start: an interval
 * that grows with each failure in a row, with jitter, and at least what the server asked for with
 * {@code Retry-After}, up to a cap. A permanent failure blocks refreshing until the session
 * changes.
 */
final class Backoff {
  private final Object lock;
  private final RefreshManager.Clock clock;
  private final long initialMillis;
  private final long maxMillis;
  private final long maxRetryAfterMillis;
  private final Random jitter = new Random();

  // Guarded by lock.
  private int failuresInARow;
  private long untilMillis;
  private @Nullable IOException lastFailure;

  Backoff(Object lock, RefreshManager.Builder builder) {
    this.lock = lock;
    this.clock = builder.clock;
    this.initialMillis = builder.backoffInitialMillis;
    this.maxMillis = builder.backoffMaxMillis;
    this.maxRetryAfterMillis = builder.maxRetryAfterMillis;
  }

  /** True if a refresh may not start now. */
  boolean active() {
    assert Thread.holdsLock(lock);
    return lastFailure != null && clock.currentTimeMillis() < untilMillis;
  }

  /** The failure that the calls failing fast report as their cause. */
  @Nullable IOException lastFailure() {
    assert Thread.holdsLock(lock);
    return lastFailure;
  }

  void recordFailure(@Nullable IOException failure) {
    assert Thread.holdsLock(lock);
    failuresInARow++;
    long now = clock.currentTimeMillis();
    untilMillis = now + intervalMillis(failuresInARow);
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
    assert Thread.holdsLock(lock);
    failuresInARow = 0;
    untilMillis = 0L;
    lastFailure = null;
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  private long intervalMillis(int failures) {
    if (initialMillis == 0L) return 0L;
    long delay = initialMillis;
    for (int i = 1; i < failures && delay < maxMillis; i++) delay *= 2;
    delay = Math.min(delay, maxMillis);
    // Up to 20% less, so that a fleet of clients that failed together does not retry together.
    return delay - (long) (delay * 0.2 * jitter.nextDouble());
  }
}
