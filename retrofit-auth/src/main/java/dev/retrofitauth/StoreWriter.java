package dev.retrofitauth;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Writes the session to the {@link TokenStore}: one write at a time, never under the lock, and
 * latest wins. It shares {@link SingleFlight}'s lock, and waits on it for a write in progress. Each
 * session change is staged with its generation under the lock; {@link #flush} then writes the
 * newest staged state, and a caller whose state another thread is writing waits for that write
 * instead of writing again.
 */
final class StoreWriter {
  private final Object lock;
  private final TokenStore store;
  private final Listeners listeners;

  private @Nullable Tokens staged; // Guarded by lock.
  private long stagedGeneration; // Guarded by lock.
  private long writtenGeneration; // Guarded by lock.
  private boolean writing; // Guarded by lock.
  private boolean inSync = true; // Guarded by lock.

  StoreWriter(Object lock, TokenStore store, Listeners listeners) {
    this.lock = lock;
    this.store = store;
    this.listeners = listeners;
  }

  /** Loads the tokens the store holds; a store that fails is told to the listeners, and null. */
  @Nullable Tokens load() {
    assert !Thread.holdsLock(lock);
    try {
      return store.load();
    } catch (Exception e) {
      // Wide: a store is user code, and a broken one must not keep the manager from starting.
      listeners.storeFailed(e);
      return null;
    }
  }

  /** Records the session of {@code generation}; called with every change of the tokens. */
  void stage(long generation, @Nullable Tokens tokens) {
    assert Thread.holdsLock(lock);
    staged = tokens;
    stagedGeneration = generation;
  }

  /**
   * True if the store holds what memory holds: no write is pending or failed. Only then may a load
   * be trusted to show another process's newer tokens; before a write lands it would bring back
   * tokens that were already replaced (found by StateMachineStressTest).
   */
  boolean inStep() {
    synchronized (lock) {
      return inSync && !writing && writtenGeneration == stagedGeneration;
    }
  }

  /**
   * Writes the state of generation {@code target}, or a newer one, to the store. Failures are told
   * to the listeners after this thread has stopped writing, so that a listener may call any method
   * of the manager, {@code signOut()} included, without waiting for itself. Returns the first
   * failure of this thread's writes, or null.
   */
  @Nullable Exception flush(long target) {
    return flush(target, false);
  }

  /**
   * Like {@link #flush(long)}; if {@code saved}, a refresh's lease has saved generation {@code
   * target} already, and it is written again only if an older write is still pending.
   */
  @Nullable Exception flush(long target, boolean saved) {
    assert !Thread.holdsLock(lock);
    if (saved) {
      synchronized (lock) {
        if (!writing && inSync && writtenGeneration == target - 1 && stagedGeneration == target) {
          writtenGeneration = target;
          return null;
        }
      }
    }
    List<Exception> failures = null;
    boolean interrupted = false;
    try {
      synchronized (lock) {
        while (writtenGeneration < target && writing) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            interrupted = true; // The write is short and must not be abandoned halfway.
          }
        }
        if (writtenGeneration >= target) return null; // Another thread wrote it.
        writing = true;
      }
      while (true) {
        Tokens toWrite;
        long generation;
        synchronized (lock) {
          if (writtenGeneration >= stagedGeneration) {
            writing = false;
            lock.notifyAll();
            break;
          }
          toWrite = staged;
          generation = stagedGeneration;
        }
        boolean ok = true;
        try {
          if (toWrite != null) {
            store.save(toWrite);
          } else {
            store.clear();
          }
        } catch (Exception e) {
          ok = false;
          if (failures == null) failures = new ArrayList<>();
          failures.add(e);
        }
        synchronized (lock) {
          writtenGeneration = generation;
          inSync = ok;
          lock.notifyAll();
        }
      }
    } finally {
      if (interrupted) Thread.currentThread().interrupt();
    }
    if (failures == null) return null;
    for (Exception failure : failures) listeners.storeFailed(failure);
    return failures.get(0);
  }
}
