package dev.retrofitauth;

import java.lang.reflect.Method;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import retrofit2.Invocation;

/** What the annotations of one service method ask for, read once and cached. */
final class MethodPolicy {
  /** The policy of a request that did not come from a Retrofit service method. */
  static final MethodPolicy DEFAULT = new MethodPolicy(null, false, false, 0, null, null, null);

  final @Nullable Method method;
  final boolean noAuth;
  final boolean noRetry;
  final int priority;
  final @Nullable String group;

  /** The {@link Credential} it names, or null for the registry's default. */
  final @Nullable String credential;

  /** Its {@link Credential#scope()}, normalized by {@link #normalizeScope}; null if none. */
  final @Nullable String scope;

  /** Set once an {@link AuthCall} has wrapped a call of this method. */
  volatile boolean wrapped;

  /**
   * Set once a {@link RoutedCall} has run a call of this method: it holds its session pinned for
   * the whole call, so the registry's interceptor need not pin it again.
   */
  volatile boolean routed;

  private MethodPolicy(
      @Nullable Method method,
      boolean noAuth,
      boolean noRetry,
      int priority,
      @Nullable String group,
      @Nullable String credential,
      @Nullable String scope) {
    this.method = method;
    this.noAuth = noAuth;
    this.noRetry = noRetry;
    this.priority = priority;
    this.group = group;
    this.credential = credential;
    this.scope = scope;
  }

  /**
   * Returns {@code scope}'s scopes sorted, each once, separated by one space: one key for each
   * distinct set. Null for null or blank.
   */
  static @Nullable String normalizeScope(@Nullable String scope) {
    if (scope == null) return null;
    TreeSet<String> scopes = new TreeSet<>();
    for (String one : scope.trim().split("[ \\t]+")) {
      if (!one.isEmpty()) scopes.add(one);
    }
    if (scopes.isEmpty()) return null;
    StringBuilder result = new StringBuilder();
    for (String one : scopes) {
      if (result.length() > 0) result.append(' ');
      result.append(one);
    }
    return result.toString();
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

    /** The method's policy in a {@link SessionRegistry}'s cache, for its {@link RoutedCall}s. */
    volatile @Nullable MethodPolicy routed;
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
      Class<?> service = invocation.service();
      if (service != method.getDeclaringClass() && service.isAnnotationPresent(Credential.class)) {
        // One method is one policy: the sub-interface's credential would be silently ignored.
        throw new IllegalStateException(
            service.getSimpleName()
                + " has @Credential, and "
                + policy.methodName()
                + "() comes from the interface it extends, whose rules apply to it. Put"
                + " @Credential on the method, or on "
                + method.getDeclaringClass().getSimpleName()
                + ".");
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
      Credential credential = method.getAnnotation(Credential.class);
      if (credential == null) credential = service.getAnnotation(Credential.class);
      return new MethodPolicy(
          method,
          noAuth,
          noRetry,
          priority != null ? priority.value() : 0,
          group != null ? group.value() : null,
          credential != null ? credential.value() : null,
          credential != null ? normalizeScope(credential.scope()) : null);
    }
  }
}
