package dev.retrofitauth;

import java.lang.reflect.Method;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import retrofit2.Invocation;

/** What the annotations of one service method ask for, read once and cached. */
final class MethodPolicy {
  /** The policy of a request that did not come from a Retrofit service method. */
  static final MethodPolicy DEFAULT = new MethodPolicy(null, false, false);

  final @Nullable Method method;
  final boolean noAuth;
  final boolean noRetry;

  private MethodPolicy(@Nullable Method method, boolean noAuth, boolean noRetry) {
    this.method = method;
    this.noAuth = noAuth;
    this.noRetry = noRetry;
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
      return new MethodPolicy(method, noAuth, noRetry);
    }
  }
}
