package dev.retrofitauth;

/**
 * A source of the current time in milliseconds since the epoch, so that tests can move time forward
 * without waiting. The default is {@link System#currentTimeMillis()}.
 *
 * <pre>{@code
 * AtomicLong now = new AtomicLong(System.currentTimeMillis());
 * RefreshManager auth = RefreshManager.builder().clock(now::get).build();
 * now.addAndGet(TimeUnit.MINUTES.toMillis(5)); // the tokens are five minutes older
 * }</pre>
 *
 * <p>Implementations must be thread-safe and fast: the manager reads the clock on every call, and
 * never while it holds a lock.
 */
public interface Clock {
  /** Returns the current time in milliseconds since the epoch. */
  long currentTimeMillis();
}
