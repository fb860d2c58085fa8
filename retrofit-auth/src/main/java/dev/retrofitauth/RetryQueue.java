package dev.retrofitauth;

import java.util.Comparator;
import java.util.Iterator;
import java.util.PriorityQueue;
import org.jspecify.annotations.Nullable;

/**
 * In queue mode, the calls whose refresh has ended and that wait for a retry slot: highest {@link
 * RetryPriority} first, then in order of arrival. Guarded by the manager's lock.
 */
final class RetryQueue {
  private static final Comparator<Waiter> ORDER =
      (a, b) ->
          a.policy.priority != b.policy.priority
              ? Integer.compare(b.policy.priority, a.policy.priority)
              : Long.compare(a.sequence, b.sequence);

  private final PriorityQueue<Waiter> ready = new PriorityQueue<>(16, ORDER);

  /** Retries started and not yet finished. */
  int running;

  /** True while a thread is starting retries; others leave the work to it. */
  boolean draining;

  /** Set when work arrived while another thread was draining. */
  boolean drainAgain;

  void add(Waiter waiter) {
    waiter.owner = this;
    ready.add(waiter);
  }

  boolean remove(Waiter waiter) {
    if (waiter.owner != this) return false;
    ready.remove(waiter);
    waiter.owner = null;
    return true;
  }

  /** Takes the next call to retry, or returns null if none may start now. */
  @Nullable Waiter next(int maxRunning) {
    if (running >= maxRunning || ready.isEmpty()) return null;
    Waiter next = ready.poll();
    next.owner = null;
    running++;
    return next;
  }

  int size() {
    return ready.size();
  }

  Iterator<Waiter> iterator() {
    return ready.iterator();
  }
}
