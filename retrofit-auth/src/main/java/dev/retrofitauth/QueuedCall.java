package dev.retrofitauth;

import org.jspecify.annotations.Nullable;

/**
 * A call that waits in the manager: for the refresh to end, or in queue mode for a retry slot.
 * Returned by {@link RefreshManager#queuedCalls()}. It describes the call and holds no token.
 */
public final class QueuedCall {
  private final @Nullable String method;
  private final @Nullable String group;
  private final int priority;
  private final long waitingMillis;
  private final boolean refreshPending;

  QueuedCall(
      @Nullable String method,
      @Nullable String group,
      int priority,
      long waitingMillis,
      boolean refreshPending) {
    this.method = method;
    this.group = group;
    this.priority = priority;
    this.waitingMillis = waitingMillis;
    this.refreshPending = refreshPending;
  }

  static QueuedCall of(Waiter waiter, long now, boolean refreshPending) {
    MethodPolicy policy = waiter.policy;
    return new QueuedCall(
        policy.methodName(),
        policy.group,
        policy.priority,
        now - waiter.waitingSinceMillis,
        refreshPending);
  }

  /** The service method, as {@code Service.method}, or null for a plain OkHttp call. */
  public @Nullable String method() {
    return method;
  }

  /** The method's {@link RetryGroup}, or null. */
  public @Nullable String group() {
    return group;
  }

  /** The method's {@link RetryPriority}, or 0. */
  public int priority() {
    return priority;
  }

  /** How long the call has waited so far, in milliseconds of the manager's clock. */
  public long waitingMillis() {
    return waitingMillis;
  }

  /** True if the call waits for the refresh; false if it waits for a retry slot. */
  public boolean refreshPending() {
    return refreshPending;
  }

  @Override
  public String toString() {
    return "QueuedCall{method="
        + method
        + ", group="
        + group
        + ", priority="
        + priority
        + ", waitingMillis="
        + waitingMillis
        + ", refreshPending="
        + refreshPending
        + "}";
  }
}
