package dev.retrofitauth;

import java.lang.reflect.Method;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import retrofit2.Invocation;

/** What the annotations of one service method ask for, read once and cached. */
final class MethodPolicy {
  /** The policy of a request that did not come from a Retrofit service method. */
  static final MethodPolicy DEFAULT = new MethodPolicy(null, false, false, 0, null);

  final @Nullable Method method;
  final boolean noAuth;
  final boolean noRetry;
  final int priority;
  final @Nullable String group;

  /** Set once an {@link AuthCall} has wrapped a call of this method. */
  volatile boolean wrapped;

  private MethodPolicy(
      @Nullable Method method,
      boolean noAuth,
      boolean noRetry,
      int priority,
      @Nullable String group) {
    this.method = method;
    this.noAuth = noAuth;
    this.noRetry = noRetry;
    this.priority = priority;
    this.group = group;
  }

  /** Returns {@code Service.method}, or null for a request that is not from a service method. */
  @Nullable String methodName() {
    return method != null
        ? method.getDeclaringClass().getSimpleName() + "." + method.getName()
        : null;
  }

  /**
   * The message for calls that reach the interceptor without {@link AuthCallAdapterFactory}'s
   * wrapping, because an adapter factory that never delegates ({@code before}) took them first.
   */
  static String notWrappedMessage(String before) {
    return "AuthCallAdapterFactory must be added before "
        + before
        + ": call addCallAdapterFactory(AuthCallAdapterFactory.create(auth)) first, "
        + "otherwise the calls it adapts are never refreshed on 401.";
  }

  /**
   * The policy of one service method, learnt from its first request and kept by its call adapter,
   * so that a call can decide whether to wait before it is sent without building its request.
   */
  static final class Slot {
    volatile @Nullable MethodPolicy policy;
  }

  static final class Cache {
    private final ConcurrentHashMap<Method, MethodPolicy> policies = new ConcurrentHashMap<>();

    MethodPolicy get(@Nullable Invocation invocation) {
      if (invocation == null) return DEFAULT;
      Method method = invocation.method();
      MethodPolicy policy = policies.get(method);
      if (policy == null) {
        policy = read(method);
        MethodPolicy raced = policies.putIfAbsent(method, policy);
        if (raced != null) policy = raced;
      }
      return policy;
    }

    private static MethodPolicy read(Method method) {
      Class<?> service = method.getDeclaringClass();
      boolean noAuth =
          method.isAnnotationPresent(NoAuth.class) || service.isAnnotationPresent(NoAuth.class);
      boolean noRetry =
          method.isAnnotationPresent(NoRetry.class) || service.isAnnotationPresent(NoRetry.class);
      RetryPriority priority = method.getAnnotation(RetryPriority.class);
      if (priority == null) priority = service.getAnnotation(RetryPriority.class);
      RetryGroup group = method.getAnnotation(RetryGroup.class);
      if (group == null) group = service.getAnnotation(RetryGroup.class);
      return new MethodPolicy(
          method,
          noAuth,
          noRetry,
          priority != null ? priority.value() : 0,
          group != null ? group.value() : null);
    }
  }
}
