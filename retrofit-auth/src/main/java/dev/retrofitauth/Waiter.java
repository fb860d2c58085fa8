package dev.retrofitauth;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * A call that waits for a refresh. The manager completes each waiter exactly once: it is either
 * released with one of the three continuations, or removed by {@link RefreshManager#cancel}.
 *
 * <p>Waiters form an intrusive doubly linked list so that joining and leaving a flight allocates
 * nothing and costs O(1), whatever the number of waiters.
 */
abstract class Waiter {
  /** True if the call was sent and got a 401; false if it waits before it is sent. */
  final boolean sent;

  final MethodPolicy policy;

  // Guarded by the manager's lock.
  @Nullable Waiter prev;
  @Nullable Waiter next;
  @Nullable Object owner;
  long sequence;
  long waitingSinceMillis;

  Waiter(boolean sent, MethodPolicy policy) {
    this.sent = sent;
    this.policy = policy;
  }

  /** Send the call, or send it again: the tokens it waited for are in place. */
  abstract void proceed();

  /** Hand the 401 response the call already has to the caller. Only for sent waiters. */
  abstract void passThrough();

  /** Fail the call with {@code e}. */
  abstract void fail(IOException e);

  /**
   * Blocks until {@code done} opens. If the thread is interrupted while this waiter is still
   * registered, removes it and throws; if it was already released, runs {@code afterRelease} (to
   * end whatever the release started) and waits for the answer, which is then a moment away.
   */
  final void awaitRelease(CountDownLatch done, RefreshManager manager, Runnable afterRelease)
      throws InterruptedIOException {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          done.await();
          return;
        } catch (InterruptedException e) {
          interrupted = true;
          if (manager.cancel(this)) {
            throw new InterruptedIOException("interrupted while waiting for a token refresh");
          }
          afterRelease.run();
        }
      }
    } finally {
      if (interrupted) Thread.currentThread().interrupt();
    }
  }
}
