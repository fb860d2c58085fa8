package dev.retrofitauth;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.HttpUrl;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;

/**
 * The sessions of one keyed credential of a {@link SessionRegistry}: one session per key (a user of
 * a server, or a set of scopes), each built by the credential's {@link Factory} on first use, with
 * its own tokens, store and single flight.
 *
 * <pre>{@code
 * KeyedSessions<UserId> users = registry.keyed("user", UserId.class);
 * users.signIn(alice, tokensFromTheLoginFlow);
 * users.signOut(bob);                       // never touches another user's calls
 * int live = users.liveSessions();
 * }</pre>
 *
 * <p><b>Bounded.</b> At most {@link SessionRegistry.Builder#maxSessions} sessions of a credential
 * are live; beyond that, the least recently used are evicted, and so is every session unused for
 * {@link SessionRegistry.Builder#sessionIdleTimeout}. Nothing is lost: a session is evicted only
 * while no call uses it, no refresh runs and its store holds its tokens; its next call builds it
 * again from the factory, which loads the tokens from the store. A session whose store is {@link
 * TokenStore#inMemory()} holds the only copy of its tokens, so it is never evicted while signed in
 * (a store of your own is taken to keep its tokens). Building a session loads its store on the
 * calling thread.
 *
 * <p><b>Threads.</b> The sessions share one refresh executor ({@link
 * SessionRegistry.Builder#refreshExecutor}; by default at most 8 threads for the whole process,
 * other refreshes queue) and the process's timer, unless a factory gives its own: the number of
 * threads does not grow with the number of sessions.
 *
 * <p>Every method here works on an evicted key too: it builds the session again first. Instances
 * are thread-safe.
 *
 * @param <K> the key's type; {@link Object#equals} and {@link Object#hashCode} tell keys apart.
 */
public final class KeyedSessions<K> {
  /**
   * Configures the session of one key, as {@code RefreshManager.builder()...} does for one manager,
   * without calling {@code build()}: the registry builds it. Give each key its own store entry
   * ({@link TokenStore#fileIn}, a Redis key prefix, a row), and give its listeners the key: they
   * hear that key's events.
   */
  public interface Factory<K> {
    RefreshManager.Builder create(K key);
  }

  private final String name;
  private final @Nullable Class<K> keyType; // Null: a session per set of scopes.
  private final Factory<K> factory;
  private final SharedEdge edge;
  private final Executor executor;
  private final int maxSessions;
  private final long idleNanos;
  private final ConcurrentHashMap<Object, SessionEntry> live = new ConcurrentHashMap<>();
  private final AtomicBoolean trimming = new AtomicBoolean();
  private final AtomicBoolean idleSweepScheduled = new AtomicBoolean();
  private final Counters retired = new Counters(); // Guarded by this: the evicted sessions'.

  KeyedSessions(
      String name,
      @Nullable Class<K> keyType,
      Factory<K> factory,
      SharedEdge edge,
      Executor executor,
      int maxSessions,
      long idleNanos) {
    this.name = name;
    this.keyType = keyType;
    this.factory = factory;
    this.edge = edge;
    this.executor = executor;
    this.maxSessions = maxSessions;
    this.idleNanos = idleNanos;
  }

  /** The name this credential was registered under. */
  public String name() {
    return name;
  }

  /** The type of the keys: {@code String} for a credential per scope. */
  Class<?> keyType() {
    return keyType != null ? keyType : String.class;
  }

  /** The number of sessions live right now: built, and not evicted. */
  public int liveSessions() {
    return live.size();
  }

  /** Signs {@code key}'s session in, as {@link RefreshManager#signIn} does. */
  public void signIn(K key, Tokens tokens) throws IOException {
    Objects.requireNonNull(tokens, "tokens == null");
    SessionEntry entry = pin(checkKey(key));
    try {
      entry.manager().signIn(tokens);
    } finally {
      entry.unpin();
    }
  }

  /**
   * Signs {@code key}'s session out, as {@link RefreshManager#signOut} does: its calls that wait
   * for a refresh get their 401; no other key's calls are touched.
   */
  public void signOut(K key) throws IOException {
    SessionEntry entry = pin(checkKey(key));
    try {
      entry.manager().signOut();
    } finally {
      entry.unpin();
    }
  }

  /** Refreshes {@code key}'s session now, as {@link RefreshManager#refreshNow()} does. */
  public Tokens refreshNow(K key) throws IOException {
    SessionEntry entry = pin(checkKey(key));
    try {
      return entry.manager().refreshNow();
    } finally {
      entry.unpin();
    }
  }

