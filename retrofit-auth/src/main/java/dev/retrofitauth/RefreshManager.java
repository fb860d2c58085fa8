package dev.retrofitauth;

import dev.retrofitauth.internal.Internal;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Authenticator;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import org.codehaus.mojo.animal_sniffer.IgnoreJRERequirement;
import org.jspecify.annotations.Nullable;

/**
 * Holds the session's tokens and runs the one shared refresh that every call with a 401 waits for.
 *
 * <pre>{@code
 * RefreshManager auth = RefreshManager.builder()
 *     .tokenStore(TokenStore.inMemory())
 *     .refreshApi(current -> {
 *       Response<TokenJson> r = authService.refresh(current.refreshToken()).execute();
 *       if (r.code() == 400 || r.code() == 401) throw new RefreshRejectedException("revoked");
 *       if (!r.isSuccessful()) throw new IOException("refresh failed: HTTP " + r.code());
 *       return Tokens.of(r.body().accessToken, r.body().refreshToken);
 *     })
 *     .build();
 *
 * OkHttpClient client = new OkHttpClient.Builder()
 *     .addInterceptor(auth.interceptor())
 *     .build();
 * Retrofit retrofit = new Retrofit.Builder()
 *     .baseUrl("https://api.example.com/")
 *     .client(client)
 *     .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
 *     .build();
 * }</pre>
 *
 * <h2>Single flight</h2>
 *
 * <p>When a call gets a 401, it asks the manager for a refresh and names the token it sent. If the
 * manager already holds another token, the call is retried with it at once and no refresh runs (the
 * call was sent before another call's refresh finished). If a refresh is running, the call joins
 * it. Otherwise the call starts one. Every call that joined a refresh sees the same outcome:
 *
 * <ul>
 *   <li>Success: the new tokens are saved to the {@link TokenStore} before any waiting call is
 *       released, then each call is sent again, once.
 *   <li>{@link RefreshRejectedException}: the tokens are cleared once, listeners hear one {@link
 *       AuthListener#onSignedOut} and each call gets its original 401.
 *   <li>Any other exception: the tokens are kept and each call fails with an {@link IOException}
 *       whose cause is the refresh failure. For a short, growing interval afterwards (the
 *       {@linkplain Builder#refreshBackoff backoff}) further 401s fail at once with the same cause
 *       instead of refreshing again; after it, the next 401 tries again.
 * </ul>
 *
 * <h2>Threads</h2>
 *
 * <p>Instances are thread-safe. The {@link RefreshApi} runs on the manager's refresh executor,
 * never on an OkHttp thread. Asynchronous calls park no thread while they wait; a synchronous
 * {@code execute()} blocks its caller. The manager calls no user code (refresh API, store,
 * listeners, callbacks) while it holds its lock.
 */
public final class RefreshManager {
  /** A source of the current time, so that tests can move time forward without waiting. */
  public interface Clock {
    /** Returns the current time in milliseconds since the epoch. */
    long currentTimeMillis();
  }

  // How a refresh ended, as seen by its waiters.
  static final int SUCCEEDED = 0;
  static final int REJECTED = 1;
  static final int FAILED = 2;
  static final int UNREFRESHABLE = 3;
  static final int SUPERSEDED = 4;

  final TokenStore store;
  final @Nullable RefreshApi refreshApi;
  final Executor executor;
  final Clock clock;
  final long leewayMillis;
  final boolean allowCleartext;
  final boolean clearTokensWhenUnrefreshable;
  final long backoffInitialMillis;
  final long backoffMaxMillis;
  final long refreshTimeoutMillis;
  final boolean queueMode;
  final int maxConcurrentRetries;
  final int maxQueuedCalls;
  private final AuthListener[] listeners;

  final Origins origins = new Origins();
  final MethodPolicy.Cache policies = new MethodPolicy.Cache();
  private final Interceptor interceptor = new AuthInterceptor(this);
  private final Authenticator authenticator = new AuthAuthenticator(this);
  // Marks the thread that runs the RefreshApi: a call it makes must not wait for itself.
  private final ThreadLocal<Boolean> refreshThread = new ThreadLocal<>();
  private final AtomicLong retries = new AtomicLong();
  private final Random jitter = new Random();

  private final Object lock = new Object();

  // Read without the lock on every request; written only under it.
  private volatile @Nullable Tokens tokens;
  private volatile @Nullable String header;
  private volatile boolean refreshing;

  // Guarded by lock.
  private long generation;
  private @Nullable Flight flight;
  private long unrefreshableToldFor = -1L;
  private int consecutiveFailures;
  private long backoffUntilMillis;
  private @Nullable IOException lastFailure;
  private long writtenGeneration;
  private boolean writing;
  private boolean storeInSync = true;
  private long refreshesStarted;
  private long refreshesSucceeded;
  private long refreshesRejected;
  private long refreshesFailed;
  private long stale401s;
  private int waitingCalls;
  private long sequence;
  private final RetryQueue retryQueue = new RetryQueue();
  private @Nullable ScheduledExecutorService timer;

