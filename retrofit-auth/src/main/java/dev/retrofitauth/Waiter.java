package dev.retrofitauth;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * A call that waits for a refresh, or in queue mode for a retry slot. {@link SingleFlight}
 * completes each waiter exactly once, by calling one of the three continuations in {@code release},
 * unless {@link SingleFlight#cancel} removed it first.
 *
 * <p>Waiters form an intrusive doubly linked list so that joining and leaving a flight allocates
 * nothing and costs O(1), whatever the number of waiters.
 */
abstract class Waiter {
  /** True if the call was sent and got a 401; false if it waits before it is sent. */
  final boolean sent;

  final MethodPolicy policy;

  // Guarded by lock: the engine's lock, while the waiter is registered.
  @Nullable Waiter prev;
  @Nullable Waiter next;

  /** The {@link Flight} or the {@link RetryQueue} that holds this waiter; null once released. */
  @Nullable Object owner;

  /** Order of arrival, for the retry queue; 0 until the waiter first waits. */
  long sequence;

  long waitingSinceMillis;

  Waiter(boolean sent, MethodPolicy policy) {
    this.sent = sent;
    this.policy = policy;
  }

  /**
   * Send the call, or send it again: the tokens it waited for are in place. In queue mode {@code
   * slot} is the queue whose retry slot this attempt holds: call {@link RetryQueue#retryFinished}
   * once it has ended, however it ended. In single-flight mode it is null.
   */
  abstract void proceed(@Nullable RetryQueue slot);

  /** Hand the 401 response the call already has to the caller. Only for sent waiters. */
  abstract void passThrough();

  /** Fail the call with {@code e}. */
  abstract void fail(IOException e);

  /**
   * Blocks until {@code done} opens. If the thread is interrupted while this waiter is still
   * registered, removes it and throws; if it was already released, runs {@code afterRelease} (to
   * end whatever the release started) and waits for the answer, which is then a moment away.
   */
  final void awaitRelease(CountDownLatch done, SingleFlight engine, Runnable afterRelease)
      throws InterruptedIOException {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          done.await();
          return;
        } catch (InterruptedException e) {
          interrupted = true;
          if (engine.cancel(this)) {
            throw new InterruptedIOException("interrupted while waiting for a token refresh");
          }
          afterRelease.run();
        }
      }
    } finally {
      if (interrupted) Thread.currentThread().interrupt();
    }
  }

  /**
   * Completes every waiter of the chain that starts at {@code head} with {@code outcome}: the one
   * place where a waiting call learns what became of its refresh. In queue mode the calls that may
   * proceed go to the retry queue instead. A callback that throws does not keep the others waiting.
   * Returns how many waiters there were.
   */
  static int release(
      @Nullable Waiter head, Outcome outcome, @Nullable IOException cause, RetryQueue queue) {
    RuntimeException thrown = null;
    Waiter retries = null;
    int count = 0;
    for (Waiter w = head; w != null; count++) {
      Waiter next = w.next;
      w.prev = null;
      w.next = null;
      Outcome.Action action = outcome.action(w.sent);
      if (action == Outcome.Action.PROCEED && queue.enabled()) {
        w.next = retries;
        retries = w;
      } else {
        try {
          switch (action) {
            case PROCEED:
              w.proceed(null);
              break;
            case PASS_THROUGH:
              w.passThrough();
              break;
            default:
              w.fail(outcome.exception(cause));
          }
        } catch (RuntimeException e) {
          if (thrown == null) thrown = e; // Release the other waiters first, then surface it.
        }
      }
      w = next;
    }
    if (retries != null) queue.offer(reverse(retries));
    if (thrown != null) throw thrown;
    return count;
  }

  private static @Nullable Waiter reverse(@Nullable Waiter head) {
    Waiter reversed = null;
    while (head != null) {
      Waiter next = head.next;
      head.next = reversed;
      reversed = head;
      head = next;
    }
    return reversed;
  }
}
