package dev.retrofitauth;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One session's refresh, from the decision to start it to the release of the last call that waited
 * for it: the file to read for a 401. It owns the session's lock, the {@link Session} and the
 * current {@link Flight}. Every decision about a call is a {@link Fate}, chosen under the lock and
 * acted on outside it, and every waiting call is released here, by {@link #release}: when its
 * refresh ends, when it is cancelled, when the queue is full, when the refresh times out. Queue
 * mode's retry slots are handed out here too.
 *
 * <h3>The fate table</h3>
 *
 * <p>Three kinds of waiting call: an <b>unsent</b> call waited before it was sent (a refresh ran,
 * or its token was inside the leeway); a <b>sent</b> call got a 401 and holds it; in queue mode a
 * call of either kind that may proceed first waits for a retry slot (<b>queued</b>). What each does
 * when it is released:
 *
 * <table>
 *   <caption>What a waiting call does, for each way its wait can end</caption>
 *   <tr><th>ending ({@link Fate})</th><th>unsent call</th><th>sent call (holds a 401)</th>
 *       <th>queue mode</th></tr>
 *   <tr><td>{@code SUCCEEDED}: new tokens are saved</td><td>sent</td><td>sent again, once</td>
 *       <td>waits for a slot, then as single flight</td></tr>
 *   <tr><td>{@code STALE}: the 401 was for a token already replaced</td><td>-</td>
 *       <td>sent again at once, no refresh</td><td>waits for a slot, then sent again</td></tr>
 *   <tr><td>{@code REJECTED}: the refresh token was refused (or another process signed out);
 *       tokens cleared</td><td>sent without a token</td><td>gets its 401</td>
 *       <td>as single flight (a slot first, for the unsent call)</td></tr>
 *   <tr><td>{@code UNREFRESHABLE}, {@code UNREFRESHABLE_NEWLY}: nothing to refresh with, signed
 *       out, or the 401 came from inside the refresh</td><td>sent without a token</td>
 *       <td>gets its 401</td><td>as {@code REJECTED}</td></tr>
 *   <tr><td>{@code FAILED}: a transient failure, a failure a moment ago (backoff), a timed-out
 *       refresh that still runs, or the refresh timeout</td><td>fails</td><td>fails</td>
 *       <td>fails</td></tr>
 *   <tr><td>{@code FAILED_OLD_TOKEN_VALID}: as {@code FAILED}, for a refresh started ahead of
 *       expiry whose old token has not expired and got no 401</td><td>sent with the old token</td>
 *       <td>fails</td><td>waits for a slot, then sent (unsent); fails (sent)</td></tr>
 *   <tr><td>{@code SUPERSEDED_BY_SIGN_IN}: {@code signIn()} ran meanwhile</td>
 *       <td>sent with the new tokens</td><td>sent again with the new tokens</td>
 *       <td>waits for a slot, then as single flight</td></tr>
 *   <tr><td>{@code SUPERSEDED_BY_SIGN_OUT}: {@code signOut()} ran meanwhile</td>
 *       <td>sent without a token</td><td>gets its 401</td>
 *       <td>becomes {@code SIGNED_OUT_WHILE_QUEUED}</td></tr>
 *   <tr><td>{@code SIGNED_OUT_WHILE_QUEUED}: queue mode, {@code signOut()}</td><td>fails</td>
 *       <td>gets its 401</td><td>(queue mode only)</td></tr>
 *   <tr><td>{@code QUEUE_FULL}: {@code maxQueuedCalls} calls wait already</td><td>fails</td>
 *       <td>fails</td><td>(queue mode only)</td></tr>
 *   <tr><td>{@code CANCELED}: the call was cancelled or interrupted, or the app cancelled its group
 *       or every queued call</td><td>fails</td><td>fails</td><td>fails, slot or not</td></tr>
 * </table>
 *
 * <p>"Fails" is an {@link IOException}: for the failures, {@code "Token refresh failed: "} (for a
 * token source {@code "Token request failed: "}) and the refresh's failure's message, with that
 * failure as its cause (an {@link InterruptedIOException} for a timeout); for a cancel, the reason
 * given, as an {@link InterruptedIOException} for an interrupt. A refresh always ends in exactly
 * one of these for every call that waited for it, and a call is released exactly once.
 *
 * <h3>The refresh's states</h3>
 *
 * <p>A {@link Flight} is RUNNING from its start; then exactly one of: FINISHED (the refresh
 * returned: its tokens are saved before any waiter is released), TIMED_OUT (the refresh timeout
 * passed: its waiters fail; it stays current, so no second refresh presents the same refresh token,
 * and tokens that arrive within a second timeout are still saved; then FINISHED), ABANDONED (twice
 * the timeout: it stops being current, its thread is interrupted and its lease released, and what
 * it returns is ignored), or superseded by a sign-in or sign-out (it stops being current at once,
 * its waiters are released as the table says, and what it returns is discarded).
 *
 * <p>The lock guards this file's fields, the session, the backoff, the store writer's bookkeeping
 * and the retry queue. It is held only for bookkeeping: never while user code runs (the clock is
 * read before it is taken), never while a waiter is released.
 */
final class SingleFlight implements Engine {
  /** What becomes of a call: a decision that it waits or goes, or the ending of its wait. */
  enum Fate {
    /** Decision: nothing to wait for; the unsent call is sent now. */
    SEND(Action.PROCEED, null, false),
    /** Decision: one refresh starts in the background; the unsent call is sent now. */
    START_BACKGROUND(Action.PROCEED, null, false),
    /** Decision: start a refresh and wait for it. */
    START(Action.WAIT, Action.WAIT, false),
    /** Decision: a refresh runs; wait for it. */
    JOIN(Action.WAIT, Action.WAIT, false),
    SUCCEEDED(Action.PROCEED, Action.PROCEED, true),
    STALE(null, Action.PROCEED, true),
    REJECTED(Action.PROCEED, Action.PASS_THROUGH, true),
    UNREFRESHABLE(Action.PROCEED, Action.PASS_THROUGH, true),
    /** As {@link #UNREFRESHABLE}, the first time for these tokens: the listeners hear it. */
    UNREFRESHABLE_NEWLY(Action.PROCEED, Action.PASS_THROUGH, true),
    FAILED(Action.FAIL, Action.FAIL, true),
    FAILED_OLD_TOKEN_VALID(Action.PROCEED, Action.FAIL, true),
    SUPERSEDED_BY_SIGN_IN(Action.PROCEED, Action.PROCEED, true),
    SUPERSEDED_BY_SIGN_OUT(Action.PROCEED, Action.PASS_THROUGH, true),
    SIGNED_OUT_WHILE_QUEUED(Action.FAIL, Action.PASS_THROUGH, true),
    QUEUE_FULL(Action.FAIL, Action.FAIL, true),
    CANCELED(Action.FAIL, Action.FAIL, true);

    private final @Nullable Action unsent;
    private final @Nullable Action sent;

    /** True if the wait is over: the call is released with this fate. */
    final boolean ends;

    Fate(@Nullable Action unsent, @Nullable Action sent, boolean ends) {
      this.unsent = unsent;
      this.sent = sent;
      this.ends = ends;
    }

    /** What a call does now; {@code sent} is true if it already holds a 401. */
    Action action(boolean sent) {
      Action action = sent ? this.sent : unsent;
      if (action == null)
        throw new AssertionError(this + " never reaches a call with sent=" + sent);
      return action;
    }

    /**
     * Returns the exception for one call that fails with this fate. For the failures {@code cause}
     * is the refresh's failure; for {@link #QUEUE_FULL} and {@link #CANCELED} it carries the
     * message to repeat. Each call gets its own instance: exceptions are mutable.
     */
    IOException exception(@Nullable IOException cause, String refresh) {
      switch (this) {
        case FAILED:
        case FAILED_OLD_TOKEN_VALID:
          if (cause == null) return new IOException(refresh + " failed");
          // The useful part is the cause's message: carry it, not only in the cause.
          String forGood =
              cause instanceof RefreshFailedException
                      && ((RefreshFailedException) cause).isPermanent()
                  ? " for good" // Calls fail like this until signOut().
                  : "";
          return new IOException(refresh + " failed" + forGood + ": " + cause.getMessage(), cause);
        case SIGNED_OUT_WHILE_QUEUED:
          return new IOException("Canceled: signed out while waiting for a token refresh");
        case CANCELED:
          String reason = cause != null ? cause.getMessage() : "Canceled";
          return cause instanceof InterruptedIOException
              ? new InterruptedIOException(reason)
              : new IOException(reason);
        case QUEUE_FULL:
          return new IOException(cause != null ? cause.getMessage() : "Retry queue is full");
        default:
          throw new AssertionError(this + " fails no call");
      }
    }
  }

  /** What a call does with its fate. */
  enum Action {
    /** Keep waiting: registered with a refresh. */
    WAIT,
    /** Send the call, or send it again. */
    PROCEED,
    /** Hand the 401 the call already has to its caller. */
    PASS_THROUGH,
    /** Fail the call with an {@link IOException}. */
    FAIL
  }

  /** After this many refreshes in a row whose retries still got a 401, refreshing pauses. */
  static final int MAX_UNFIXED_REFRESHES = 3;

  /** How long refreshing pauses then, at least: the backoff's interval may be longer. */
  static final long UNFIXED_PAUSE_SECONDS = 30;

  private final Object lock = new Object();
  private final Clock clock;
  private final boolean clearTokensWhenUnrefreshable;
  private final long timeoutMillis;
  private final ScheduledExecutorService timer;
  private final Listeners listeners;
  private final Grant grant;
  private final Session session;
  private final Backoff backoff;
  private final StoreWriter writer;
  private final RetryQueue queue;
  private final Refresher refresher;
  private final Counters counters = new Counters(); // Guarded by lock, but its atomic counters.
  private final Refresher.Done finish = this::finish;
  private final Runnable retryEnded = this::retryEnded;

  // Guarded by lock for writes; read without it on every request.
  private volatile @Nullable Flight flight;

  private int unfixedRefreshes; // Guarded by lock: refreshes in a row whose retry got a 401.
  private long lastUnfixedGeneration = -1L; // Guarded by lock: the last one counted.
  private boolean draining; // Guarded by lock: a thread hands out retry slots.
  private boolean drainAgain; // Guarded by lock: a slot freed while it did.

  SingleFlight(SessionConfig config, Listeners listeners) {
    this.clock = config.clock;
    this.clearTokensWhenUnrefreshable = config.clearTokensWhenUnrefreshable;
    this.timeoutMillis = config.refreshTimeoutMillis;
    this.timer = config.timer;
    this.listeners = listeners;
    this.grant = new Grant(config.refreshApi, config.tokenSource);
    this.session = new Session(lock, clock, config.leewayMillis, config.refreshAheadMillis);
    this.backoff =
        new Backoff(
            config.backoffInitialMillis, config.backoffMaxMillis, config.maxRetryAfterMillis);
    this.writer = new StoreWriter(lock, config.store, listeners);
    this.queue =
        new RetryQueue(config.queueMode, config.maxConcurrentRetries, config.maxQueuedCalls);
    LeasedRefresh leased =
        config.store instanceof SharedTokenStore
            ? new LeasedRefresh(
                (SharedTokenStore) config.store,
                grant,
                session,
                writer,
                listeners,
                config.refreshTimeoutMillis)
            : null;
    this.refresher =
        new Refresher(
            grant, config.store, leased, writer, listeners, config.executor, config.revoker);
  }

  /** Loads the tokens the store holds when the manager is built; a failure starts signed out. */
  void restore() {
    Tokens loaded = writer.load();
    long now = clock.currentTimeMillis();
    synchronized (lock) {
      session.restore(loaded, now);
      writer.stage(session.generation(), loaded);
    }
  }

  @Override
  public @Nullable String header() {
    return session.header();
  }

  @Override
  public @Nullable Tokens tokens() {
    return session.tokens();
  }

  @Override
  public boolean mayWaitBeforeSend() {
    return flight != null
        || session.dueForRefresh(clock.currentTimeMillis())
        || (grant.acquires() && session.header() == null);
  }

  @Override
  public boolean awaitBeforeSend(Waiter waiter) {
    if (!mayWaitBeforeSend() || refresher.onRefreshThread()) return false;
    long now = clock.currentTimeMillis();
    Fate fate;
    Flight started;
    IOException failure;
    synchronized (lock) {
      fate = decideBeforeSend(now);
      started = enter(fate, waiter, Flight.Kind.PROACTIVE, now, null);
      failure = backoff.lastFailure();
    }
    act(fate, waiter, started, failure);
    return fate != Fate.SEND && fate != Fate.START_BACKGROUND;
  }

  private Fate decideBeforeSend(long now) {
    assert Thread.holdsLock(lock);
    Flight running = flight;
    // Only with a token source do calls wait for tokens when there are none: they are acquired.
    boolean acquire = grant.acquires() && session.tokens() == null;
    boolean mustWait = acquire || session.expiresSoon(now);
    if (running == null) {
      if (!canRefresh()) return Fate.SEND;
      if (!mustWait) {
        // In the refresh-ahead window: one background refresh, and this call goes on.
        return session.dueForRefresh(now) && !backoff.active(now)
            ? Fate.START_BACKGROUND
            : Fate.SEND;
      }
      // In backoff an expiring token still goes out; with none to send, the call fails fast.
      if (backoff.active(now)) return acquire ? Fate.FAILED : Fate.SEND;
    } else if (running.state != Flight.State.RUNNING) {
      // A timed-out refresh still runs: wait for neither it nor another.
      return acquire ? Fate.FAILED : Fate.SEND;
    } else if (running.kind == Flight.Kind.BACKGROUND && !mustWait && !running.tokenDead) {
      return Fate.SEND; // The token is good until the leeway: no need to wait.
    }
    if (queue.isFull(running != null ? running.size() : 0)) return Fate.QUEUE_FULL;
    return running != null ? Fate.JOIN : Fate.START;
  }

  @Override
  public boolean tokenKnownDead(String header) {
    Flight running = flight;
    return running != null
        && running.tokenDead
        && running.state == Flight.State.RUNNING
        && header.equals(session.header());
  }

  @Override
  public boolean refreshes() {
    return grant.refreshes();
  }

  @Override
  public boolean onRefreshThread() {
    return refresher.onRefreshThread();
  }

  /** A 401 whose challenge set no requirements. */
  void onUnauthorized(String sentHeader, Waiter waiter) {
    onUnauthorized(sentHeader, null, waiter);
  }

  @Override
  public void onUnauthorized(
      String sentHeader, @Nullable TokenRequirements requirements, Waiter waiter) {
    if (refresher.onRefreshThread()) {
      // The RefreshApi's own call got a 401: waiting would wait for itself.
      release(waiter, Fate.UNREFRESHABLE, null);
      return;
    }
    long now = clock.currentTimeMillis();
    Fate fate;
    Flight started;
    IOException failure;
    boolean cleared;
    long target;
    synchronized (lock) {
      fate = decideUnauthorized(sentHeader, now);
      started = enter(fate, waiter, Flight.Kind.UNAUTHORIZED, now, requirements);
      if (fate == Fate.JOIN) flight.tokenDead = true; // A 401: no longer just ahead.
      failure = backoff.lastFailure();
      cleared = fate == Fate.UNREFRESHABLE_NEWLY && clearTokensWhenUnrefreshable;
      if (cleared) replaceSession(null, now);
      target = session.generation();
    }
    if (fate == Fate.UNREFRESHABLE_NEWLY) {
      if (cleared) {
        writer.flush(target);
        listeners.signedOut(AuthListener.SignOutReason.NO_REFRESH_POSSIBLE);
      } else {
        listeners.noRefreshPossible();
      }
    }
    act(fate, waiter, started, failure);
  }

  private Fate decideUnauthorized(String sentHeader, long now) {
    assert Thread.holdsLock(lock);
    if (session.tokens() == null) return Fate.UNREFRESHABLE; // Signed out since it was sent.
    Flight running = flight;
    // Checked first: in queue mode a stale 401's retry waits in the queue too.
    if (queue.isFull(running != null ? running.size() : 0)) return Fate.QUEUE_FULL;
    // Another refresh finished after the call was sent: retry with the new token.
    if (!sentHeader.equals(session.header())) return Fate.STALE;
    if (running != null) {
      // A timed-out refresh still runs: wait for neither it nor a second one.
      return running.state == Flight.State.RUNNING ? Fate.JOIN : Fate.FAILED;
    }
    if (!canRefresh()) {
      return session.firstNoRefreshPossible() ? Fate.UNREFRESHABLE_NEWLY : Fate.UNREFRESHABLE;
    }
    if (backoff.active(now)) return Fate.FAILED;
    return Fate.START;
  }

  /**
   * Refreshes now, for the app, whatever the expiry and the backoff: {@code waiter} joins the
   * running refresh, or starts one; calls made meanwhile wait for it too.
   */
  void refreshNow(Waiter waiter) {
    long now = clock.currentTimeMillis();
    Fate fate;
    Flight started;
    IOException failure;
    synchronized (lock) {
      Flight running = flight;
      if (running != null) {
        fate = running.state == Flight.State.RUNNING ? Fate.JOIN : Fate.FAILED;
      } else {
        fate = canRefresh() ? Fate.START : Fate.UNREFRESHABLE;
      }
      started = enter(fate, waiter, Flight.Kind.FORCED, now, null);
      failure = backoff.lastFailure();
    }
    act(fate, waiter, started, failure);
  }

  /** Under the lock: starts or joins a flight as {@code fate} says; returns one it started. */
  private @Nullable Flight enter(
      Fate fate,
      Waiter waiter,
      Flight.Kind kind,
      long now,
      @Nullable TokenRequirements requirements) {
    assert Thread.holdsLock(lock);
    Flight started = null;
    if (fate == Fate.START || fate == Fate.START_BACKGROUND) {
      if (fate == Fate.START_BACKGROUND) kind = Flight.Kind.BACKGROUND;
      started = new Flight(lock, session.tokens(), session.generation(), kind, requirements);
      flight = started;
      counters.refreshesStarted++;
    }
    if (fate == Fate.START || fate == Fate.JOIN) {
      queue.arrived(waiter, now);
      flight.add(waiter);
    }
    if (fate == Fate.STALE) counters.stale401s++;
    return started;
  }

  /**
   * Outside the lock: launches what {@link #enter} started, and releases a call whose wait ends.
   */
  private void act(
      Fate fate, Waiter waiter, @Nullable Flight started, @Nullable IOException failure) {
    assert !Thread.holdsLock(lock);
    if (started != null) launch(started);
    if (!fate.ends) return; // SEND and START_BACKGROUND go now; START and JOIN wait.
    IOException cause = fate == Fate.QUEUE_FULL ? queue.fullError() : failure;
    release(waiter, fate, cause);
  }

  /**
   * Starts {@code started}'s refresh and its timers: its waiters fail at the timeout, and the
   * refresh is abandoned at twice the timeout, so that no token endpoint can block refreshing for
   * longer than that.
   */
  private void launch(Flight started) {
    listeners.refreshStarted();
    if (timeoutMillis > 0L) {
      IOException timedOut =
          new InterruptedIOException("token refresh timed out after " + timeoutMillis + " ms");
      started.timeout =
          timer.schedule(() -> timeOut(started, timedOut), timeoutMillis, TimeUnit.MILLISECONDS);
      if (timeoutMillis <= Long.MAX_VALUE / 2) {
        started.abandonment =
            timer.schedule(() -> abandon(started), 2 * timeoutMillis, TimeUnit.MILLISECONDS);
      }
    }
    refresher.run(started, finish);
  }

  /**
   * Replaces the session: sign-in with tokens, sign-out with null. A running refresh is superseded.
   * Returns the tokens there were before, or null. Blocks until the store holds the new session.
   */
  @Nullable Tokens changeSession(@Nullable Tokens newTokens) {
    return changeSession(newTokens, null);
  }

  /**
   * Signs in with {@code tokens}, as {@link #changeSession}; returns the store's failure to save
   * them, or null. The listeners heard it already.
   */
  @Nullable Exception signIn(Tokens tokens) {
    Exception[] failure = new Exception[1];
    changeSession(tokens, failure);
    return failure[0];
  }

  private @Nullable Tokens changeSession(
      @Nullable Tokens newTokens, @Nullable Exception @Nullable [] saveFailure) {
    long now = clock.currentTimeMillis();
    Tokens previous;
    Flight running;
    Waiter superseded = null;
    Waiter dropped = null;
    long target;
    synchronized (lock) {
      previous = session.tokens();
      running = flight;
      if (running != null) {
        flight = null;
        superseded = running.detachAll();
      }
      if (newTokens == null && queue.enabled()) {
        // Queue mode, signed out: every queued call ends now instead of going without a token.
        dropped = queue.takeAll(superseded);
        superseded = null;
      }
      target = replaceSession(newTokens, now);
      backoff.reset();
    }
    // A superseded refresh must not report a timeout later: its result is no longer wanted.
    if (running != null) cancelTimers(running);
    Exception failed = writer.flush(target);
    if (saveFailure != null) saveFailure[0] = failed;
    release(
        superseded,
        newTokens != null ? Fate.SUPERSEDED_BY_SIGN_IN : Fate.SUPERSEDED_BY_SIGN_OUT,
        null);
    release(dropped, Fate.SIGNED_OUT_WHILE_QUEUED, null);
    return previous;
  }

  /** Revokes {@code signedOut} in the background, if the app asked for that. */
  void revoke(Tokens signedOut) {
    refresher.revoke(signedOut);
  }

  /** Applies the result of {@code done}'s refresh, saves it, tells listeners, releases waiters. */
  private void finish(Flight done, RefreshResult result) {
    long now = clock.currentTimeMillis();
    Fate fate;
    Waiter waiters;
    boolean save = false;
    IOException failedNow = null;
    long target;
    synchronized (lock) {
      if (done.state == Flight.State.ABANDONED) return; // Too late: the next 401 refreshes again.
      if (flight == done) flight = null;
      boolean timedOut = done.state == Flight.State.TIMED_OUT;
      done.state = Flight.State.FINISHED;
      waiters = done.detachAll();
      long nanos = System.nanoTime() - done.startedNanos;
      if (done.generation != session.generation()) {
        // signIn() or signOut() ran meanwhile: the newer state wins.
        fate = session.tokens() != null ? Fate.SUPERSEDED_BY_SIGN_IN : Fate.SUPERSEDED_BY_SIGN_OUT;
      } else if (result.status == RefreshResult.Status.SUCCEEDED) {
        fate = Fate.SUCCEEDED;
        counters.refreshesSucceeded++;
        counters.refreshNanosSucceeded += nanos;
        replaceSession(result.tokens, now);
        backoff.reset();
        save = true;
      } else if (result.status == RefreshResult.Status.REJECTED) {
        fate = Fate.REJECTED;
        counters.refreshesRejected++;
        counters.refreshNanosRejected += nanos;
        replaceSession(null, now);
        save = true;
      } else {
        fate = oldTokenUsable(done, now) ? Fate.FAILED_OLD_TOKEN_VALID : Fate.FAILED;
        if (!timedOut) { // A timed-out refresh was counted and told when it timed out.
          counters.refreshesFailed++;
          counters.refreshNanosFailed += nanos;
          backoff.recordFailure(result.failure, now);
          failedNow = result.failure;
        }
      }
      target = session.generation();
    }
    cancelTimers(done);
    // Saved before any waiter is released, so that no call can outlive the refresh token.
    if (save) writer.flush(target, result.saved);
    if (fate == Fate.SUCCEEDED) {
      listeners.refreshed();
    } else if (fate == Fate.REJECTED) {
      listeners.signedOut(result.signOutReason());
    } else if (failedNow != null) {
      listeners.refreshFailed(failedNow);
    }
    release(waiters, fate, result.failure);
  }

  /**
   * Fails the calls waiting for {@code timedOut}, which has run longer than the refresh timeout.
   * The refresh itself goes on: its result is still saved when it arrives, and until then no other
   * refresh starts, so that a refresh token is never presented twice at once.
   */
  private void timeOut(Flight timedOut, IOException failure) {
    long now = clock.currentTimeMillis();
    Waiter waiters;
    Fate fate;
    boolean current;
    synchronized (lock) {
      if (timedOut.state != Flight.State.RUNNING) return;
      timedOut.state = Flight.State.TIMED_OUT;
      waiters = timedOut.detachAll();
      current = timedOut.generation == session.generation();
      if (current) {
        counters.refreshesFailed++;
        counters.refreshNanosFailed += System.nanoTime() - timedOut.startedNanos;
        backoff.recordFailure(failure, now);
      }
      fate = oldTokenUsable(timedOut, now) ? Fate.FAILED_OLD_TOKEN_VALID : Fate.FAILED;
    }
    if (current) listeners.refreshFailed(failure);
    release(waiters, fate, failure);
  }

  /**
   * Gives up on {@code late}, which has run for twice the refresh timeout: the next 401 may start a
   * new refresh, and whatever {@code late} returns is ignored.
   */
  private void abandon(Flight late) {
    synchronized (lock) {
      if (late.state != Flight.State.TIMED_OUT) return;
      late.state = Flight.State.ABANDONED;
      if (flight == late) flight = null;
    }
    late.interruptRunner();
  }

  private static void cancelTimers(Flight ended) {
    java.util.concurrent.ScheduledFuture<?> scheduled = ended.timeout;
    if (scheduled != null) scheduled.cancel(false);
    scheduled = ended.abandonment;
    if (scheduled != null) scheduled.cancel(false);
  }

  @Override
  public boolean cancel(Waiter waiter, IOException reason) {
    synchronized (lock) {
      Object owner = waiter.owner;
      if (owner == null) return false;
      if (owner == queue) {
        if (!queue.remove(waiter)) return false;
      } else {
        ((Flight) owner).remove(waiter);
      }
    }
    release(waiter, Fate.CANCELED, reason);
    return true;
  }

  @Override
  public void awaitRelease(Waiter waiter, CountDownLatch released, Runnable afterRelease) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          released.await();
          return;
        } catch (InterruptedException e) {
          interrupted = true;
          IOException reason =
              new InterruptedIOException("interrupted while waiting for a token refresh");
          // Canceled: the latch is open now. Released already: end what the release started.
          if (!cancel(waiter, reason)) afterRelease.run();
        }
      }
    } finally {
      if (interrupted) Thread.currentThread().interrupt();
    }
  }

  /** Fails the waiting calls of {@code group}, or all if it is null; returns how many. */
  int cancelQueued(@Nullable String group, String reason) {
    Waiter canceled;
    synchronized (lock) {
      canceled = queue.take(group, flight);
    }
    return release(canceled, Fate.CANCELED, new IOException(reason));
  }

  /**
   * Releases every waiter of the chain that starts at {@code head} with {@code fate}: the one place
   * where a waiting call learns what became of its wait. In queue mode the calls that may proceed
   * wait for a retry slot first. A continuation that throws does not keep the others waiting.
   * Returns how many waiters there were.
   */
  private int release(@Nullable Waiter head, Fate fate, @Nullable IOException cause) {
    assert !Thread.holdsLock(lock);
    RuntimeException thrown = null;
    Waiter queued = null;
    int count = 0;
    for (Waiter w = head; w != null; count++) {
      Waiter next = w.next;
      w.prev = null;
      w.next = null;
      Action action = fate.action(w.sent);
      if (action == Action.PROCEED && queue.enabled()) {
        w.next = queued; // Reversed here, back in order of arrival by the queue.
        queued = w;
      } else {
        try {
          switch (action) {
            case PROCEED:
              w.proceed(null);
              break;
            case PASS_THROUGH:
              w.passThrough();
              break;
            default:
              w.fail(fate.exception(cause, grant.acquires() ? "Token request" : "Token refresh"));
          }
        } catch (RuntimeException e) {
          if (thrown == null) thrown = e; // Release the other waiters first, then surface it.
        }
      }
      w = next;
    }
    if (queued != null) {
      long now = clock.currentTimeMillis();
      synchronized (lock) {
        queue.add(reverse(queued), now);
      }
      drain();
    }
    if (thrown != null) throw thrown;
    return count;
  }

  private static @Nullable Waiter reverse(@Nullable Waiter head) {
    Waiter reversed = null;
    while (head != null) {
      Waiter next = head.next;
      head.next = reversed;
      reversed = head;
      head = next;
    }
    return reversed;
  }

  /** Queue mode: a retry that held a slot has ended, however it ended. */
  private void retryEnded() {
    synchronized (lock) {
      queue.retryEnded();
    }
    drain();
  }

  /**
   * Queue mode: sends queued calls while retry slots are free. One thread drains at a time; a
   * thread that finds another draining leaves its work to it, so that a retry that fails at once
   * cannot recurse.
   */
  private void drain() {
    synchronized (lock) {
      if (draining) {
        drainAgain = true;
        return;
      }
      draining = true;
    }
    while (true) {
      Waiter next;
      synchronized (lock) {
        next = queue.startNext();
        if (next == null) {
          if (drainAgain) {
            drainAgain = false;
            continue;
          }
          draining = false;
          return;
        }
      }
      try {
        next.proceed(retryEnded);
      } catch (RuntimeException e) {
        synchronized (lock) {
          draining = false;
        }
        retryEnded();
        throw e;
      }
    }
  }

  List<QueuedCall> queuedCalls() {
    long now = clock.currentTimeMillis();
    synchronized (lock) {
      return queue.describe(flight, now);
    }
  }

  /**
   * True if nothing of this session is under way: no refresh, no call waiting, and the store holds
   * what memory holds. Only then may a registry drop it and load it again later.
   */
  boolean quiet() {
    synchronized (lock) {
      return flight == null && queue.size() == 0 && writer.inStep();
    }
  }

  /** Returns a copy of the counters, with the calls waiting right now. */
  Counters counters() {
    synchronized (lock) {
      Flight running = flight;
      return counters.copy(running != null ? running.size() : 0, queue.size());
    }
  }

  @Override
  public void retryAnswered(String sentHeader, boolean unauthorized) {
    long now = clock.currentTimeMillis();
    IOException pause;
    synchronized (lock) {
      if (!sentHeader.equals(session.header())) return; // For tokens replaced since.
      long generation = session.generation();
      if (!unauthorized) {
        unfixedRefreshes = 0;
        return;
      }
      // Once per refresh: a storm of retries after one refresh is one refresh that did not help.
      if (generation == lastUnfixedGeneration) return;
      lastUnfixedGeneration = generation;
      if (++unfixedRefreshes < MAX_UNFIXED_REFRESHES) return;
      unfixedRefreshes = 0;
      pause =
          RefreshFailedException.retryAfter(
              "the server answered 401 to the retry after each of the last "
                  + MAX_UNFIXED_REFRESHES
                  + " refreshes, so refreshing pauses: a new token does not fix this 401 (check"
                  + " the token's audience or scope, the DPoP proof, or the clocks)",
              UNFIXED_PAUSE_SECONDS,
              TimeUnit.SECONDS);
      backoff.recordFailure(pause, now);
    }
    listeners.refreshFailed(pause);
  }

  @Override
  public void countRetry() {
    counters.retries.incrementAndGet();
  }

  @Override
  public void countDpopNonceResend() {
    counters.dpopNonceResends.incrementAndGet();
  }

  @Override
  public void countDeadTokenRequestAvoided() {
    counters.deadTokenRequestsAvoided.incrementAndGet();
  }

  /** Under the lock: replaces the tokens in a new generation and stages them for the store. */
  private long replaceSession(@Nullable Tokens tokens, long now) {
    assert Thread.holdsLock(lock);
    long generation = session.replace(tokens, now);
    writer.stage(generation, tokens);
    return generation;
  }

  /** True if a refresh could help: a token source, or a RefreshApi and a refresh token. */
  private boolean canRefresh() {
    return grant.canRefresh(session.tokens());
  }

  /** True if waiting calls may use the old token: no 401 proved it dead, and it has not expired. */
  private static boolean oldTokenUsable(Flight flight, long now) {
    Tokens old = flight.tokens;
    return !flight.tokenDead && old != null && (!old.hasExpiry() || Session.stillValid(old, now));
  }
}
