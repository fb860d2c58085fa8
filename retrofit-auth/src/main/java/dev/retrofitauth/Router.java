package dev.retrofitauth;

import dev.retrofitauth.internal.Internal.AuthComponent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import okhttp3.Authenticator;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.Route;
import org.jspecify.annotations.Nullable;
import retrofit2.Invocation;

/**
 * Picks the session of a {@link SessionRegistry} for each request, from what the request carries:
 * its service method's {@link Credential} (read once per method), else a {@code Credential} tag,
 * else the default credential; for a keyed credential, the key. The registry's interceptors, its
 * authenticator and its calls ({@link RoutedCall}) each hand the request on to the session's own,
 * which does the rest.
 */
final class Router {
  static final String DEFAULT = "default";

  final SharedEdge edge;
  private final Map<String, SessionEntry> named;
  private final Map<String, KeyedSessions<?>> keyed;

  Router(SharedEdge edge, Map<String, SessionEntry> named, Map<String, KeyedSessions<?>> keyed) {
    this.edge = edge;
    this.named = named;
    this.keyed = keyed;
  }

  /**
   * Returns the session for {@code request}, pinned (unpin it when the request is done), or null if
   * no credential applies: a plain OkHttp request with no {@link Credential} tag in a registry with
   * no default credential.
   *
   * @throws IOException if the request belongs to a keyed credential and carries no key.
   * @throws IllegalStateException if it names a credential that the registry does not have.
   */
  @Nullable SessionEntry route(Request request, MethodPolicy policy) throws IOException {
    Routed routed = route(request, policy, true);
    return routed != null ? routed.entry : null;
  }

  /**
   * Like {@link #route(Request, MethodPolicy)}; with {@code pin} false, a keyed session that is
   * live is returned without a pin of its own, for a request whose {@link RoutedCall} holds it
   * pinned already.
   */
  private @Nullable Routed route(Request request, MethodPolicy policy, boolean pin)
      throws IOException {
    if (policy.method != null && policy.noAuth) return null; // No token: no session, no key.
    String name;
    String scope;
    if (policy.method != null) {
      name = policy.credential;
      scope = policy.scope;
    } else {
      Credential tag = request.tag(Credential.class);
      name = tag != null ? tag.value() : null;
      scope = tag != null ? MethodPolicy.normalizeScope(tag.scope()) : null;
    }
    String lookup = name != null ? name : DEFAULT;
    SessionEntry entry = named.get(lookup);
    if (entry != null) {
      if (scope != null) throw new IllegalStateException(scopeOnNamed(policy, lookup));
      return new Routed(entry, false);
    }
    KeyedSessions<?> sessions = keyed.get(lookup);
    if (sessions != null) {
      Object key = sessions.keyOf(request, policy, scope);
      if (!pin) {
        SessionEntry live = sessions.live(key);
        if (live != null) return new Routed(live, false);
      }
      return new Routed(sessions.pin(key), true);
    }
    if (name == null && policy.method == null) return null;
    throw new IllegalStateException(unknown(policy, name));
  }

  private String unknown(MethodPolicy policy, @Nullable String name) {
    String who = policy.methodName() != null ? policy.methodName() + "()" : "A request";
    if (name == null) {
      return who
          + " names no @Credential, and the SessionRegistry has no default credential. Annotate"
          + " the method or its interface with @Credential(\"...\"), or register a default with"
          + " SessionRegistry.Builder.add(manager). Credentials: "
          + names();
    }
    return who
        + " names @Credential(\""
        + name
        + "\"), which the SessionRegistry does not have. Credentials: "
        + names();
  }

  private String scopeOnNamed(MethodPolicy policy, String name) {
    String who = policy.methodName() != null ? policy.methodName() + "()" : "A request";
    return who
        + " asks credential \""
        + name
        + "\" for a scope, but it has one token for every call. Register it with"
        + " SessionRegistry.Builder.addPerScope to get a token per set of scopes, or remove the"
        + " scope.";
  }

  private List<String> names() {
    List<String> all = new ArrayList<>(named.keySet());
    all.addAll(keyed.keySet());
    Collections.sort(all);
    return all;
  }

  /** A factory of the registry serves {@code baseUrl}: its origin may get every session's token. */
  void servedBy(HttpUrl baseUrl) {
    // First, so that a session built from now on learns it; once per origin.
    if (!edge.servedBy(baseUrl)) return;
    for (SessionEntry entry : named.values()) entry.manager().servedBy(baseUrl);
    for (KeyedSessions<?> sessions : keyed.values()) sessions.servedBy(baseUrl);
  }

  Authenticator authenticator() {
    edge.authenticatorInUse();
    for (SessionEntry entry : named.values()) entry.manager().authenticator();
    for (KeyedSessions<?> sessions : keyed.values()) sessions.authenticatorInUse();
    return new RoutedAuthenticator(this);
  }

  MethodPolicy policyOf(Request request) {
    return edge.policies.get(request.tag(Invocation.class));
  }

  /**
   * Routes a request that reached OkHttp: a mistake in it fails the call with an {@link
   * IOException}, which OkHttp hands to the caller, instead of an exception that would end OkHttp's
   * thread.
   */
  @Nullable Routed routeInOkHttp(Request request) throws IOException {
    try {
      MethodPolicy policy = policyOf(request);
      return route(request, policy, !policy.routed);
    } catch (IllegalStateException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  /** A request's session, and whether routing pinned it: then {@link #done()} unpins it. */
  static final class Routed {
    final SessionEntry entry;
    private final boolean pinned;

    Routed(SessionEntry entry, boolean pinned) {
      this.entry = entry;
      this.pinned = pinned;
    }

    void done() {
      if (pinned) entry.unpin();
    }
  }

  /**
   * Hands each request to its session's {@link RefreshManager#interceptor()}, or as a network
   * interceptor each network hop to its session's {@link RefreshManager#networkInterceptor()}.
   */
  static final class RoutedInterceptor implements Interceptor, AuthComponent {
    private final Router router;
    private final boolean network;

    RoutedInterceptor(Router router, boolean network) {
      this.router = router;
      this.network = network;
    }

    @Override
    public Response intercept(Chain chain) throws IOException {
      Request request = chain.request();
      Routed routed = router.routeInOkHttp(request);
      if (routed == null) return chain.proceed(request);
      try {
        RefreshManager manager = routed.entry.manager();
        return (network ? manager.networkInterceptor() : manager.interceptor()).intercept(chain);
      } finally {
        routed.done();
      }
    }

    @Override
    public String toString() {
      return network ? "SessionRegistry.networkInterceptor()" : "SessionRegistry.interceptor()";
    }
  }

  /** Hands each 401 to its session's {@link RefreshManager#authenticator()}. */
  static final class RoutedAuthenticator implements Authenticator, AuthComponent {
    private final Router router;

    RoutedAuthenticator(Router router) {
      this.router = router;
    }

    @Override
    public @Nullable Request authenticate(@Nullable Route route, Response response)
        throws IOException {
      Request request = response.request();
      Routed routed = router.routeInOkHttp(request);
      if (routed == null) return null;
      try {
        return routed.entry.manager().authenticator().authenticate(route, response);
      } finally {
        routed.done();
      }
    }

    @Override
    public String toString() {
      return "SessionRegistry.authenticator()";
    }
  }
}