  /** Returns {@code key}'s current tokens, loading its session if it is not live; null if none. */
  public @Nullable Tokens currentTokens(K key) throws IOException {
    SessionEntry entry = pin(checkKey(key));
    try {
      return entry.manager().currentTokens();
    } finally {
      entry.unpin();
    }
  }

  /**
   * Returns the counters of {@code key}'s session since it was last built: a session that was
   * evicted starts again from zero.
   */
  public RefreshManager.Stats stats(K key) throws IOException {
    SessionEntry entry = pin(checkKey(key));
    try {
      return entry.manager().stats();
    } finally {
      entry.unpin();
    }
  }

  /**
   * Returns the counters of every session of this credential added up, evicted ones included: the
   * numbers only grow, as a metrics backend expects.
   */
  public RefreshManager.Stats stats() {
    Counters total = new Counters();
    int waitingForRefresh = 0;
    int waitingForRetrySlot = 0;
    synchronized (this) {
      total.add(retired);
      for (SessionEntry entry : live.values()) {
        RefreshManager manager = entry.managerIfBuilt();
        if (manager == null) continue;
        Counters counters = manager.counters();
        total.add(counters);
        waitingForRefresh += counters.callsWaitingForRefresh;
        waitingForRetrySlot += counters.callsWaitingForRetrySlot;
      }
    }
    return new RefreshManager.Stats(total.copy(waitingForRefresh, waitingForRetrySlot));
  }

  private Object checkKey(@Nullable K key) {
    if (key == null) throw new NullPointerException("key == null");
    if (keyType != null && !keyType.isInstance(key)) {
      throw new ClassCastException(
          "credential \""
              + name
              + "\" is keyed by "
              + keyType.getName()
              + ", not "
              + key.getClass());
    }
    return keyType == null ? scopeKey(key.toString()) : key;
  }

  private static String scopeKey(String scope) {
    String normalized = MethodPolicy.normalizeScope(scope);
    return normalized != null ? normalized : "";
  }

  /**
   * Returns the key of {@code request}'s session: its tag of the key's type, or for a credential
   * per scope the method's (or the tag's) scopes. Fails if a call carries no key: it must never go
   * out with another key's token.
   */
  Object keyOf(Request request, MethodPolicy policy, @Nullable String scope) throws IOException {
    if (keyType == null) return scope != null ? scope : "";
    if (scope != null) {
      throw new IllegalStateException(
          "credential \""
              + name
              + "\" has a session per "
              + keyType.getSimpleName()
              + ", not per scope: remove the scope, or add the credential with addPerScope");
    }
    Object key = request.tag(keyType);
    if (key != null) return key;
    String simpleName = keyType.getSimpleName();
    String call =
        policy.methodName() != null ? "The call to " + policy.methodName() + "()" : "A request";
    throw new IOException(
        call
            + " uses credential \""
            + name
            + "\", which has one session per "
            + simpleName
            + ", and carries no "
            + simpleName
            + ": add a @Tag "
            + simpleName
            + " parameter to the method and pass a value that is not null (for a plain OkHttp"
            + " request: Request.Builder.tag("
            + simpleName
            + ".class, key)). It was not sent: a call without a key never borrows another key's"
            + " token.");
  }

  /** Returns {@code key}'s session if it is live, unpinned; null if it is not. */
  @Nullable SessionEntry live(Object key) {
    SessionEntry entry = live.get(key);
    return entry != null && entry.managerIfBuilt() != null ? entry : null;
  }

  /** Returns {@code key}'s session, pinned: built first if it is not live. Unpin it when done. */
  SessionEntry pin(Object key) throws IOException {
    while (true) {
      long now = System.nanoTime();
      SessionEntry entry = live.get(key);
      if (entry == null) {
        SessionEntry created = new SessionEntry(key, now);
        synchronized (created) { // Whoever finds it waits in manager() until it is built.
          entry = live.putIfAbsent(key, created);
          if (entry == null) build(created);
        }
        if (entry == null) {
          afterCreate(); // Outside the entry's lock: its key's callers need not wait for it.
          return created;
        }
      }
      if (!entry.tryPin(now)) continue; // Evicted just now: build it again.
      try {
        entry.manager();
      } catch (IllegalStateException e) {
        entry.unpin();
        throw factoryFailed(key, e.getCause());
      }
      return entry;
    }
  }

  @SuppressWarnings("unchecked") // The key was checked against the key type, or is a scope string.
  private void build(SessionEntry created) throws IOException {
    RefreshManager manager;
    try {
      RefreshManager.Builder builder = factory.create((K) created.key);
      if (builder == null) throw new NullPointerException("the factory returned null");
      builder.claimForSession(); // A builder shared by two keys would share its store.
      if (builder.executor == null) builder.executor = executor;
      manager = builder.build(edge.policies);
    } catch (RuntimeException | Error e) {
      created.failed(e);
      live.remove(created.key, created); // The next call of this key tries again.
      if (e instanceof Error) throw (Error) e;
      throw factoryFailed(created.key, e);
    }
    created.built(manager);
    edge.apply(manager);
  }

