package dev.retrofitauth;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * A call that waits for a refresh, or in queue mode for a retry slot: three continuations, of which
 * {@link SingleFlight} runs exactly one, once, when it releases the waiter. Its fate table says
 * which.
 *
 * <p>Waiters form an intrusive doubly linked list so that joining and leaving a flight allocates
 * nothing and costs O(1), whatever the number of waiters.
 */
abstract class Waiter {
  /** True if the call was sent and got a 401; false if it waits before it is sent. */
  final boolean sent;

  final MethodPolicy policy;

  @Nullable Waiter prev; // Guarded by lock: SingleFlight's, while the waiter is registered.
  @Nullable Waiter next; // Guarded by lock, as prev; a released chain is linked through it too.

  /**
   * The {@link Flight} or the {@link RetryQueue} that holds this waiter; null when it holds none.
   */
  @Nullable Object owner; // Guarded by lock.

  /** Order of arrival, for the retry queue; 0 until the waiter first waits. */
  long sequence; // Guarded by lock.

  /** When the waiter first waited, by the manager's clock, for {@code queuedCalls()}. */
  long waitingSinceMillis; // Guarded by lock.

  Waiter(boolean sent, MethodPolicy policy) {
    this.sent = sent;
    this.policy = policy;
  }

  /**
   * Send the call, or send it again: the tokens it waited for are in place. In queue mode the
   * attempt holds a retry slot: run {@code retryEnded} once when it has ended, however it ended. In
   * single-flight mode {@code retryEnded} is null.
   */
  abstract void proceed(@Nullable Runnable retryEnded);

  /** Hand the 401 response the call already has to the caller. Only for sent waiters. */
  abstract void passThrough();

  /** Fail the call with {@code e}. */
  abstract void fail(IOException e);
}
