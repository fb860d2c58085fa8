package dev.retrofitauth;

import java.lang.annotation.Annotation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import okhttp3.Authenticator;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import org.codehaus.mojo.animal_sniffer.IgnoreJRERequirement;
import org.jspecify.annotations.Nullable;
import retrofit2.Call;

/**
 * Several sessions behind one Retrofit and one OkHttp client: named credentials chosen per method
 * with {@link Credential}, a session per key (per user of a server), and a token per set of scopes.
 * Each session is a {@link RefreshManager}, with its own tokens, store and single flight; all share
 * the process's refresh executor and timer.
 *
 * <pre>{@code
 * SessionRegistry sessions = SessionRegistry.builder()
 *     .add(userAuth)                                      // the default credential
 *     .add("partner", partnerAuth)                        // @Credential("partner")
 *     .addKeyed("user", UserId.class, user -> RefreshManager.builder()   // @Credential("user")
 *         .tokenStore(TokenStore.fileIn(tokenDir, user.value()))
 *         .refreshApi(refreshApi))
 *     .build();
 * OkHttpClient client = new OkHttpClient.Builder().addInterceptor(sessions.interceptor()).build();
 * Retrofit retrofit = new Retrofit.Builder()
 *     .baseUrl("https://api.example.com/")
 *     .client(client)
 *     .addCallAdapterFactory(AuthCallAdapterFactory.create(sessions))  // first
 *     .addConverterFactory(MoshiConverterFactory.create())
 *     .build();
 * }</pre>
 *
 * <p>A call's session comes from its service method's {@link Credential} (on the method, else on
 * its interface), read once per method; a method without one uses the default credential, and fails
 * if there is none (unless it is {@link NoAuth}). A keyed credential takes the key from the call's
 * {@code @Tag} parameter of the key's type; a call without one fails with an {@link
 * java.io.IOException} and is never sent. A plain OkHttp request picks its credential with a {@code
 * Credential} tag ({@link #credential(String)}) and its key with a tag of the key's type; without a
 * credential tag it uses the default credential, or goes out as it is if there is none.
 *
 * <p>Every session keeps its own rules: the token goes only to the origins that session allows (the
 * base URLs of the Retrofits this registry's factory serves, and its own {@code addAllowedOrigin}),
 * with its own DPoP key, leeway and listeners.
 *
 * <p>Instances are thread-safe. Nothing needs closing.
 */
public final class SessionRegistry {
  private final Router router;
  private final Map<String, SessionEntry> named;
  private final Map<String, KeyedSessions<?>> keyed;
  private final Interceptor interceptor;
  private final Interceptor networkInterceptor;

