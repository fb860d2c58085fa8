package dev.retrofitauth;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import org.jspecify.annotations.Nullable;

/**
 * Queue mode ("flag + queue"): the calls whose refresh has ended wait here for a retry slot, and
 * are retried from one place, highest {@link RetryPriority} first, then in order of arrival, with
 * at most {@code maxConcurrentRetries} running at once. In single-flight mode it is disabled, and
 * every call retries itself as soon as its refresh ends.
 */
final class RetryQueue {
  private static final Comparator<Waiter> ORDER =
      (a, b) ->
          a.policy.priority != b.policy.priority
              ? Integer.compare(b.policy.priority, a.policy.priority)
              : Long.compare(a.sequence, b.sequence);

  private final Object lock;
  private final boolean enabled;
  private final int maxRunning;
  private final int maxQueued;
  private final RefreshManager.Clock clock;

  // Guarded by lock.
  private final PriorityQueue<Waiter> ready = new PriorityQueue<>(16, ORDER);
  private long sequence;
  private int running;
  private boolean draining;
  private boolean drainAgain;

  RetryQueue(Object lock, RefreshManager.Builder builder) {
    this.lock = lock;
    this.enabled = builder.queueMode;
    this.maxRunning = builder.maxConcurrentRetries;
    this.maxQueued = builder.maxQueuedCalls;
    this.clock = builder.clock;
  }

  boolean enabled() {
    return enabled;
  }

  /** Stamps {@code waiter} with its order of arrival, once. */
  void arrived(Waiter waiter) {
    assert Thread.holdsLock(lock);
    if (waiter.sequence == 0L) {
      waiter.sequence = ++sequence;
      waiter.waitingSinceMillis = clock.currentTimeMillis();
    }
  }

  /** True if no more calls may wait, counting {@code waitingForRefresh} and those queued here. */
  boolean isFull(int waitingForRefresh) {
    assert Thread.holdsLock(lock);
    return waitingForRefresh + ready.size() >= maxQueued;
  }

  IOException fullError() {
    return new IOException(
        "Retry queue is full: " + maxQueued + " calls are waiting (maxQueuedCalls)");
  }

  int size() {
    assert Thread.holdsLock(lock);
    return ready.size();
  }

  /** Queues the calls of the chain that starts at {@code head}, then starts what may start. */
  void offer(Waiter head) {
    synchronized (lock) {
      for (Waiter w = head; w != null; ) {
        Waiter next = w.next;
        w.next = null;
        arrived(w);
        w.owner = this;
        ready.add(w);
        w = next;
      }
    }
    drain();
  }

  /** Removes {@code waiter}; returns false if it is not queued here. */
  boolean remove(Waiter waiter) {
    assert Thread.holdsLock(lock);
    if (waiter.owner != this) return false;
    ready.remove(waiter);
    waiter.owner = null;
    return true;
  }

  /**
   * Takes the calls of {@code group}, or all of them if it is null, that wait for {@code flight} or
   * for a retry slot; returns them as a chain.
   */
  @Nullable Waiter take(@Nullable String group, @Nullable Flight flight) {
    assert Thread.holdsLock(lock);
    Waiter chain = null;
    for (Waiter w = flight != null ? flight.first() : null; w != null; ) {
      Waiter next = w.next;
      if (group == null || group.equals(w.policy.group)) {
        flight.remove(w);
        w.next = chain;
        chain = w;
      }
      w = next;
    }
    return takeQueued(group, chain);
  }

  /** Takes every queued call and links them in front of {@code chain}; returns the new head. */
  @Nullable Waiter takeAll(@Nullable Waiter chain) {
    return takeQueued(null, chain);
  }

  private @Nullable Waiter takeQueued(@Nullable String group, @Nullable Waiter chain) {
    assert Thread.holdsLock(lock);
    for (Iterator<Waiter> i = ready.iterator(); i.hasNext(); ) {
      Waiter w = i.next();
      if (group == null || group.equals(w.policy.group)) {
        i.remove();
        w.owner = null;
        w.next = chain;
        chain = w;
      }
    }
    return chain;
  }

  /** Describes the calls that wait for {@code flight} or for a retry slot. They hold no token. */
  List<QueuedCall> describe(@Nullable Flight flight) {
    assert Thread.holdsLock(lock);
    List<QueuedCall> result = new ArrayList<>();
    long now = clock.currentTimeMillis();
    for (Waiter w = flight != null ? flight.first() : null; w != null; w = w.next) {
      result.add(QueuedCall.of(w, now, true));
    }
    for (Waiter w : ready) result.add(QueuedCall.of(w, now, false));
    return Collections.unmodifiableList(result);
  }

  /** Called once by each retry that the queue started, when it has ended, whatever its result. */
  void retryFinished() {
    synchronized (lock) {
      running--;
    }
    drain();
  }

  /**
   * Starts queued retries while slots are free. One thread drains at a time; a thread that finds
   * another draining leaves its work to it, so that a retry that fails at once cannot recurse.
   */
  private void drain() {
    synchronized (lock) {
      if (draining) {
        drainAgain = true;
        return;
      }
      draining = true;
    }
    while (true) {
      Waiter next;
      synchronized (lock) {
        next = running < maxRunning ? ready.poll() : null;
        if (next == null) {
          if (drainAgain) {
            drainAgain = false;
            continue;
          }
          draining = false;
          return;
        }
        next.owner = null;
        running++;
      }
      try {
        next.proceed(this);
      } catch (RuntimeException e) {
        synchronized (lock) {
          draining = false;
        }
        retryFinished();
        throw e;
      }
    }
  }
}