  private IOException factoryFailed(@Nullable Object key, @Nullable Throwable cause) {
    return new IOException(
        "The session factory of credential \""
            + name
            + "\" threw "
            + (cause != null
                ? cause.getClass().getName() + ": " + cause.getMessage()
                : "an exception")
            + "; fix the factory: every key's session is built by it",
        cause);
  }

  /** A factory of the registry serves {@code baseUrl}: tells the live sessions. */
  void servedBy(HttpUrl baseUrl) {
    for (SessionEntry entry : live.values()) {
      RefreshManager manager = entry.managerIfBuilt();
      if (manager != null) manager.servedBy(baseUrl);
    }
  }

  /** The registry's authenticator was handed out: tells the live sessions. */
  void authenticatorInUse() {
    for (SessionEntry entry : live.values()) {
      RefreshManager manager = entry.managerIfBuilt();
      if (manager != null) manager.authenticator();
    }
  }

  private void afterCreate() {
    trimToMax();
    if (idleNanos > 0L && idleSweepScheduled.compareAndSet(false, true)) scheduleIdleSweep();
  }

  /** Evicts the least recently used sessions while more than the maximum are live. */
  private void trimToMax() {
    while (true) {
      int excess = live.size() - maxSessions;
      if (excess <= 0 || !trimming.compareAndSet(false, true)) return;
      int evicted;
      try {
        // A little more than the excess, so that a full registry sorts once per few new keys.
        evicted = evictLeastRecentlyUsed(excess + maxSessions / 32);
      } finally {
        trimming.set(false);
      }
      if (evicted == 0) return; // Every session is busy: the next new key tries again.
    }
  }

  private int evictLeastRecentlyUsed(int count) {
    List<SessionEntry> idle = new ArrayList<>();
    for (SessionEntry entry : live.values()) {
      if (entry.unpinned()) idle.add(entry);
    }
    Collections.sort(idle, (a, b) -> Long.compare(a.lastUsedNanos(), b.lastUsedNanos()));
    int evicted = 0;
    for (SessionEntry entry : idle) {
      if (evicted == count) break;
      if (tryEvict(entry)) evicted++;
    }
    return evicted;
  }

  /** Evicts the sessions unused since {@code nowNanos} minus the idle timeout; returns how many. */
  int evictIdle(long nowNanos) {
    long cutoff = nowNanos - idleNanos;
    int evicted = 0;
    for (SessionEntry entry : live.values()) {
      if (entry.unusedSince(cutoff) && tryEvict(entry)) evicted++;
    }
    return evicted;
  }

  private boolean tryEvict(SessionEntry entry) {
    RefreshManager manager = entry.managerIfBuilt();
    if (manager == null || !manager.evictable() || !entry.tryMarkEvicted()) return false;
    // A refresh ahead that a call started before it unpinned may have begun meanwhile.
    if (!manager.evictable()) {
      entry.unmarkEvicted();
      return false;
    }
    synchronized (this) {
      retired.add(manager.counters());
      live.remove(entry.key, entry);
    }
    return true;
  }

  private void scheduleIdleSweep() {
    long delayNanos = Math.max(idleNanos / 2, TimeUnit.MILLISECONDS.toNanos(10));
    RefreshThreads.timer().schedule(new IdleSweep(this), delayNanos, TimeUnit.NANOSECONDS);
  }

  /** Evicts idle sessions now and then, while there are any; holds the sessions weakly. */
  private static final class IdleSweep implements Runnable {
    private final WeakReference<KeyedSessions<?>> sessions;

    IdleSweep(KeyedSessions<?> sessions) {
      this.sessions = new WeakReference<KeyedSessions<?>>(sessions);
    }

    @Override
    public void run() {
      KeyedSessions<?> owner = sessions.get();
      if (owner == null) return; // The registry is gone.
      try {
        owner.evictIdle(System.nanoTime());
      } finally {
        owner.idleSweepScheduled.set(false);
      }
      // A session built while this ran saw the flag still set: schedule for it here.
      if (!owner.live.isEmpty() && owner.idleSweepScheduled.compareAndSet(false, true)) {
        owner.scheduleIdleSweep();
      }
    }
  }

  @Override
  public String toString() {
    return "KeyedSessions{name=" + name + ", live=" + live.size() + "}";
  }
}