  private SessionRegistry(Builder builder) {
    SharedEdge edge = new SharedEdge();
    Map<String, SessionEntry> named = new LinkedHashMap<>();
    for (Map.Entry<String, RefreshManager> entry : builder.named.entrySet()) {
      named.put(entry.getKey(), new SessionEntry(entry.getValue()));
    }
    Map<String, KeyedSessions<?>> keyed = new LinkedHashMap<>();
    for (KeyedSpec<?> spec : builder.keyed) keyed.put(spec.name, spec.create(edge, builder));
    this.named = Collections.unmodifiableMap(named);
    this.keyed = Collections.unmodifiableMap(keyed);
    this.router = new Router(edge, this.named, this.keyed);
    this.interceptor = new Router.RoutedInterceptor(router, false);
    this.networkInterceptor = new Router.RoutedInterceptor(router, true);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a {@link Credential} for a plain OkHttp request's tag, which picks that credential:
   * {@code new Request.Builder().url(url).tag(Credential.class,
   * SessionRegistry.credential("partner"))}.
   */
  public static Credential credential(String name) {
    return credential(name, "");
  }

  /**
   * Like {@link #credential(String)}, for a credential per scope: {@code scope} picks its token.
   */
  public static Credential credential(String name, String scope) {
    Objects.requireNonNull(name, "name == null");
    Objects.requireNonNull(scope, "scope == null");
    return new CredentialTag(name, scope);
  }

  /**
   * Returns the OkHttp application interceptor that hands each request to its session's {@link
   * RefreshManager#interceptor()}.
   */
  public Interceptor interceptor() {
    return interceptor;
  }

  /**
   * Returns the OkHttp network interceptor that hands each network hop to its session's {@link
   * RefreshManager#networkInterceptor()}: needed when a session uses DPoP.
   */
  public Interceptor networkInterceptor() {
    return networkInterceptor;
  }

  /**
   * Returns an OkHttp {@link Authenticator} that hands each 401 of a call no factory wraps to its
   * session's {@link RefreshManager#authenticator()}.
   */
  public Authenticator authenticator() {
    return router.authenticator();
  }

  /**
   * Returns the manager of a named credential: {@code "default"} for the default one.
   *
   * @throws IllegalArgumentException if there is no named credential {@code name}.
   */
  public RefreshManager manager(String name) {
    Objects.requireNonNull(name, "name == null");
    SessionEntry entry = named.get(name);
    if (entry == null) {
      throw new IllegalArgumentException(
          "no named credential \"" + name + "\"; named: " + named.keySet());
    }
    return entry.manager();
  }

  /**
   * Returns the sessions of the keyed credential {@code name}, whose keys are of {@code keyType}.
   *
   * @throws IllegalArgumentException if there is no keyed credential {@code name} with that key
   *     type.
   */
  @SuppressWarnings("unchecked") // Checked against the type it was registered with.
  public <K> KeyedSessions<K> keyed(String name, Class<K> keyType) {
    Objects.requireNonNull(name, "name == null");
    Objects.requireNonNull(keyType, "keyType == null");
    KeyedSessions<?> sessions = keyed.get(name);
    if (sessions == null || !keyType.equals(sessions.keyType())) {
      throw new IllegalArgumentException(
          "no keyed credential \"" + name + "\" with keys of " + keyType.getName());
    }
    return (KeyedSessions<K>) sessions;
  }

  /** The names of every credential, named and keyed, in the order they were added. */
  public List<String> credentials() {
    List<String> all = new ArrayList<>(named.keySet());
    all.addAll(keyed.keySet());
    return Collections.unmodifiableList(all);
  }

  /**
   * Returns the counters of credential {@code name}: its manager's, or for a keyed credential those
   * of all its sessions added up ({@link KeyedSessions#stats()}).
   */
  public RefreshManager.Stats stats(String name) {
    Objects.requireNonNull(name, "name == null");
    SessionEntry entry = named.get(name);
    if (entry != null) return entry.manager().stats();
    KeyedSessions<?> sessions = keyed.get(name);
    if (sessions != null) return sessions.stats();
    throw new IllegalArgumentException("no credential \"" + name + "\"; " + credentials());
  }

  /** The live sessions of credential {@code name}: 1 for a named one. */
  public int liveSessions(String name) {
    Objects.requireNonNull(name, "name == null");
    if (named.containsKey(name)) return 1;
    KeyedSessions<?> sessions = keyed.get(name);
    if (sessions != null) return sessions.liveSessions();
    throw new IllegalArgumentException("no credential \"" + name + "\"; " + credentials());
  }

  /** What an {@link AuthCallAdapterFactory} of this registry wraps its calls with. */
  CallWrapper wrapper() {
    return new CallWrapper() {
      @Override
      <T> Call<T> wrap(Call<T> call, MethodPolicy.Slot slot) {
        return new RoutedCall<>(router, call, slot);
      }

      @Override
      void servedBy(HttpUrl baseUrl) {
        router.servedBy(baseUrl);
      }
    };
  }

  @Override
  public String toString() {
    return "SessionRegistry" + credentials();
  }

  /** Configures and builds a {@link SessionRegistry}. */
  public static final class Builder {
    final Map<String, RefreshManager> named = new LinkedHashMap<>();
    final List<KeyedSpec<?>> keyed = new ArrayList<>();
    @Nullable Executor executor;
    int maxSessions = 10_000;
    long idleNanos = TimeUnit.MINUTES.toNanos(30);

    Builder() {}

    /** Adds the default credential: the one of every method without a {@link Credential}. */
    public Builder add(RefreshManager manager) {
      return add(Router.DEFAULT, manager);
    }

    /** Adds a named credential, one session that {@code @Credential(name)} picks. */
    public Builder add(String name, RefreshManager manager) {
      Objects.requireNonNull(manager, "manager == null");
      checkName(name);
      named.put(name, manager);
      return this;
    }

    /**
     * Adds a keyed credential: one session per key, built by {@code factory} on first use. The key
     * of a call is its {@code @Tag} parameter of type {@code keyType} (the tag of that type, for a
     * plain OkHttp request). See {@link KeyedSessions}.
     */
    public <K> Builder addKeyed(String name, Class<K> keyType, KeyedSessions.Factory<K> factory) {
      Objects.requireNonNull(keyType, "keyType == null");
      Objects.requireNonNull(factory, "factory == null");
      checkName(name);
      keyed.add(new KeyedSpec<>(name, keyType, factory));
      return this;
    }

    /**
     * Adds a credential with a token per set of scopes, for a {@link TokenSource} that asks for the
     * scopes each method names with {@link Credential#scope()}: {@code factory} gets them sorted,
     * each once, separated by spaces ({@code ""} for a method that names none), and builds their
     * session; concurrent calls with different scopes each get a token with their own.
     *
     * <pre>{@code
     * .addPerScope("reports", scope -> RefreshManager.builder()
     *     .tokenSource(OAuth2TokenSource.clientCredentials(server, clientId, secret).scope(scope).build()))
     * }</pre>
     */
    public Builder addPerScope(String name, KeyedSessions.Factory<String> factory) {
      Objects.requireNonNull(factory, "factory == null");
      checkName(name);
      keyed.add(new KeyedSpec<>(name, null, factory));
      return this;
    }

    /**
     * Runs the refreshes of the keyed sessions whose factory sets no executor of its own; never
     * OkHttp's dispatcher executor. Defaults to a pool of at most 8 daemon threads that the keyed
     * sessions of every registry of the process share, so that a thousand users refreshing at once
     * do not start a thousand threads; their refreshes queue, and the time they queue counts
     * towards the refresh timeout. A {@link RefreshApi} or {@link TokenSource} that waits for
     * another keyed session's refresh must not run on a pool this small: give it its own.
     */
    public Builder refreshExecutor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor == null");
      return this;
    }

    /**
     * How many sessions of each keyed credential may be live at once; the least recently used are
     * evicted beyond it. Defaults to 10,000.
     */
    public Builder maxSessions(int maxSessions) {
      if (maxSessions < 1) throw new IllegalArgumentException("maxSessions < 1: " + maxSessions);
      this.maxSessions = maxSessions;
      return this;
    }

    /**
     * How long a keyed session may go unused before it is evicted. Defaults to 30 minutes; 0 turns
     * it off.
     */
    public Builder sessionIdleTimeout(long timeout, TimeUnit unit) {
      this.idleNanos = TimeUnit.MILLISECONDS.toNanos(Durations.toMillis("timeout", timeout, unit));
      return this;
    }

    /** Like {@link #sessionIdleTimeout(long, TimeUnit)}, for callers with {@code java.time}. */
    @IgnoreJRERequirement
    public Builder sessionIdleTimeout(Duration timeout) {
      this.idleNanos = TimeUnit.MILLISECONDS.toNanos(Durations.toMillis("timeout", timeout));
      return this;
    }

    private void checkName(String name) {
      Objects.requireNonNull(name, "name == null");
      if (name.isEmpty()) throw new IllegalArgumentException("name is empty");
      if (named.containsKey(name) || specNamed(name)) {
        throw new IllegalArgumentException(
            Router.DEFAULT.equals(name)
                ? "the default credential was added already"
                : "credential \"" + name + "\" was added already");
      }
    }

    private boolean specNamed(String name) {
      for (KeyedSpec<?> spec : keyed) {
        if (spec.name.equals(name)) return true;
      }
      return false;
    }

    /**
     * Builds the registry.
     *
     * @throws IllegalStateException if no credential was added.
     */
    public SessionRegistry build() {
      if (named.isEmpty() && keyed.isEmpty()) {
        throw new IllegalStateException(
            "no credential: add(manager) for the default one, add(name, manager), addKeyed or"
                + " addPerScope");
      }
      return new SessionRegistry(this);
    }
  }

