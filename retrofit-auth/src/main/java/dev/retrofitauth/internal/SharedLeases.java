package dev.retrofitauth.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Not API: how the stores of other modules (Redis, SQL) wait for a lease that another process
 * holds, and keep one they hold alive. One implementation, so that both wait and renew alike. It
 * may change or disappear in any release.
 */
public final class SharedLeases {
  private static final long MIN_BACKOFF_MILLIS = 2;
  private static final long MAX_BACKOFF_MILLIS = 20;

  // One daemon thread for every lease's renewal, which ends when no lease is held for a while.
  private static final ScheduledThreadPoolExecutor RENEWALS = newRenewals();

  /** One try to take a lease: the lease, or null if another holder has it. */
  public interface Attempt<L> {
    @Nullable L tryTake() throws IOException;
  }

  /**
   * Tries {@code attempt} until it takes the lease, every 2 to 20 ms (doubling, with jitter so that
   * waiting processes do not try in lockstep), for at most {@code timeoutMillis}; each try may take
   * its own time on top. {@code what} names the lease in messages, as in {@code "taking the lease
   * app:tokens:42:lease"}.
   *
   * @throws InterruptedIOException if the lease was not free in time, or the thread was
   *     interrupted.
   * @throws IOException if a try failed.
   */
  public static <L> L poll(String what, long timeoutMillis, Attempt<L> attempt) throws IOException {
    if (timeoutMillis < 0)
      throw new IllegalArgumentException("timeoutMillis < 0: " + timeoutMillis);
    long start = System.nanoTime();
    long backoff = MIN_BACKOFF_MILLIS;
    while (true) {
      L lease = attempt.tryTake();
      if (lease != null) return lease;
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      if (waited >= timeoutMillis) {
        throw new InterruptedIOException(
            what + ": another process held it for all of the " + timeoutMillis + " ms timeout");
      }
      long pause =
          Math.min(
              ThreadLocalRandom.current().nextLong(backoff / 2, backoff + 1),
              timeoutMillis - waited);
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        InterruptedIOException interrupted = new InterruptedIOException(what + ": interrupted");
        interrupted.initCause(e);
        throw interrupted;
      }
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
    }
  }

  /**
   * Runs {@code renew} every third of {@code ttlMillis} on the shared renewal thread, until the
   * returned future is cancelled. {@code renew} must not wait for the store: it sends, or hands its
   * work to a thread of the store's own.
   */
  public static ScheduledFuture<?> renewEveryThirdOf(long ttlMillis, Runnable renew) {
    long period = Math.max(1, ttlMillis / 3);
    return RENEWALS.scheduleWithFixedDelay(renew, period, period, TimeUnit.MILLISECONDS);
  }

  private static ScheduledThreadPoolExecutor newRenewals() {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            runnable -> {
              Thread thread = new Thread(runnable, "retrofit-auth lease renewal");
              thread.setDaemon(true);
              return thread;
            });
    executor.setRemoveOnCancelPolicy(true);
    executor.setKeepAliveTime(10, TimeUnit.SECONDS);
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }

  private SharedLeases() {}
}