  private RefreshManager(Builder builder) {
    this.store = builder.store;
    this.refreshApi = builder.refreshApi;
    this.executor = builder.executor != null ? builder.executor : defaultExecutor();
    this.clock = builder.clock;
    this.leewayMillis = builder.leewayMillis;
    this.allowCleartext = builder.allowCleartext;
    this.clearTokensWhenUnrefreshable = builder.clearTokensWhenUnrefreshable;
    this.backoffInitialMillis = builder.backoffInitialMillis;
    this.backoffMaxMillis = builder.backoffMaxMillis;
    this.refreshTimeoutMillis = builder.refreshTimeoutMillis;
    this.queueMode = builder.queueMode;
    this.maxConcurrentRetries = builder.maxConcurrentRetries;
    this.maxQueuedCalls = builder.maxQueuedCalls;
    this.listeners = builder.listeners.toArray(new AuthListener[0]);
    for (HttpUrl origin : builder.origins) origins.add(origin);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the OkHttp interceptor that adds {@code Authorization: Bearer <access token>} to each
   * request. Add it with {@link okhttp3.OkHttpClient.Builder#addInterceptor}; as a network
   * interceptor it fails every request.
   *
   * <p>The token goes only to allowed origins: the base URLs of the Retrofit instances that an
   * {@link AuthCallAdapterFactory} of this manager serves, plus those added with {@link
   * Builder#allowedOrigin}. It never goes over cleartext HTTP except to loopback, unless {@link
   * Builder#allowCleartext} is set. It is not added to requests of {@link NoAuth} methods, to
   * requests that already have an {@code Authorization} header, or when the manager holds no
   * tokens.
   */
  public Interceptor interceptor() {
    return interceptor;
  }

  /**
   * Returns an OkHttp {@link Authenticator} that answers 401s with the same shared refresh, for
   * calls that no {@link AuthCallAdapterFactory} wraps: plain OkHttp calls such as an image
   * loader's, or Retrofit instances without the factory. Install it with the interceptor:
   *
   * <pre>{@code
   * OkHttpClient client = new OkHttpClient.Builder()
   *     .addInterceptor(auth.interceptor())
   *     .authenticator(auth.authenticator())
   *     .build();
   * }</pre>
   *
   * <p>It follows the same rules: stale 401s retry without a refresh, each request is retried at
   * most once, only requests that carried this manager's token to an allowed origin are retried,
   * and {@link NoAuth} and {@link NoRetry} are honoured. Unlike a wrapped call, a request answered
   * this way holds its thread while it waits, because OkHttp's authenticator API is synchronous.
   * When both are installed, the authenticator answers the first 401 and the wrapped call hands the
   * retry's response over as final.
   */
  public Authenticator authenticator() {
    return authenticator;
  }

  /** Returns the current tokens, or null if the user is signed out. */
  public @Nullable Tokens currentTokens() {
    return tokens;
  }

  /**
   * Replaces the tokens, saves them to the store and tells listeners. A refresh that is running is
   * superseded: its result is discarded and the calls waiting for it are sent with {@code tokens}.
   * Blocks until the store has saved the tokens.
   */
  public void signIn(Tokens tokens) {
    Objects.requireNonNull(tokens, "tokens == null");
    changeSession(tokens);
    fire(Event.SIGNED_IN, null, null);
  }

  /**
   * Clears the tokens from memory and from the store, and tells listeners once. A refresh that is
   * running is superseded: its result is discarded, calls that got a 401 while waiting for it get
   * that 401, and calls that had not been sent are sent without a token. In {@linkplain
   * Builder#queueMode(boolean) queue mode} every queued call ends at once instead: a call that got
   * a 401 gets it, and a call that was not sent yet fails with an {@link IOException}. Blocks until
   * the store has been cleared.
   */
  public void signOut() {
    boolean wasSignedIn = changeSession(null);
    if (wasSignedIn) fire(Event.SIGNED_OUT, AuthListener.SignOutReason.SIGN_OUT_CALLED, null);
  }

  /** Replaces the tokens; returns true if there were tokens before. */
  private boolean changeSession(@Nullable Tokens newTokens) {
    Flight superseded;
    long persist;
    boolean hadTokens;
    Waiter waiters = null;
    List<Waiter> dropped = null;
    synchronized (lock) {
      hadTokens = tokens != null;
      superseded = flight;
      if (superseded != null) {
        flight = null;
        refreshing = false;
        waiters = detachWaiters(superseded);
      }
      if (queueMode && newTokens == null) {
        // Signed out: every queued call ends now, instead of being sent without a token.
        dropped = new ArrayList<>();
        for (Waiter w = waiters; w != null; w = w.next) dropped.add(w);
        waiters = null;
        superseded = null;
        takeMatching(null, dropped);
      }
      setTokens(newTokens);
      consecutiveFailures = 0;
      backoffUntilMillis = 0L;
      lastFailure = null;
      persist = generation;
    }
    persist(persist);
    if (superseded != null) release(waiters, SUPERSEDED, null, false, newTokens == null);
    if (dropped != null) {
      for (Waiter w : dropped) {
        w.prev = null;
        w.next = null;
        if (w.sent) {
          w.passThrough();
        } else {
          w.fail(new IOException("Canceled: signed out while waiting for a token refresh"));
        }
      }
    }
    return hadTokens;
  }

  /** Returns counters that describe what the manager has done so far. */
  public Stats stats() {
    synchronized (lock) {
      return new Stats(
          refreshesStarted,
          refreshesSucceeded,
          refreshesRejected,
          refreshesFailed,
          stale401s,
          retries.get(),
          waitingCalls + retryQueue.size());
    }
  }

  // ---- Used by the interceptor and AuthCall. ----

  @Nullable String currentHeader() {
    return header;
  }

  boolean mayReceiveToken(HttpUrl url) {
    return origins.contains(url) && (url.isHttps() || allowCleartext || Internal.isLoopback(url));
  }

  void allowOrigin(HttpUrl url) {
    origins.add(url);
  }

  void countRetry() {
    retries.incrementAndGet();
  }

  /** Returns false if no call needs to wait before it is sent: the cheap check for the hot path. */
  boolean mayWaitBeforeSend() {
    return refreshing || expiresSoon(tokens);
  }

  /**
   * Registers {@code waiter}, which has not been sent yet, if it must wait for a refresh: one is
   * running, or the access token expires within the leeway. Returns false if the call may be sent
   * at once; true if the waiter was registered, or failed at once because the queue is full.
   */
  boolean awaitBeforeSend(Waiter waiter) {
    if (!refreshing && !expiresSoon(tokens)) return false; // The fast path: no lock.
    if (refreshThread.get() != null) return false;
    Flight started = null;
    boolean full;
    synchronized (lock) {
      if (flight == null) {
        Tokens current = tokens;
        if (!expiresSoon(current) || !canRefresh(current) || inBackoff()) return false;
        started = startFlight(current, true);
      } else if (flight.timedOut) {
        return false;
      }
      full = isFull();
      if (!full) join(flight, waiter);
    }
    if (started != null) launch(started);
    if (full) waiter.fail(queueFull());
    return true;
  }

  /**
   * Handles a 401 for a request that carried {@code sentHeader}. Completes {@code waiter} now if
   * the answer is known, or registers it with the running refresh.
   */
  void onUnauthorized(String sentHeader, Waiter waiter) {
    if (refreshThread.get() != null) {
      // The RefreshApi's own call got a 401: waiting would wait for itself.
      waiter.passThrough();
      return;
    }
    int outcome;
    IOException failure = null;
    Flight started = null;
    boolean tellUnrefreshable = false;
    long persist = -1L;
    synchronized (lock) {
      Tokens current = tokens;
      if (current == null) {
        outcome = UNREFRESHABLE; // Signed out since the call was sent.
      } else if (!sentHeader.equals(header)) {
        stale401s++;
        outcome = SUCCEEDED; // Another call's refresh finished after this call was sent.
      } else if (isFull()) {
        outcome = -2;
      } else if (flight != null && !flight.timedOut) {
        join(flight, waiter);
        return;
      } else if (flight != null) {
        outcome = FAILED; // A timed-out refresh still runs: wait for neither it nor a second one.
        failure = lastFailure;
      } else if (!canRefresh(current)) {
        outcome = UNREFRESHABLE;
        if (unrefreshableToldFor != generation) {
          tellUnrefreshable = true;
          if (clearTokensWhenUnrefreshable) {
            setTokens(null);
            persist = generation;
          }
          unrefreshableToldFor = generation;
        }
      } else if (inBackoff()) {
        outcome = FAILED;
        failure = lastFailure;
      } else {
        started = startFlight(current, false);
        join(started, waiter);
        outcome = -1;
      }
    }
    if (started != null) {
      launch(started);
      return;
    }
    if (persist != -1L) persist(persist);
    if (tellUnrefreshable) {
      fire(Event.SIGNED_OUT, AuthListener.SignOutReason.NO_REFRESH_POSSIBLE, null);
    }
    if (outcome == -2) {
      waiter.fail(queueFull());
      return;
    }
    waiter.next = null;
    release(waiter, outcome, failure, false, false);
  }

  /**
   * Removes {@code waiter} from the refresh it waits for. Returns true if it was removed, and so
   * will never be completed by the manager; false if it was already completed or never waited.
   */
  boolean cancel(Waiter waiter) {
    synchronized (lock) {
      Object owner = waiter.owner;
      if (owner == null) return false;
      if (owner == retryQueue) return retryQueue.remove(waiter);
      unlink((Flight) owner, waiter);
      waitingCalls--;
      return true;
    }
  }

  // ---- The queue. ----

  private boolean isFull() {
    assert Thread.holdsLock(lock);
    return waitingCalls + retryQueue.size() >= maxQueuedCalls;
  }

  private IOException queueFull() {
    return new IOException(
        "Retry queue is full: " + maxQueuedCalls + " calls are waiting (maxQueuedCalls)");
  }

  /** Called by a retry that the queue started, when it has finished, whatever its result. */
  void retryFinished() {
    synchronized (lock) {
      retryQueue.running--;
    }
    drain();
  }

  /**
   * Starts queued retries while slots are free. One thread drains at a time; a thread that finds
   * another draining leaves its work to it, so that a retry that fails at once cannot recurse.
   */
  private void drain() {
    synchronized (lock) {
      if (retryQueue.draining) {
        retryQueue.drainAgain = true;
        return;
      }
      retryQueue.draining = true;
    }
    while (true) {
      Waiter next;
      synchronized (lock) {
        next = retryQueue.next(maxConcurrentRetries);
        if (next == null) {
          if (retryQueue.drainAgain) {
            retryQueue.drainAgain = false;
            continue;
          }
          retryQueue.draining = false;
          return;
        }
      }
      try {
        next.proceed();
      } catch (RuntimeException e) {
        synchronized (lock) {
          retryQueue.draining = false;
        }
        retryFinished();
        throw e;
      }
    }
  }

  /**
   * Cancels the calls of {@link RetryGroup} {@code group} that wait for a refresh or, in queue
   * mode, for a retry slot. Each fails once with an {@link IOException} that names the group; a
   * synchronous caller is woken with it. The refresh goes on. Returns how many were canceled.
   */
  public int cancelQueued(String group) {
    Objects.requireNonNull(group, "group == null");
    return cancelQueued(group, "Canceled: retry group \"" + group + "\" was canceled");
  }

  /** Cancels every call that waits, as {@link #cancelQueued(String)} does for one group. */
  public int cancelAllQueued() {
    return cancelQueued(null, "Canceled: every queued call was canceled");
  }

  private int cancelQueued(@Nullable String group, String reason) {
    List<Waiter> canceled = new ArrayList<>();
    synchronized (lock) {
      takeMatching(group, canceled);
    }
    for (Waiter w : canceled) w.fail(new IOException(reason));
    return canceled.size();
  }

  /** Moves the waiting calls of {@code group}, or all of them if it is null, into {@code out}. */
  private void takeMatching(@Nullable String group, List<Waiter> out) {
    assert Thread.holdsLock(lock);
    Flight current = flight;
    if (current != null) {
      for (Waiter w = current.head; w != null; ) {
        Waiter next = w.next;
        if (group == null || group.equals(w.policy.group)) {
          unlink(current, w);
          waitingCalls--;
          out.add(w);
        }
        w = next;
      }
    }
    for (Iterator<Waiter> i = retryQueue.iterator(); i.hasNext(); ) {
      Waiter w = i.next();
      if (group == null || group.equals(w.policy.group)) {
        i.remove();
        w.owner = null;
        out.add(w);
      }
    }
  }

  /**
   * Returns a snapshot of the calls that wait for a refresh or, in queue mode, for a retry slot:
   * their method, group, priority and how long they have waited. It holds no token.
   */
  public List<QueuedCall> queuedCalls() {
    List<QueuedCall> result = new ArrayList<>();
    synchronized (lock) {
      long now = clock.currentTimeMillis();
      if (flight != null) {
        for (Waiter w = flight.head; w != null; w = w.next) result.add(describe(w, now, true));
      }
      for (Iterator<Waiter> i = retryQueue.iterator(); i.hasNext(); ) {
        result.add(describe(i.next(), now, false));
      }
    }
    return Collections.unmodifiableList(result);
  }

  private static QueuedCall describe(Waiter w, long now, boolean refreshPending) {
    return new QueuedCall(
        w.policy.methodName(),
        w.policy.group,
        w.policy.priority,
        now - w.waitingSinceMillis,
        refreshPending);
  }

  // ---- The flight. ----

  private boolean expiresSoon(@Nullable Tokens tokens) {
    return tokens != null
        && tokens.hasExpiry()
        && clock.currentTimeMillis() >= tokens.expiresAtMillis() - leewayMillis;
  }

  private boolean canRefresh(Tokens tokens) {
    return refreshApi != null && tokens.refreshToken() != null;
  }

  private boolean inBackoff() {
    assert Thread.holdsLock(lock);
    return lastFailure != null && clock.currentTimeMillis() < backoffUntilMillis;
  }

  private Flight startFlight(Tokens current, boolean proactive) {
    assert Thread.holdsLock(lock);
    Flight started = new Flight(current, generation, proactive);
    flight = started;
    refreshing = true;
    refreshesStarted++;
    return started;
  }

  private void join(Flight flight, Waiter waiter) {
    assert Thread.holdsLock(lock);
    waiter.sequence = ++sequence;
    waiter.waitingSinceMillis = clock.currentTimeMillis();
    waiter.owner = flight;
    waiter.prev = flight.tail;
    if (flight.tail != null) {
      flight.tail.next = waiter;
    } else {
      flight.head = waiter;
    }
    flight.tail = waiter;
    waitingCalls++;
  }

  private static void unlink(Flight flight, Waiter waiter) {
    Waiter prev = waiter.prev;
    Waiter next = waiter.next;
    if (prev != null) {
      prev.next = next;
    } else {
      flight.head = next;
    }
    if (next != null) {
      next.prev = prev;
    } else {
      flight.tail = prev;
    }
    waiter.prev = null;
    waiter.next = null;
    waiter.owner = null;
  }

  /** Takes every waiter off {@code flight}; returns the first, still linked to the others. */
  private @Nullable Waiter detachWaiters(Flight flight) {
    assert Thread.holdsLock(lock);
    Waiter head = flight.head;
    for (Waiter w = head; w != null; w = w.next) {
      w.owner = null;
      waitingCalls--;
    }
    flight.head = null;
    flight.tail = null;
    return head;
  }

  private void launch(Flight flight) {
    if (refreshTimeoutMillis > 0L) {
      flight.timeout =
          timer().schedule(() -> timeOut(flight), refreshTimeoutMillis, TimeUnit.MILLISECONDS);
    }
    try {
      executor.execute(() -> run(flight));
    } catch (RejectedExecutionException e) {
      finish(flight, FAILED, null, new IOException("the refresh executor rejected the refresh", e));
    }
  }

  private ScheduledExecutorService timer() {
    synchronized (lock) {
      if (timer == null) {
        ScheduledThreadPoolExecutor executor =
            new ScheduledThreadPoolExecutor(1, daemonThreads("retrofit-auth refresh timeout"));
        executor.setKeepAliveTime(10, TimeUnit.SECONDS);
        executor.allowCoreThreadTimeOut(true); // No thread while no refresh runs.
        executor.setRemoveOnCancelPolicy(true);
        timer = executor;
      }
      return timer;
    }
  }

  private void run(Flight flight) {
    Tokens fresh = null;
    IOException failure = null;
    int outcome;
    refreshThread.set(Boolean.TRUE);
    try {
      fresh = newerStoredTokens(flight.tokens);
      if (fresh == null) {
        fresh = refreshApi.refresh(flight.tokens);
        if (fresh == null) throw new IOException("RefreshApi.refresh() returned null");
        String refreshToken = flight.tokens.refreshToken();
        if (fresh.refreshToken() == null && refreshToken != null) {
          fresh = fresh.withRefreshToken(refreshToken); // Not rotated: keep the one we have.
        }
      }
      outcome = SUCCEEDED;
    } catch (RefreshRejectedException e) {
      outcome = REJECTED;
      failure = e;
    } catch (IOException e) {
      outcome = FAILED;
      failure = e;
    } catch (RuntimeException e) {
      // A bug in user code: report it as a transient failure so that no waiter hangs.
      outcome = FAILED;
      failure = new IOException("RefreshApi threw " + e.getClass().getName(), e);
    } catch (Error e) {
      finish(
          flight, FAILED, null, new IOException("RefreshApi threw " + e.getClass().getName(), e));
      throw e;
    } finally {
      refreshThread.remove();
    }
    finish(flight, outcome, fresh, failure);
  }

  /**
   * Returns tokens that another process saved to the store after {@code failed}, or null. This is
   * the "re-read the store" step that keeps a shared store from being refreshed twice.
   */
  private @Nullable Tokens newerStoredTokens(Tokens failed) {
    synchronized (lock) {
      // The store may be behind memory, not ahead: between a change and its write, a load would
      // bring back tokens that were already replaced (found by StateMachineStressTest).
      if (!storeInSync || writing || writtenGeneration != generation) return null;
    }
    Tokens stored;
    try {
      stored = store.load();
    } catch (IOException | RuntimeException e) {
      fire(Event.STORE_FAILED, null, e);
      return null;
    }
    if (stored == null || stored.accessToken().equals(failed.accessToken())) return null;
    return stored;
  }

  private void finish(
      Flight flight, int outcome, @Nullable Tokens fresh, @Nullable IOException failure) {
    Waiter waiters;
    long persist = -1L;
    boolean oldTokenUsable;
    boolean signedOut;
    boolean timedOut;
    synchronized (lock) {
      if (this.flight == flight) {
        this.flight = null;
        refreshing = false;
      }
      flight.finished = true;
      timedOut = flight.timedOut;
      waiters = detachWaiters(flight);
      if (flight.generation != generation) {
        outcome = SUPERSEDED; // signIn() or signOut() ran meanwhile: the newer state wins.
      } else if (outcome == SUCCEEDED) {
        refreshesSucceeded++;
        setTokens(fresh);
        persist = generation;
        consecutiveFailures = 0;
        backoffUntilMillis = 0L;
        lastFailure = null;
      } else if (outcome == REJECTED) {
        refreshesRejected++;
        setTokens(null);
        persist = generation;
      } else if (!timedOut) {
        refreshesFailed++;
        recordFailure(failure);
      }
      signedOut = tokens == null;
      oldTokenUsable = oldTokenUsable(flight);
    }
    if (flight.timeout != null) flight.timeout.cancel(false);
    // Saved before any waiter is released, so that no call can outlive the refresh token.
    if (persist != -1L) persist(persist);
    if (outcome == SUCCEEDED) {
      fire(Event.REFRESHED, null, null);
    } else if (outcome == REJECTED) {
      fire(Event.SIGNED_OUT, AuthListener.SignOutReason.REFRESH_REJECTED, null);
    } else if (outcome == FAILED && !timedOut) {
      fire(Event.REFRESH_FAILED, null, failure);
    }
    release(waiters, outcome, failure, oldTokenUsable, signedOut);
  }

  /**
   * Fails the calls waiting for {@code flight}, which has run longer than the refresh timeout. The
   * refresh itself goes on: its result is still saved when it arrives, and until then no other
   * refresh starts, so that a refresh token is never presented twice at once.
   */
  private void timeOut(Flight flight) {
    Waiter waiters;
    boolean oldTokenUsable;
    IOException failure =
        new InterruptedIOException("token refresh timed out after " + refreshTimeoutMillis + " ms");
    synchronized (lock) {
      if (flight.finished || flight.timedOut) return;
      flight.timedOut = true;
      waiters = detachWaiters(flight);
      if (flight.generation == generation) {
        refreshesFailed++;
        recordFailure(failure);
      }
      oldTokenUsable = oldTokenUsable(flight);
    }
    fire(Event.REFRESH_FAILED, null, failure);
    release(waiters, FAILED, failure, oldTokenUsable, false);
  }

  private void recordFailure(@Nullable IOException failure) {
    assert Thread.holdsLock(lock);
    consecutiveFailures++;
    long now = clock.currentTimeMillis();
    backoffUntilMillis = now + backoffMillis(consecutiveFailures);
    if (failure instanceof RefreshFailedException) {
      RefreshFailedException details = (RefreshFailedException) failure;
      if (details.isPermanent()) {
        backoffUntilMillis = Long.MAX_VALUE; // Until signIn() or signOut().
      } else {
        backoffUntilMillis = Math.max(backoffUntilMillis, now + details.retryAfterMillis());
      }
    }
    lastFailure = failure;
  }

  /** True if the calls that waited for a proactive refresh may still use the old token. */
  private boolean oldTokenUsable(Flight flight) {
    return flight.proactive
        && flight.tokens.hasExpiry()
        && clock.currentTimeMillis() < flight.tokens.expiresAtMillis();
  }

  private long backoffMillis(int failures) {
    if (backoffInitialMillis == 0L) return 0L;
    long delay = backoffInitialMillis;
    for (int i = 1; i < failures && delay < backoffMaxMillis; i++) delay *= 2;
    delay = Math.min(delay, backoffMaxMillis);
    // Up to 20% less, so that a fleet of clients that failed together does not retry together.
    return delay - (long) (delay * 0.2 * jitter.nextDouble());
  }

  private void release(
      @Nullable Waiter head,
      int outcome,
      @Nullable IOException failure,
      boolean oldTokenUsable,
      boolean signedOut) {
    RuntimeException thrown = null;
    List<Waiter> queued = null;
    for (Waiter w = head; w != null; ) {
      Waiter next = w.next;
      w.prev = null;
      w.next = null;
      boolean proceed = mayProceed(w, outcome, oldTokenUsable, signedOut);
      if (proceed && queueMode) {
        if (queued == null) queued = new ArrayList<>();
        queued.add(w);
      } else {
        try {
          if (proceed) {
            w.proceed();
          } else if (w.sent && outcome != FAILED) {
            w.passThrough();
          } else {
            w.fail(new IOException("Token refresh failed", failure));
          }
        } catch (RuntimeException e) {
          // A callback threw. Release the other waiters first, then let it surface.
          if (thrown == null) thrown = e;
        }
      }
      w = next;
    }
    if (queued != null) {
      synchronized (lock) {
        for (Waiter w : queued) {
          if (w.sequence == 0L) w.sequence = ++sequence;
          if (w.waitingSinceMillis == 0L) w.waitingSinceMillis = clock.currentTimeMillis();
          retryQueue.add(w);
        }
      }
      drain();
    }
    if (thrown != null) throw thrown;
  }

  /**
   * Returns true if {@code waiter} should be sent (again) after {@code outcome}; false to hand its
   * 401 over (a sent call) or fail it.
   */
  private static boolean mayProceed(
      Waiter waiter, int outcome, boolean oldTokenUsable, boolean signedOut) {
    switch (outcome) {
      case SUCCEEDED:
        return true;
      case REJECTED:
      case UNREFRESHABLE:
        // A call that was not sent yet goes without a token: it sees the server's real answer.
        return !waiter.sent;
      case FAILED:
        // A proactive refresh failed, but the old token is still valid.
        return !waiter.sent && oldTokenUsable;
      case SUPERSEDED:
        return !(waiter.sent && signedOut);
      default:
        throw new AssertionError(outcome);
    }
  }

  private void setTokens(@Nullable Tokens newTokens) {
    assert Thread.holdsLock(lock);
    tokens = newTokens;
    header = newTokens != null ? "Bearer " + newTokens.accessToken() : null;
    generation++;
  }

  /**
   * Writes the state of {@code target} generation, or a newer one, to the store. Writes never
   * overlap and never hold the lock; a caller whose state another thread is writing waits for it.
   */
  private void persist(long target) {
    boolean interrupted = false;
    try {
      synchronized (lock) {
        while (writtenGeneration < target && writing) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            interrupted = true; // The write is short and must not be abandoned halfway.
          }
        }
        if (writtenGeneration >= target) return;
        writing = true;
      }
      while (true) {
        Tokens toWrite;
        long writingGeneration;
        synchronized (lock) {
          if (writtenGeneration >= generation) {
            writing = false;
            lock.notifyAll();
            return;
          }
          toWrite = tokens;
          writingGeneration = generation;
        }
        boolean ok = true;
        try {
          if (toWrite != null) {
            store.save(toWrite);
          } else {
            store.clear();
          }
        } catch (IOException | RuntimeException e) {
          ok = false;
          fire(Event.STORE_FAILED, null, e);
        }
        synchronized (lock) {
          writtenGeneration = writingGeneration;
          storeInSync = ok;
          lock.notifyAll();
        }
      }
    } finally {
      if (interrupted) Thread.currentThread().interrupt();
    }
  }

  private enum Event {
    SIGNED_IN,
    REFRESHED,
    REFRESH_FAILED,
    SIGNED_OUT,
    STORE_FAILED
  }

  private void fire(
      Event event, AuthListener.@Nullable SignOutReason reason, @Nullable Exception cause) {
    assert !Thread.holdsLock(lock);
    for (AuthListener listener : listeners) {
      try {
        switch (event) {
          case SIGNED_IN:
            listener.onSignedIn();
            break;
          case REFRESHED:
            listener.onRefreshed();
            break;
          case REFRESH_FAILED:
            listener.onRefreshFailed((IOException) cause);
            break;
          case SIGNED_OUT:
            listener.onSignedOut(reason);
            break;
          case STORE_FAILED:
            listener.onStoreFailed(cause);
            break;
        }
      } catch (RuntimeException ignored) {
        // Listeners are user code; one that throws must not break the calls it reports on.
      }
    }
  }

  private static Executor defaultExecutor() {
    // Like OkHttp's dispatcher: no idle threads, one per concurrent refresh, reaped after 60 s.
    return new ThreadPoolExecutor(
        0,
        Integer.MAX_VALUE,
        60,
        TimeUnit.SECONDS,
        new SynchronousQueue<>(),
        daemonThreads("retrofit-auth refresh"));
  }

  private static ThreadFactory daemonThreads(String name) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, name + " " + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  @Override
  public String toString() {
    return "RefreshManager{store=" + store + ", origins=" + origins + "}";
  }

  /** One refresh, shared by every call that waits for it. */
  private static final class Flight {
    final Tokens tokens;
    final long generation;
    final boolean proactive;
    volatile @Nullable ScheduledFuture<?> timeout;
    // Guarded by the manager's lock.
    @Nullable Waiter head;
    @Nullable Waiter tail;
    boolean timedOut;
    boolean finished;

    Flight(Tokens tokens, long generation, boolean proactive) {
      this.tokens = tokens;
      this.generation = generation;
      this.proactive = proactive;
    }
  }

  /** Counters of what a {@link RefreshManager} has done since it was built. */
  public static final class Stats {
    private final long refreshesStarted;
    private final long refreshesSucceeded;
    private final long refreshesRejected;
    private final long refreshesFailed;
    private final long stale401s;
    private final long retries;
    private final int waitingCalls;

    Stats(
        long refreshesStarted,
        long refreshesSucceeded,
        long refreshesRejected,
        long refreshesFailed,
        long stale401s,
        long retries,
        int waitingCalls) {
      this.refreshesStarted = refreshesStarted;
      this.refreshesSucceeded = refreshesSucceeded;
      this.refreshesRejected = refreshesRejected;
      this.refreshesFailed = refreshesFailed;
      this.stale401s = stale401s;
      this.retries = retries;
      this.waitingCalls = waitingCalls;
    }

    /** Refreshes started, proactive ones included. */
    public long refreshesStarted() {
      return refreshesStarted;
    }

    /** Refreshes that returned new tokens which were kept. */
    public long refreshesSucceeded() {
      return refreshesSucceeded;
    }

    /** Refreshes that ended in {@link RefreshRejectedException}. */
    public long refreshesRejected() {
      return refreshesRejected;
    }

    /** Refreshes that failed for a transient reason. */
    public long refreshesFailed() {
      return refreshesFailed;
    }

    /** 401s for a token that had already been replaced: retried without a refresh. */
    public long stale401s() {
      return stale401s;
    }

    /** Calls sent a second time after a 401. */
    public long retries() {
      return retries;
    }

    /** Calls waiting for a refresh right now. */
    public int waitingCalls() {
      return waitingCalls;
    }

    @Override
    public String toString() {
      return "Stats{refreshesStarted="
          + refreshesStarted
          + ", refreshesSucceeded="
          + refreshesSucceeded
          + ", refreshesRejected="
          + refreshesRejected
          + ", refreshesFailed="
          + refreshesFailed
          + ", stale401s="
          + stale401s
          + ", retries="
          + retries
          + ", waitingCalls="
          + waitingCalls
          + "}";
    }
  }

  /** Configures and builds a {@link RefreshManager}. */
  public static final class Builder {
    private TokenStore store = TokenStore.inMemory();
    private @Nullable RefreshApi refreshApi;
    private @Nullable Executor executor;
    private Clock clock = System::currentTimeMillis;
    private long leewayMillis = TimeUnit.SECONDS.toMillis(30);
    private boolean allowCleartext;
    private boolean clearTokensWhenUnrefreshable;
    private long backoffInitialMillis = TimeUnit.SECONDS.toMillis(1);
    private long backoffMaxMillis = TimeUnit.MINUTES.toMillis(1);
    private long refreshTimeoutMillis = TimeUnit.SECONDS.toMillis(60);
    private boolean queueMode;
    private int maxConcurrentRetries = Integer.MAX_VALUE;
    private int maxQueuedCalls = Integer.MAX_VALUE;
    private final List<AuthListener> listeners = new ArrayList<>();
    private final List<HttpUrl> origins = new ArrayList<>();

    Builder() {}

    /** Where tokens are kept. Defaults to {@link TokenStore#inMemory()}. */
    public Builder tokenStore(TokenStore store) {
      this.store = Objects.requireNonNull(store, "store == null");
      return this;
    }

    /**
     * How to exchange the refresh token. Without one, a 401 is handed to the caller and listeners
     * hear {@link AuthListener.SignOutReason#NO_REFRESH_POSSIBLE}.
     */
    public Builder refreshApi(RefreshApi refreshApi) {
      this.refreshApi = Objects.requireNonNull(refreshApi, "refreshApi == null");
      return this;
    }

    /** Adds a listener that hears sign-ins, refreshes and sign-outs. */
    public Builder listener(AuthListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener == null"));
      return this;
    }

    /**
     * The executor that runs the {@link RefreshApi} and then releases the waiting calls. Defaults
     * to a pool of daemon threads that keeps no idle thread. It must not be OkHttp's dispatcher
     * executor, whose threads the waiting calls may hold.
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
     * How long before its known expiry an access token counts as expired: a call made then waits
     * for a refresh before it is sent. Defaults to 30 seconds.
     */
    public Builder expiryLeeway(long leeway, TimeUnit unit) {
      Objects.requireNonNull(unit, "unit == null");
      if (leeway < 0) throw new IllegalArgumentException("leeway < 0: " + leeway);
      this.leewayMillis = unit.toMillis(leeway);
      return this;
    }

    /** Like {@link #expiryLeeway(long, TimeUnit)}, for callers with {@code java.time}. */
    @IgnoreJRERequirement
    public Builder expiryLeeway(Duration leeway) {
      Objects.requireNonNull(leeway, "leeway == null");
      return expiryLeeway(leeway.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * How long 401s fail fast after a transient refresh failure, before the next refresh may start.
     * The interval starts at {@code initial}, doubles with each failure in a row up to {@code max},
     * and is shortened by up to 20% at random. A success resets it. Defaults to 1 second and 1
     * minute; {@code initial == 0} turns it off.
     */
    public Builder refreshBackoff(long initial, long max, TimeUnit unit) {
      Objects.requireNonNull(unit, "unit == null");
      if (initial < 0) throw new IllegalArgumentException("initial < 0: " + initial);
      if (max < initial) {
        throw new IllegalArgumentException("max < initial: " + max + " < " + initial);
      }
      this.backoffInitialMillis = unit.toMillis(initial);
      this.backoffMaxMillis = unit.toMillis(max);
      return this;
    }

    /** Like {@link #refreshBackoff(long, long, TimeUnit)}, for callers with {@code java.time}. */
    @IgnoreJRERequirement
    public Builder refreshBackoff(Duration initial, Duration max) {
      Objects.requireNonNull(initial, "initial == null");
      Objects.requireNonNull(max, "max == null");
      return refreshBackoff(initial.toMillis(), max.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * How long the calls waiting for a refresh wait at most. When it runs out they fail with an
     * {@link java.io.InterruptedIOException}, as for any transient failure. The refresh itself is
     * not abandoned: its tokens are saved if they arrive later, and no second refresh starts while
     * it runs. Defaults to 60 seconds; 0 means no limit.
     */
    public Builder refreshTimeout(long timeout, TimeUnit unit) {
      Objects.requireNonNull(unit, "unit == null");
      if (timeout < 0) throw new IllegalArgumentException("timeout < 0: " + timeout);
      this.refreshTimeoutMillis = unit.toMillis(timeout);
      return this;
    }

    /** Like {@link #refreshTimeout(long, TimeUnit)}, for callers with {@code java.time}. */
    @IgnoreJRERequirement
    public Builder refreshTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout == null");
      return refreshTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Allows the access token to go to the origin (scheme, host and port) of {@code url}, in
     * addition to the base URLs of the Retrofit instances the {@link AuthCallAdapterFactory}
     * serves. Use it for plain OkHttp calls.
     *
     * @throws IllegalArgumentException if {@code url} is not an http or https URL.
     */
    public Builder allowedOrigin(String url) {
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
     * Switches to queue mode ("flag + queue"). Both modes share the same single-flight refresh. In
     * the default single-flight mode, each call that waited retries itself as soon as the refresh
     * ends. In queue mode the manager retries them from one queue: highest {@link RetryPriority}
     * first, then in order of arrival, with at most {@link #maxConcurrentRetries(int)} running at
     * once and at most {@link #maxQueuedCalls(int)} waiting. {@link RefreshManager#signOut()} fails
     * every queued call at once. A synchronous caller blocks until its own queued retry has
     * finished; the retry runs on OkHttp's dispatcher, not on the caller's thread.
     */
    public Builder queueMode(boolean queueMode) {
      this.queueMode = queueMode;
      return this;
    }

    /**
     * In queue mode, how many retries may run at once; the next starts when one finishes, with a
     * response or a failure. Defaults to no limit.
     */
    public Builder maxConcurrentRetries(int maxConcurrentRetries) {
      if (maxConcurrentRetries < 1) {
        throw new IllegalArgumentException("maxConcurrentRetries < 1: " + maxConcurrentRetries);
      }
      this.maxConcurrentRetries = maxConcurrentRetries;
      return this;
    }

    /**
     * In queue mode, how many calls may wait at once, for the refresh or for a retry slot. A call
     * that would go over it fails at once with an {@link IOException}; the calls already waiting
     * are unaffected. Defaults to no limit.
     */
    public Builder maxQueuedCalls(int maxQueuedCalls) {
      if (maxQueuedCalls < 1) {
        throw new IllegalArgumentException("maxQueuedCalls < 1: " + maxQueuedCalls);
      }
      this.maxQueuedCalls = maxQueuedCalls;
      return this;
    }

    /**
     * Whether a 401 that cannot be refreshed (there is no {@link RefreshApi} or no refresh token)
     * clears the tokens. Defaults to false: the tokens are kept and listeners are told once.
     */
    public Builder clearTokensWhenUnrefreshable(boolean clear) {
      this.clearTokensWhenUnrefreshable = clear;
      return this;
    }

    /**
     * Builds the manager and loads the store once. A store that fails to load is reported to the
     * listeners, and the manager starts signed out.
     */
    public RefreshManager build() {
      if (!queueMode
          && (maxConcurrentRetries != Integer.MAX_VALUE || maxQueuedCalls != Integer.MAX_VALUE)) {
        throw new IllegalStateException(
            "maxConcurrentRetries and maxQueuedCalls apply to queue mode: call queueMode(true)");
      }
      RefreshManager manager = new RefreshManager(this);
      manager.loadInitialTokens();
      return manager;
    }
  }

  private void loadInitialTokens() {
    Tokens loaded = null;
    try {
      loaded = store.load();
    } catch (IOException | RuntimeException e) {
      fire(Event.STORE_FAILED, null, e);
    }
    synchronized (lock) {
      tokens = loaded;
      header = loaded != null ? "Bearer " + loaded.accessToken() : null;
    }
  }
}