  /** A keyed credential as the builder was told it. */
  static final class KeyedSpec<K> {
    final String name;
    final @Nullable Class<K> keyType; // Null for a credential per scope.
    final KeyedSessions.Factory<K> factory;

    KeyedSpec(String name, @Nullable Class<K> keyType, KeyedSessions.Factory<K> factory) {
      this.name = name;
      this.keyType = keyType;
      this.factory = factory;
    }

    KeyedSessions<K> create(SharedEdge edge, Builder builder) {
      Executor executor =
          builder.executor != null ? builder.executor : RefreshThreads.sessionsExecutor();
      return new KeyedSessions<>(
          name, keyType, factory, edge, executor, builder.maxSessions, builder.idleNanos);
    }
  }

  /** The value of a plain OkHttp request's {@code Credential} tag. */
  private static final class CredentialTag implements Credential {
    private final String value;
    private final String scope;

    CredentialTag(String value, String scope) {
      this.value = value;
      this.scope = scope;
    }

    @Override
    public String value() {
      return value;
    }

    @Override
    public String scope() {
      return scope;
    }

    @Override
    public Class<? extends Annotation> annotationType() {
      return Credential.class;
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Credential
          && value.equals(((Credential) other).value())
          && scope.equals(((Credential) other).scope());
    }

    @Override
    public int hashCode() {
      return (127 * "value".hashCode() ^ value.hashCode())
          + (127 * "scope".hashCode() ^ scope.hashCode());
    }

    @Override
    public String toString() {
      return "@dev.retrofitauth.Credential(value=\"" + value + "\", scope=\"" + scope + "\")";
    }
  }
}
