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
 * Queue mode's bookkeeping ("flag + queue"): the calls whose refresh has ended wait here for a
 * retry slot, highest {@link RetryPriority} first, then in order of arrival; at most {@code
 * maxRunning} retries hold a slot at once; at most {@code maxQueued} calls wait, for the refresh or
 * here. It only keeps order and counts: {@link SingleFlight} decides, under its lock, and releases
 * the waiters it takes from here. In single-flight mode it is disabled and stays empty.
 */
final class RetryQueue {
  private static final Comparator<Waiter> ORDER =
      (a, b) ->
          a.policy.priority != b.policy.priority
              ? Integer.compare(b.policy.priority, a.policy.priority)
              : Long.compare(a.sequence, b.sequence);

  private final boolean enabled;
  private final int maxRunning;
  private final int maxQueued;

  // Guarded by lock: SingleFlight's. Created when the first call queues.
  private @Nullable PriorityQueue<Waiter> ready;
  private long sequence; // Guarded by lock.
  private int running; // Guarded by lock.

  RetryQueue(boolean enabled, int maxRunning, int maxQueued) {
    this.enabled = enabled;
    this.maxRunning = maxRunning;
    this.maxQueued = maxQueued;
  }

  boolean enabled() {
    return enabled;
  }

  /** Stamps {@code waiter} with its order of arrival and the time it started waiting, once. */
  void arrived(Waiter waiter, long now) {
    if (waiter.sequence == 0L) {
      waiter.sequence = ++sequence;
      waiter.waitingSinceMillis = now;
    }
  }

  /** True if no more calls may wait, counting {@code waitingForRefresh} and those queued here. */
  boolean isFull(int waitingForRefresh) {
    return waitingForRefresh + size() >= maxQueued;
  }

  IOException fullError() {
    return new IOException(
        "Retry queue is full: " + maxQueued + " calls are waiting (maxQueuedCalls)");
  }

  int size() {
    return ready != null ? ready.size() : 0;
  }

  /** Queues the calls of the chain that starts at {@code head}, which arrived at {@code now}. */
  void add(@Nullable Waiter head, long now) {
    PriorityQueue<Waiter> queue = ready;
    if (queue == null) ready = queue = new PriorityQueue<>(16, ORDER);
    for (Waiter w = head; w != null; ) {
      Waiter next = w.next;
      w.next = null;
      arrived(w, now);
      w.owner = this;
      queue.add(w);
      w = next;
    }
  }

  /**
   * Takes the next call that may retry now and counts its slot as running, or returns null if none
   * waits or every slot runs.
   */
  @Nullable Waiter startNext() {
    if (ready == null || running >= maxRunning) return null;
    Waiter next = ready.poll();
    if (next == null) return null;
    next.owner = null;
    running++;
    return next;
  }

  /** A retry that held a slot has ended. */
  void retryEnded() {
    running--;
  }

  /** Removes {@code waiter}; returns false if it is not queued here. */
  boolean remove(Waiter waiter) {
    if (waiter.owner != this || ready == null) return false;
    ready.remove(waiter);
    waiter.owner = null;
    return true;
  }

  /**
   * Takes the calls of {@code group}, or all of them if it is null, that wait for {@code flight} or
   * for a retry slot; returns them as a chain.
   */
  @Nullable Waiter take(@Nullable String group, @Nullable Flight flight) {
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
    if (ready == null) return chain;
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
  List<QueuedCall> describe(@Nullable Flight flight, long now) {
    List<QueuedCall> result = new ArrayList<>();
    for (Waiter w = flight != null ? flight.first() : null; w != null; w = w.next) {
      result.add(QueuedCall.of(w, now, true));
    }
    if (ready != null) {
      for (Waiter w : ready) result.add(QueuedCall.of(w, now, false));
    }
    return Collections.unmodifiableList(result);
  }
}
