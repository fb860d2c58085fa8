package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import retrofit2.Invocation;

/** {@link RetryQueue} on its own: its order, its slots, its bound, and cancelling by group. */
final class RetryQueueTest {
  @Test
  void highestPriorityFirstThenOrderOfArrival() {
    RetryQueue queue = new RetryQueue(true, Integer.MAX_VALUE, Integer.MAX_VALUE);
    Named low1 = new Named("low1", 0, null);
    Named high = new Named("high", 5, null);
    Named low2 = new Named("low2", 0, null);
    queue.arrived(low1, 1);
    queue.arrived(high, 2);
    queue.arrived(low2, 3);
    queue.add(chain(low2, high, low1), 4); // The order of the chain does not matter.

    assertEquals(Arrays.asList("high", "low1", "low2"), startAll(queue));
  }

  @Test
  void atMostMaxRunningHoldASlot() {
    RetryQueue queue = new RetryQueue(true, 2, Integer.MAX_VALUE);
    queue.add(chain(new Named("a"), new Named("b"), new Named("c")), 1);

    assertEquals("a", ((Named) queue.startNext()).name);
    assertEquals("b", ((Named) queue.startNext()).name);
    assertNull(queue.startNext());
    queue.retryEnded();
    assertEquals("c", ((Named) queue.startNext()).name);
  }

  @Test
  void fullCountsCallsWaitingForTheRefreshAndForASlot() {
    RetryQueue queue = new RetryQueue(true, 1, 3);
    assertFalse(queue.isFull(2));
    assertTrue(queue.isFull(3));
    queue.add(chain(new Named("a")), 1);
    assertTrue(queue.isFull(2));
    assertEquals(
        "Retry queue is full: 3 calls are waiting (maxQueuedCalls)",
        queue.fullError().getMessage());
  }

  @Test
  void arrivalIsStampedOnce() {
    RetryQueue queue = new RetryQueue(true, 1, 3);
    Named call = new Named("a");
    queue.arrived(call, 100);
    queue.arrived(call, 200);
    assertEquals(100, call.waitingSinceMillis);
    assertEquals(1, call.sequence);
  }

  @Test
  void takeByGroupLeavesTheOthers() {
    RetryQueue queue = new RetryQueue(true, 0, Integer.MAX_VALUE); // No slot: everything waits.
    Named feed = new Named("feed", 0, "feed");
    Named other = new Named("other", 0, null);
    queue.add(chain(feed, other), 1);

    Waiter taken = queue.take("feed", null);
    assertSame(feed, taken);
    assertNull(taken.next);
    assertEquals(1, queue.size());
    assertTrue(queue.remove(other));
    assertFalse(queue.remove(other));
    assertEquals(0, queue.size());
  }

  @Test
  void describesWaitingCallsWithoutTokens() {
    RetryQueue queue = new RetryQueue(true, 0, Integer.MAX_VALUE);
    queue.add(chain(new Named("a", 5, "feed")), 100);
    List<QueuedCall> calls = queue.describe(null, 250);
    assertEquals(1, calls.size());
    assertEquals(150, calls.get(0).waitingMillis());
    assertEquals(5, calls.get(0).priority());
    assertEquals("feed", calls.get(0).group());
    assertFalse(calls.get(0).refreshPending());
  }

  private static List<String> startAll(RetryQueue queue) {
    List<String> names = new java.util.ArrayList<>();
    for (Waiter w; (w = queue.startNext()) != null; ) names.add(((Named) w).name);
    return names;
  }

  /** The policy of a service method annotated with {@code priority} and {@code group}. */
  private static MethodPolicy policy(int priority, @Nullable String group) {
    String method = (priority != 0 ? "high" : "normal") + (group != null ? "Grouped" : "");
    try {
      Method m = Methods.class.getMethod(method);
      // Only the method's annotations are read; the instance is a proxy that does nothing.
      Methods instance =
          (Methods)
              java.lang.reflect.Proxy.newProxyInstance(
                  Methods.class.getClassLoader(),
                  new Class<?>[] {Methods.class},
                  (proxy, called, args) -> null);
      return new MethodPolicy.Cache()
          .get(Invocation.of(Methods.class, instance, m, Collections.emptyList()));
    } catch (NoSuchMethodException e) {
      throw new AssertionError(e);
    }
  }

  interface Methods {
    void normal();

    @RetryGroup("feed")
    void normalGrouped();

    @RetryPriority(5)
    void high();

    @RetryPriority(5)
    @RetryGroup("feed")
    void highGrouped();
  }

  private static Waiter chain(Waiter... waiters) {
    for (int i = 0; i < waiters.length - 1; i++) waiters[i].next = waiters[i + 1];
    return waiters[0];
  }

  private static final class Named extends Waiter {
    final String name;

    Named(String name) {
      this(name, 0, null);
    }

    Named(String name, int priority, @Nullable String group) {
      super(true, policy(priority, group));
      this.name = name;
    }

    @Override
    void proceed(@Nullable Runnable retryEnded) {}

    @Override
    void passThrough() {}

    @Override
    void fail(IOException e) {}
  }
}
