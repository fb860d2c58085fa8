package dev.retrofitauth;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jspecify.annotations.Nullable;

/**
 * One session of a {@link SessionRegistry}: its manager and, for a session of {@link
 * KeyedSessions}, the pins that keep it from being evicted. Every call that uses a keyed session
 * pins it first and unpins it when it ends, so a session is only evicted while no call of it is
 * under way: two sessions of one key never run at once in this process.
 */
final class SessionEntry {
  private static final AtomicIntegerFieldUpdater<SessionEntry> PINS =
      AtomicIntegerFieldUpdater.newUpdater(SessionEntry.class, "pins");

  /** The pin count of an evicted session, which can never be pinned again. */
  private static final int EVICTED = -1;

  /** The session's key; null for the one session of a named credential, which is never evicted. */
  final @Nullable Object key;

  /** Null until the session's factory has built it. Guarded by this while it is built. */
  private volatile @Nullable RefreshManager manager;

  private @Nullable Throwable failed; // Guarded by this: the factory threw.
  private volatile int pins;
  private volatile long lastUsedNanos;

  /** A named credential's session. */
  SessionEntry(RefreshManager manager) {
    this.key = null;
    this.manager = manager;
  }

  /** A keyed session that its creator holds pinned, and builds now. */
  SessionEntry(Object key, long nowNanos) {
    this.key = key;
    this.pins = 1;
    this.lastUsedNanos = nowNanos;
  }

  /**
   * Returns the manager, once it is built: waits for the thread that builds it. Throws what the
   * factory threw.
   */
  RefreshManager manager() {
    RefreshManager built = manager;
    if (built != null) return built;
    synchronized (this) { // The builder holds the lock until it is done.
      built = manager;
      if (built == null) {
        throw new IllegalStateException("the session factory failed", failed);
      }
      return built;
    }
  }

  /** The manager, or null while it is built or if building it failed. */
  @Nullable RefreshManager managerIfBuilt() {
    return manager;
  }

  void built(RefreshManager manager) {
    assert Thread.holdsLock(this);
    this.manager = manager;
  }

  void failed(Throwable e) {
    assert Thread.holdsLock(this);
    this.failed = e;
  }

  /** Pins a keyed session; returns false if it was evicted (look it up again). */
  boolean tryPin(long nowNanos) {
    if (key == null) return true;
    for (int current = pins; current != EVICTED; current = pins) {
      if (PINS.compareAndSet(this, current, current + 1)) {
        lastUsedNanos = nowNanos;
        return true;
      }
    }
    return false;
  }

  void unpin() {
    if (key == null) return;
    for (int current = pins; current > 0; current = pins) {
      if (PINS.compareAndSet(this, current, current - 1)) return;
    }
    throw new AssertionError("unpinned more often than pinned");
  }

  /** True if no call holds this keyed session. */
  boolean unpinned() {
    return key != null && pins == 0;
  }

  /** True if no call holds the session and it was last used before {@code cutoffNanos}. */
  boolean unusedSince(long cutoffNanos) {
    return pins == 0 && lastUsedNanos - cutoffNanos < 0L;
  }

  long lastUsedNanos() {
    return lastUsedNanos;
  }

  /** Marks an unpinned session evicted; false if a call holds it. */
  boolean tryMarkEvicted() {
    return key != null && PINS.compareAndSet(this, 0, EVICTED);
  }

  /** Takes back {@link #tryMarkEvicted()}: the session turned out to be busy. */
  void unmarkEvicted() {
    PINS.compareAndSet(this, EVICTED, 0);
  }
}
