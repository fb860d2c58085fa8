package dev.retrofitauth;

import dev.retrofitauth.internal.Internal;
import dev.retrofitauth.internal.UsesDPoP;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
 * Holds the session's tokens and runs the one shared refresh that every call with a 401 waits for.
 *
 * <pre>{@code
 * RefreshManager auth = RefreshManager.builder()
 *     .refreshApi(refreshApi) // or OAuth2RefreshApi; tokenSource(...) for machine tokens
 *     .build();
 * OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
 * // and AuthCallAdapterFactory.create(auth), first, on the Retrofit.Builder
 * }</pre>
 *
 * <p>Single flight: a call that gets a 401 names the token it sent. If the manager holds another
 * token by then, the call is retried with it at once, with no refresh. Otherwise it joins the
 * running refresh, or starts one, and every call that joined sees the same outcome: after a success
 * the tokens are saved before any call is sent again, once; after a {@link
 * RefreshRejectedException} the tokens are cleared and each call gets its 401; after any other
 * failure the tokens are kept, each call fails with an {@link IOException} caused by it, and 401s
 * fail fast for a short {@linkplain Builder#refreshBackoff backoff}.
 *
 * <p>Instances are thread-safe. Refreshes run on the refresh executor, never on an OkHttp thread;
 * asynchronous calls park no thread while they wait. No user code runs under the manager's lock.
 *
 * <p>Nothing needs closing. A manager starts no thread and holds none: every manager of the process
 * shares one refresh executor (unless you give your own) and one timer, and both let their threads
 * go when idle. A manager that is no longer referenced is garbage collected like any object.
 */
public final class RefreshManager {
  private final SingleFlight singleFlight;
  private final TokenStore store;
  private final Origins origins;
  private final Listeners listeners;
  private final MethodPolicy.Cache policies;
  private final Unauthorized unauthorized;
  private final Interceptor interceptor;
  private final Interceptor networkInterceptor;
  private final Authenticator authenticator;

  private RefreshManager(Builder builder, MethodPolicy.Cache policies) {
    this.store = builder.store;
    this.policies = policies;
    this.origins = new Origins(builder.origins, builder.allowCleartext);
    this.listeners = new Listeners(builder.listeners.toArray(new AuthListener[0]));
    this.singleFlight = new SingleFlight(builder.config(), listeners);
    this.unauthorized =
        new Unauthorized(origins, listeners, builder.refreshApi, builder.tokenSource);
    this.interceptor =
        new AuthInterceptor(singleFlight, policies, origins, builder.dpop, builder.refreshRule);
    this.networkInterceptor = new DPoPNetworkInterceptor(builder.dpop, origins);
    this.authenticator =
        new AuthAuthenticator(singleFlight, unauthorized, policies, builder.dpop != null);
    singleFlight.restore();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the OkHttp application interceptor ({@code addInterceptor}) that adds {@code
   * Authorization: Bearer <access token>}, only for allowed origins (the base URLs its {@link
   * AuthCallAdapterFactory} serves, and {@link Builder#addAllowedOrigin}), never in clear text but
   * to loopback unless {@link Builder#allowCleartext}, never to {@link NoAuth} methods.
   */
  public Interceptor interceptor() {
    return interceptor;
  }

  /**
   * Returns the OkHttp network interceptor ({@code addNetworkInterceptor}) that signs a DPoP proof
   * for each network hop that carries the token: the first request, a redirect to the same origin,
   * and a retry, each with its own URL, {@code jti} and token hash. A hop that OkHttp sends without
   * the token (a redirect to another origin) gets no proof. Needed with {@link Builder#dpop}: a
   * request that carried the token without a proof fails with an {@link IllegalStateException} that
   * says to add it. Without DPoP it passes every request through.
   *
   * <pre>{@code
   * OkHttpClient client = new OkHttpClient.Builder()
   *     .addInterceptor(auth.interceptor())
   *     .addNetworkInterceptor(auth.networkInterceptor())
   *     .build();
   * }</pre>
   */
  public Interceptor networkInterceptor() {
    return networkInterceptor;
  }

  /**
   * Returns an OkHttp {@link Authenticator} that answers 401s with the same shared refresh, for
   * calls no {@link AuthCallAdapterFactory} wraps (plain OkHttp calls, such as an image loader's),
   * by the same rules: stale 401s, one retry, allowed origins, {@link NoAuth} and {@link NoRetry}.
   * A request answered this way holds its thread while it waits: OkHttp's API is synchronous.
   */
  public Authenticator authenticator() {
    origins.authenticatorInUse();
    return authenticator;
  }

  /** Returns the current tokens, or null if the user is signed out. */
  public @Nullable Tokens currentTokens() {
    return singleFlight.tokens();
  }

  /**
   * Replaces the tokens, saves them to the store and tells listeners. A refresh that is running is
   * superseded: its result is discarded and the calls waiting for it are sent with {@code tokens}.
   * Blocks until the store has saved the tokens.
   *
   * <p>If the store fails to save them, the tokens are still used from memory, and the failure goes
   * to {@link AuthListener#onStoreFailed}. With no listener at all it would go nowhere, so then
   * this method throws it instead.
   *
   * @throws IllegalStateException if the store failed to save the tokens and no {@link
   *     AuthListener} is registered to hear it; its cause is the store's exception.
   */
  public void signIn(Tokens tokens) {
    Objects.requireNonNull(tokens, "tokens == null");
    Exception failed = singleFlight.signIn(tokens);
    listeners.signedIn();
    if (failed != null && listeners.none()) {
      throw new IllegalStateException(
          "signIn() could not save the tokens to "
              + store
              + " ("
              + failed.getClass().getSimpleName()
              + ": "
              + failed.getMessage()
              + "); they are used from memory and are lost when the process ends. Fix the store,"
              + " or add an AuthListener with onStoreFailed to handle store failures yourself.",
          failed);
    }
  }

  /**
   * Clears the tokens from memory and from the store, and tells listeners once. A running refresh
   * is superseded: its waiting calls get their 401, or are sent without a token if they were not
   * sent yet (in {@linkplain Builder#queueMode(boolean) queue mode} those fail with an {@link
   * IOException}). Blocks until the store has been cleared.
   */
  public void signOut() {
    Tokens signedOut = singleFlight.changeSession(null);
    if (signedOut != null) {
      listeners.signedOut(AuthListener.SignOutReason.SIGN_OUT_CALLED);
      singleFlight.revoke(signedOut);
    }
  }

  /**
   * Refreshes now (after the user's roles changed, say), joining a running refresh, ignoring the
   * backoff, and blocks until the new tokens are saved; calls made meanwhile wait for it.
   *
   * @throws IOException if the refresh failed, was rejected, or nothing can be refreshed.
   */
  public Tokens refreshNow() throws IOException {
    RefreshNowWaiter.Blocking blocking = new RefreshNowWaiter.Blocking();
    RefreshNowWaiter waiter = new RefreshNowWaiter(singleFlight, blocking);
    singleFlight.refreshNow(waiter);
    singleFlight.awaitRelease(waiter, blocking.done, () -> {});
    return blocking.result();
  }

  /** Like {@link #refreshNow()}, without blocking: {@code callback} hears how it ended. */
  public void refreshNow(RefreshCallback callback) {
    Objects.requireNonNull(callback, "callback == null");
    singleFlight.refreshNow(new RefreshNowWaiter(singleFlight, callback));
  }

  /**
   * Fails, once each with an {@link IOException} that names it, the calls of {@link RetryGroup}
   * {@code group} that wait for a refresh or a retry slot; returns how many. The refresh goes on.
   */
  public int cancelQueued(String group) {
    Objects.requireNonNull(group, "group == null");
    return singleFlight.cancelQueued(group, "Canceled: retry group \"" + group + "\" was canceled");
  }

  /** Cancels every call that waits, as {@link #cancelQueued(String)} does for one group. */
  public int cancelAllQueued() {
    return singleFlight.cancelQueued(null, "Canceled: every queued call was canceled");
  }

  /** Returns a snapshot of the calls that wait for a refresh or a retry slot; it holds no token. */
  public List<QueuedCall> queuedCalls() {
    return singleFlight.queuedCalls();
  }

  /** Returns counters that describe what the manager has done so far. */
  public Stats stats() {
    return new Stats(singleFlight.counters());
  }

  /** Wraps {@code call}, a call of the service method that {@code slot} describes. */
  <T> Call<T> wrap(Call<T> call, MethodPolicy.Slot slot) {
    return new AuthCall<>(singleFlight, unauthorized, policies, call, slot);
  }

  /** An {@link AuthCallAdapterFactory} serves a Retrofit instance with {@code baseUrl}. */
  void servedBy(HttpUrl baseUrl) {
    origins.factoryServes(baseUrl);
  }

  /** What an {@link AuthCallAdapterFactory} of this manager wraps its calls with. */
  CallWrapper wrapper() {
    return new CallWrapper() {
      @Override
      <T> Call<T> wrap(Call<T> call, MethodPolicy.Slot slot) {
        return RefreshManager.this.wrap(call, slot);
      }

      @Override
      void servedBy(HttpUrl baseUrl) {
        RefreshManager.this.servedBy(baseUrl);
      }
    };
  }

  /**
   * True if a {@link SessionRegistry} may drop this session now and load it from its store again
   * later: nothing is under way, and the store is not memory that holds the only copy of tokens.
   */
  boolean evictable() {
    if (store instanceof InMemoryTokenStore && singleFlight.tokens() != null) return false;
    return singleFlight.quiet();
  }

  /** A copy of the counters, for a registry that adds up the sessions of a credential. */
  Counters counters() {
    return singleFlight.counters();
  }

  @Override
  public String toString() {
    return "RefreshManager{store=" + store + ", origins=" + origins + "}";
  }

  /** Counters of what a {@link RefreshManager} has done since it was built, as a snapshot. */
  public static final class Stats {
    private final Counters counters;

    Stats(Counters counters) {
      this.counters = counters;
    }

    /** Refreshes started, proactive ones included. */
    public long refreshesStarted() {
      return counters.refreshesStarted;
    }

    /** Refreshes that returned new tokens which were kept. */
    public long refreshesSucceeded() {
      return counters.refreshesSucceeded;
    }

    /** Refreshes that ended in {@link RefreshRejectedException}. */
    public long refreshesRejected() {
      return counters.refreshesRejected;
    }

    /** Refreshes that failed for a transient reason, or timed out. */
    public long refreshesFailed() {
      return counters.refreshesFailed;
    }

    /** 401s for a token that had already been replaced: retried without a refresh. */
    public long stale401s() {
      return counters.stale401s;
    }

    /** Calls sent a second time after a 401. */
    public long retries() {
      return counters.retries.get();
    }

    /**
     * Time spent in refreshes that succeeded, in {@code unit}; with {@link #refreshesSucceeded()},
     * their mean latency.
     */
    public long refreshTimeSucceeded(TimeUnit unit) {
      return unit.convert(counters.refreshNanosSucceeded, TimeUnit.NANOSECONDS);
    }

    /** Time spent in refreshes that were rejected, in {@code unit}. */
    public long refreshTimeRejected(TimeUnit unit) {
      return unit.convert(counters.refreshNanosRejected, TimeUnit.NANOSECONDS);
    }

    /** Time spent in refreshes that failed, timeouts included, in {@code unit}. */
    public long refreshTimeFailed(TimeUnit unit) {
      return unit.convert(counters.refreshNanosFailed, TimeUnit.NANOSECONDS);
    }

    /** Requests sent again once because the server asked for a new DPoP nonce. */
    public long dpopNonceResends() {
      return counters.dpopNonceResends.get();
    }

    /**
     * Requests that were about to go out with a token known to be dead (it got a 401 and its
     * refresh runs) and were answered locally instead, to be retried with the new token.
     */
    public long deadTokenRequestsAvoided() {
      return counters.deadTokenRequestsAvoided.get();
    }

    /** Calls waiting right now for a refresh to end. */
    public int callsWaitingForRefresh() {
      return counters.callsWaitingForRefresh;
    }

    /** In queue mode, calls whose refresh has ended that wait right now for a retry slot. */
    public int callsWaitingForRetrySlot() {
      return counters.callsWaitingForRetrySlot;
    }

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "Stats{refreshesStarted=%d, refreshesSucceeded=%d, refreshesRejected=%d, "
              + "refreshesFailed=%d, stale401s=%d, retries=%d, callsWaitingForRefresh=%d, "
              + "callsWaitingForRetrySlot=%d}",
          refreshesStarted(),
          refreshesSucceeded(),
          refreshesRejected(),
          refreshesFailed(),
          stale401s(),
          retries(),
          callsWaitingForRefresh(),
          callsWaitingForRetrySlot());
    }
  }

  /** Configures and builds a {@link RefreshManager}. */
  public static final class Builder {
    TokenStore store = TokenStore.inMemory();
    @Nullable RefreshApi refreshApi;
    @Nullable TokenSource tokenSource;
    @Nullable TokenRevoker revoker;
    @Nullable DPoP dpop;
    @Nullable RefreshRule refreshRule;
    @Nullable Executor executor;
    Clock clock = System::currentTimeMillis;
    long leewayMillis = TimeUnit.SECONDS.toMillis(30);
    boolean allowCleartext;
    boolean clearTokensWhenUnrefreshable;
    long backoffInitialMillis = TimeUnit.SECONDS.toMillis(1);
    long backoffMaxMillis = TimeUnit.MINUTES.toMillis(1);
    long refreshTimeoutMillis = TimeUnit.SECONDS.toMillis(60);
    long maxRetryAfterMillis = TimeUnit.HOURS.toMillis(1);
    long refreshAheadMillis = TimeUnit.SECONDS.toMillis(30);
    boolean queueMode;
    int maxConcurrentRetries = Integer.MAX_VALUE;
    int maxQueuedCalls = Integer.MAX_VALUE;
    final List<AuthListener> listeners = new ArrayList<>();
    final List<HttpUrl> origins = new ArrayList<>();
    private boolean claimed; // Guarded by this: a registry built a session from it.

    Builder() {}

    /**
     * Claims this builder for one keyed session of a {@link SessionRegistry}: a factory must return
     * a new builder for each key, or two keys would share one store.
     */
    synchronized void claimForSession() {
      if (claimed) {
        throw new IllegalStateException(
            "the factory of a keyed credential returned a builder it had returned before: return"
                + " a new RefreshManager.builder() for each key, or two keys share one store");
      }
      claimed = true;
    }

    /** Where tokens are kept. Defaults to {@link TokenStore#inMemory()}. */
    public Builder tokenStore(TokenStore store) {
      this.store = Objects.requireNonNull(store, "store == null");
      return this;
    }

    /**
     * How to exchange the refresh token. Without one, a 401 is handed to the caller and listeners
     * hear {@link AuthListener#onNoRefreshPossible()}.
     */
    public Builder refreshApi(RefreshApi refreshApi) {
      this.refreshApi = Objects.requireNonNull(refreshApi, "refreshApi == null");
      return this;
    }

    /**
     * Where machine tokens come from, for a backend or worker that never signs in. The first call
     * acquires tokens, and a 401 or an expiry within the leeway acquires new ones, through the same
     * single flight as a refresh. Use it instead of {@link #refreshApi}.
     */
    public Builder tokenSource(TokenSource tokenSource) {
      this.tokenSource = Objects.requireNonNull(tokenSource, "tokenSource == null");
      return this;
    }

    /**
     * Revokes the tokens at the server after each {@link RefreshManager#signOut()}, on the refresh
     * executor; {@code signOut()} does not wait for it, and a failure is told to {@link
     * AuthListener#onRevokeFailed}. Off by default.
     */
    public Builder revokeOnSignOut(TokenRevoker revoker) {
      this.revoker = Objects.requireNonNull(revoker, "revoker == null");
      return this;
    }

    /**
     * Sends a DPoP proof (RFC 9449) signed with {@code dpop}'s key with every network hop that
     * carries a token, and {@code Authorization: DPoP <token>} for tokens of type {@link
     * Tokens#DPOP}. Add {@link RefreshManager#networkInterceptor()} to the client too: it signs the
     * proofs. A 401 that asks for a new {@code DPoP-Nonce} is sent again once with it; that is not
     * a refresh. A 401 with {@code invalid_dpop_proof} is not refreshed: a new token cannot fix a
     * proof. Proofs' {@code iat} follows the servers' {@code Date} when the local clock is off.
     *
     * <p>One DPoP serves the manager and the library's {@code OAuth2RefreshApi} or {@code
     * OAuth2TokenSource}: give it to the helper's {@code dpop(...)} and the manager takes it from
     * there, or to both. {@link #build()} refuses a helper with another key, or with none when the
     * manager has one.
     */
    public Builder dpop(DPoP dpop) {
      this.dpop = Objects.requireNonNull(dpop, "dpop == null");
      return this;
    }

    /**
     * Also refreshes and retries once when {@code rule} says a response that is not a 401 means the
     * token expired. By default only a 401 does (never a 403).
     */
    public Builder refreshWhen(RefreshRule rule) {
      this.refreshRule = Objects.requireNonNull(rule, "rule == null");
      return this;
    }

    /** Adds a listener that hears sign-ins, refreshes and sign-outs. */
    public Builder addListener(AuthListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener == null"));
      return this;
    }

    /**
     * Runs the {@link RefreshApi}; never OkHttp's dispatcher executor, whose threads calls may
     * hold. Defaults to a pool of daemon threads that keeps no idle thread.
     */
    public Builder refreshExecutor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor == null");
      return this;
    }

    /** The source of the current time. Defaults to {@link System#currentTimeMillis()}. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock == null");
      return this;
    }

    /**
     * The longest time before its known expiry in which an access token counts as expired: a call
     * made then waits for a refresh before it is sent. A token is refreshed in the last 8% of its
     * lifetime (at least 0.5 s, never more than half of it, at most this and {@link #refreshAhead}
     * together), the margin; the leeway is at most half of it: 30 s of the last minute of an hour's
     * token, 1.2 s of a 30 s token's last 2.4 s. Defaults to 30 seconds.
     */
    public Builder expiryLeeway(long leeway, TimeUnit unit) {
      this.leewayMillis = Durations.toMillis("leeway", leeway, unit);
      return this;
    }

    /** Like {@link #expiryLeeway(long, TimeUnit)}, for callers with {@code java.time}. */
    @IgnoreJRERequirement
    public Builder expiryLeeway(Duration leeway) {
      this.leewayMillis = Durations.toMillis("leeway", leeway);
      return this;
    }

    /**
     * How long 401s fail fast after a transient refresh failure, before the next refresh may start.
     * The interval starts at {@code initial}, doubles with each failure in a row up to {@code max},
     * and is shortened by up to 20% at random. A success resets it. Defaults to 1 second and 1
     * minute; {@code initial == 0} turns it off.
     */
    public Builder refreshBackoff(long initial, long max, TimeUnit unit) {
      long initialMillis = Durations.toMillis("initial", initial, unit);
      Durations.checkOrder(initial, max < initial, max);
      this.backoffInitialMillis = initialMillis;
      this.backoffMaxMillis = unit.toMillis(max);
      return this;
    }

    /** Like {@link #refreshBackoff(long, long, TimeUnit)}, for callers with {@code java.time}. */
    @IgnoreJRERequirement
    public Builder refreshBackoff(Duration initial, Duration max) {
      long initialMillis = Durations.toMillis("initial", initial);
      Durations.checkOrder(initial, Durations.toMillis("max", max) < initialMillis, max);
      return refreshBackoff(initialMillis, max.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * How long the calls waiting for a refresh wait at most; then they fail with an {@link
     * java.io.InterruptedIOException}. Tokens that arrive within a second timeout are still saved,
     * and no second refresh starts meanwhile. At twice the timeout the refresh is abandoned (its
     * thread interrupted, its result ignored) and the next 401 may refresh again. Defaults to 60
     * seconds; 0 means no limit.
     */
    public Builder refreshTimeout(long timeout, TimeUnit unit) {
      this.refreshTimeoutMillis = Durations.toMillis("timeout", timeout, unit);
      return this;
    }

    /** Like {@link #refreshTimeout(long, TimeUnit)}, for callers with {@code java.time}. */
    @IgnoreJRERequirement
    public Builder refreshTimeout(Duration timeout) {
      this.refreshTimeoutMillis = Durations.toMillis("timeout", timeout);
      return this;
    }

    /**
     * The longest time before the leeway in which one background refresh starts, while calls go on
     * with the still valid token; only calls inside the leeway wait. It is the margin's first part
     * (see {@link #expiryLeeway}), and starts up to a fifth of it later at random. Defaults to 30
     * seconds; 0 turns it off, and the whole margin is leeway.
     */
    public Builder refreshAhead(long ahead, TimeUnit unit) {
      this.refreshAheadMillis = Durations.toMillis("ahead", ahead, unit);
      return this;
    }

    /** Like {@link #refreshAhead(long, TimeUnit)}, for callers with {@code java.time}. */
    @IgnoreJRERequirement
    public Builder refreshAhead(Duration ahead) {
      this.refreshAheadMillis = Durations.toMillis("ahead", ahead);
      return this;
    }

    /**
     * The longest wait a server's {@code Retry-After} ({@link RefreshFailedException#retryAfter})
     * can impose on refreshing. Defaults to 1 hour.
     */
    public Builder maxRetryAfter(long maxRetryAfter, TimeUnit unit) {
      this.maxRetryAfterMillis = Durations.toMillis("maxRetryAfter", maxRetryAfter, unit);
      return this;
    }

    /** Like {@link #maxRetryAfter(long, TimeUnit)}, for callers with {@code java.time}. */
    @IgnoreJRERequirement
    public Builder maxRetryAfter(Duration maxRetryAfter) {
      this.maxRetryAfterMillis = Durations.toMillis("maxRetryAfter", maxRetryAfter);
      return this;
    }

    /**
     * Allows the access token to go to the origin (scheme, host and port) of {@code url}, in
     * addition to the base URLs of the Retrofit instances the {@link AuthCallAdapterFactory}
     * serves. Use it for plain OkHttp calls.
     *
     * @throws IllegalArgumentException if {@code url} is not an http or https URL.
     */
    public Builder addAllowedOrigin(String url) {
      Objects.requireNonNull(url, "url == null");
      origins.add(Internal.parseUrl(url));
      return this;
    }

    /**
     * Lets the access token go over cleartext HTTP to hosts other than loopback. Defaults to false:
     * anyone on the network path could read the token. Use it only on trusted networks.
     */
    public Builder allowCleartext(boolean allowCleartext) {
      this.allowCleartext = allowCleartext;
      return this;
    }

    /**
     * Switches to queue mode ("flag + queue"): the manager retries the calls that waited for a
     * refresh from one queue, highest {@link RetryPriority} first, then in order of arrival, at
     * most {@link #maxConcurrentRetries(int)} at once. A synchronous caller blocks until its queued
     * retry, which runs on OkHttp's dispatcher, has finished. {@link RefreshManager#signOut()}
     * fails every queued call at once. Defaults to false: each call that waited retries itself as
     * soon as the shared refresh ends.
     */
    public Builder queueMode(boolean queueMode) {
      this.queueMode = queueMode;
      return this;
    }

    /** In queue mode, how many retries may run at once. Defaults to no limit. */
    public Builder maxConcurrentRetries(int maxConcurrentRetries) {
      if (maxConcurrentRetries < 1) {
        throw new IllegalArgumentException("maxConcurrentRetries < 1: " + maxConcurrentRetries);
      }
      this.maxConcurrentRetries = maxConcurrentRetries;
      return this;
    }

    /**
     * In queue mode, how many calls may wait at once, for the refresh or a retry slot; one more
     * fails at once with an {@link IOException}. Defaults to no limit.
     */
    public Builder maxQueuedCalls(int maxQueuedCalls) {
      if (maxQueuedCalls < 1) {
        throw new IllegalArgumentException("maxQueuedCalls < 1: " + maxQueuedCalls);
      }
      this.maxQueuedCalls = maxQueuedCalls;
      return this;
    }

    /**
     * Whether a 401 that cannot be refreshed (no {@link RefreshApi} or no refresh token) clears the
     * tokens. Defaults to false: the tokens are kept and listeners are told once.
     */
    public Builder clearTokensWhenUnrefreshable(boolean clear) {
      this.clearTokensWhenUnrefreshable = clear;
      return this;
    }

    /** The engine's immutable configuration, read from this */
    SessionConfig config() {
      return new SessionConfig(
          clock,
          store,
          refreshApi,
          tokenSource,
          revoker,
          executor != null ? executor : RefreshThreads.defaultExecutor(),
          RefreshThreads.timer(),
          leewayMillis,
          refreshAheadMillis,
          refreshTimeoutMillis,
          backoffInitialMillis,
          backoffMaxMillis,
          maxRetryAfterMillis,
          clearTokensWhenUnrefreshable,
          queueMode,
          maxConcurrentRetries,
          maxQueuedCalls);
    }

    /** Builds the manager and loads the store; if that fails, listeners hear it, signed out. */
    public RefreshManager build() {
      return build(new MethodPolicy.Cache());
    }

    private void check() {
      if (refreshApi != null && tokenSource != null) {
        throw new IllegalStateException(
            "refreshApi and tokenSource exclude each other: a session that is signed in to"
                + " refreshes with a RefreshApi, machine tokens come from a TokenSource");
      }
      Object grant = refreshApi != null ? refreshApi : tokenSource;
      if (grant instanceof UsesDPoP) dpop = oneDpop(dpop, ((UsesDPoP) grant).dpop(), grant);
      if (!queueMode
          && (maxConcurrentRetries != Integer.MAX_VALUE || maxQueuedCalls != Integer.MAX_VALUE)) {
        throw new IllegalStateException(
            "maxConcurrentRetries and maxQueuedCalls apply to queue mode: call queueMode(true)");
      }
    }

    /**
     * One DPoP key for the manager, which binds its tokens and proves them to APIs, and for the
     * library's helper that gets its tokens: the helper's if only it has one.
     */
    private static @Nullable DPoP oneDpop(
        @Nullable DPoP manager, @Nullable DPoP helper, Object grant) {
      String name = grant.getClass().getSimpleName();
      if (manager == null || manager == helper) return helper;
      if (helper == null) {
        throw new IllegalStateException(
            "the manager has a DPoP key, and its "
                + name
                + " sends token requests without DPoP proofs, so the server would not bind the"
                + " tokens to the key: give the DPoP to the helper's dpop(...) instead (the"
                + " manager takes it from there), or to both");
      }
      if (!manager.thumbprint().equals(helper.thumbprint())) {
        throw new IllegalStateException(
            "the manager's DPoP key (jkt "
                + manager.thumbprint()
                + ") is not the one its "
                + name
                + " proves token requests with (jkt "
                + helper.thumbprint()
                + "): tokens bound to one key cannot be proved with the other; use one DPoP");
      }
      return manager;
    }

    /** Builds a session of a {@link SessionRegistry}, which shares one cache of method rules. */
    RefreshManager build(MethodPolicy.Cache policies) {
      check();
      return new RefreshManager(this, policies);
    }
  }
}
