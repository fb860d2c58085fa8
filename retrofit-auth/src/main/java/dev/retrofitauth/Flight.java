package dev.retrofitauth;

import java.util.concurrent.ScheduledFuture;
import org.jspecify.annotations.Nullable;

/**
 * One refresh, shared by every call that waits for it.
 *
 * <p>Its states. {@link SingleFlight} creates a flight RUNNING and makes it the current flight when
 * a 401 (or a call inside the expiry leeway) finds none; calls join it while it runs. Then exactly
 * one of these happens first:
 *
 * <ul>
 *   <li>The refresh returns: FINISHED. Its outcome is applied and saved, its waiters are released,
 *       and it stops being the current flight.
 *   <li>The refresh timeout passes: TIMED_OUT. Its waiters fail at once. It stays the current
 *       flight, so that later 401s fail fast instead of presenting the same refresh token a second
 *       time; when the refresh returns within a second timeout it becomes FINISHED and its tokens
 *       are still saved. Otherwise, at twice the timeout, it is ABANDONED: it stops being the
 *       current flight, so that the next 401 may refresh again, its thread is interrupted (which
 *       ends an OkHttp call that is reading), and whatever it returns later is ignored.
 *   <li>{@code signIn()} or {@code signOut()} supersedes it: it stops being the current flight at
 *       once and its waiters proceed under the new session. Its generation no longer matches, so
 *       whatever the refresh returns later is discarded; it then becomes FINISHED.
 * </ul>
 */
final class Flight {
  /** Why the refresh started: this decides whether calls wait for it, and what a failure means. */
  enum Kind {
    /** A call got a 401: the token is known to be dead, and every call waits. */
    UNAUTHORIZED,
    /** The token expires within the leeway: calls wait, but may still use it if this fails. */
    PROACTIVE,
    /** The token enters the refresh-ahead window: calls go on with it meanwhile. */
    BACKGROUND,
    /** The app asked for it ({@code refreshNow()}): calls wait for it. */
    FORCED
  }

  enum State {
    RUNNING,
    TIMED_OUT,
    ABANDONED,
    FINISHED
  }

  /** The tokens the refresh started from; null for a first acquisition from a token source. */
  final @Nullable Tokens tokens;

  /** The session generation the refresh started in; a result for an older one is discarded. */
  final long generation;

  /** When it started, from {@link System#nanoTime()}, for the refresh latency. */
  final long startedNanos = System.nanoTime();

  final Kind kind;

  /** What a challenge said the new token must have; null for a plain refresh. */
  final @Nullable TokenRequirements requirements;

  /** True once a 401 proved the token dead: set at start for UNAUTHORIZED, or when a 401 joins. */
  volatile boolean tokenDead; // Guarded by lock for writes; read without it by the interceptor.

  volatile State state = State.RUNNING; // Guarded by lock for writes; read without it, as above.

  private final Object lock;

  // Set once when the refresh is launched, before any timer can fire; cancelled when it ends.
  volatile @Nullable ScheduledFuture<?> timeout;
  volatile @Nullable ScheduledFuture<?> abandonment;

  // Guarded by this (the flight's own monitor, never held together with lock): the thread running
  // the refresh and the lease it runs in, so that abandoning the flight can interrupt and release.
  private @Nullable Thread runner;
  private SharedTokenStore.@Nullable Lease lease;

  private @Nullable Waiter head; // Guarded by lock.
  private @Nullable Waiter tail; // Guarded by lock.
  private int size; // Guarded by lock.

  Flight(
      Object lock,
      @Nullable Tokens tokens,
      long generation,
      Kind kind,
      @Nullable TokenRequirements requirements) {
    this.lock = lock;
    this.tokens = tokens;
    this.generation = generation;
    this.kind = kind;
    this.requirements = requirements;
    this.tokenDead = kind == Kind.UNAUTHORIZED;
  }

  /** Cancels the timers; the flight has ended one way or another. */
  void cancelTimeout() {
    ScheduledFuture<?> scheduled = timeout;
    if (scheduled != null) scheduled.cancel(false);
    scheduled = abandonment;
    if (scheduled != null) scheduled.cancel(false);
  }

  /** Records the thread that runs the refresh, or clears it (null) when the refresh returned. */
  synchronized void runOn(@Nullable Thread thread) {
    runner = thread;
  }

  /**
   * Records the lease the refresh runs in, or clears it (null). Returns false, and releases {@code
   * held}, if the flight was abandoned meanwhile.
   */
  boolean hold(SharedTokenStore.@Nullable Lease held) {
    synchronized (this) {
      if (held == null || state != State.ABANDONED) {
        lease = held;
        return true;
      }
    }
    held.close();
    return false;
  }

  /**
   * Interrupts the thread that runs the refresh, if it still runs it, and releases its lease, so
   * that a refresh that hangs keeps neither this process nor others from refreshing.
   */
  void interruptRunner() {
    SharedTokenStore.Lease held;
    synchronized (this) {
      if (runner != null) runner.interrupt();
      held = lease;
    }
    if (held != null) held.close();
  }

  void add(Waiter waiter) {
    assert Thread.holdsLock(lock);
    waiter.owner = this;
    waiter.prev = tail;
    if (tail != null) {
      tail.next = waiter;
    } else {
      head = waiter;
    }
    tail = waiter;
    size++;
  }

  void remove(Waiter waiter) {
    assert Thread.holdsLock(lock) && waiter.owner == this;
    Waiter prev = waiter.prev;
    Waiter next = waiter.next;
    if (prev != null) {
      prev.next = next;
    } else {
      head = next;
    }
    if (next != null) {
      next.prev = prev;
    } else {
      tail = prev;
    }
    waiter.prev = null;
    waiter.next = null;
    waiter.owner = null;
    size--;
  }

  /** Takes every waiter off this flight; returns the first, still linked to the others. */
  @Nullable Waiter detachAll() {
    assert Thread.holdsLock(lock);
    Waiter first = head;
    for (Waiter w = first; w != null; w = w.next) w.owner = null;
    head = null;
    tail = null;
    size = 0;
    return first;
  }

  @Nullable Waiter first() {
    assert Thread.holdsLock(lock);
    return head;
  }

  int size() {
    assert Thread.holdsLock(lock);
    return size;
  }
}
