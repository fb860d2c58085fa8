package dev.retrofitauth;

import java.io.IOException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The one file to read for a 401. It owns the lock, the {@link Session} and the current {@link
 * Flight}, and decides what becomes of every call that must wait: each decision is a {@link
 * Decision}, chosen under the lock ({@code enter}) and acted on outside it ({@code act}). Waiting
 * calls learn their fate in one place, {@link Waiter#release}. A flight remembers the session
 * generation it started in, so that a result that arrives after a sign-in or sign-out is discarded.
 * The lock is held only for short bookkeeping, never while user code runs.
 */
final class SingleFlight {
  final Object lock = new Object();
  private final boolean clearTokensWhenUnrefreshable;
  private final Listeners listeners;
  private final Backoff backoff;
  final StoreWriter writer;
  private final RetryQueue queue;
  final RefreshTask task;
  final Session session;
  private final boolean acquires;

  // Guarded by lock for writes; read without it on every request.
  private volatile @Nullable Flight flight;

  final Counters counters = new Counters();

  SingleFlight(RefreshManager.Builder builder, Listeners listeners) {
    this.clearTokensWhenUnrefreshable = builder.clearTokensWhenUnrefreshable;
    this.listeners = listeners;
    this.backoff = new Backoff(lock, builder);
    this.writer = new StoreWriter(lock, builder.store, listeners);
    this.session = new Session(lock, builder, writer);
    this.queue = new RetryQueue(lock, builder);
    this.task = new RefreshTask(this, builder, writer, listeners);
    this.acquires = task.acquires();
  }

  /** Loads the tokens the store holds when the manager is built; a failure starts signed out. */
  void restore() {
    writer.restore(session);
  }

  /** Returns false if no call needs to wait before it is sent: the cheap check for the hot path. */
  boolean mayWaitBeforeSend() {
    return flight != null || session.dueForRefresh() || (acquires && session.header() == null);
  }

  /**
   * Registers {@code waiter}, which has not been sent yet, if it must wait for a refresh: one is
   * running, or the access token expires within the leeway. Returns false if the call may be sent
   * at once; true if the waiter was registered, or was completed at once.
   */
  boolean awaitBeforeSend(Waiter waiter) {
    if (!mayWaitBeforeSend() || task.isRefreshThread()) return false;
    Decision decision;
    Flight started;
    IOException failure;
    synchronized (lock) {
      decision = decideBeforeSend();
      started = enter(decision, waiter, Flight.Kind.PROACTIVE);
      failure = backoff.lastFailure();
    }
    act(decision, waiter, started, failure);
    return decision != Decision.SEND && decision != Decision.START_BACKGROUND;
  }

  private Decision decideBeforeSend() {
    assert Thread.holdsLock(lock);
    Flight running = flight;
    // Only with a token source do calls wait for tokens when there are none: they are acquired.
    boolean acquire = acquires && session.tokens() == null;
    boolean mustWait = acquire || session.expiresSoon();
    if (running == null) {
      if (!canRefresh()) return Decision.SEND;
      if (!mustWait) {
        // In the refresh-ahead window: one background refresh, and this call goes on.
        return session.dueForRefresh() && !backoff.active()
            ? Decision.START_BACKGROUND
            : Decision.SEND;
      }
      // In backoff an expiring token still goes out; with none to send, the call fails fast.
      if (backoff.active()) return acquire ? Decision.FAIL_FAST : Decision.SEND;
    } else if (running.state != Flight.State.RUNNING) {
      // A timed-out refresh still runs: wait for neither it nor another.
      return acquire ? Decision.FAIL_FAST : Decision.SEND;
    } else if (running.kind == Flight.Kind.BACKGROUND && !mustWait && !running.tokenDead) {
      return Decision.SEND; // The token is good until the leeway: no need to wait.
    }
    if (queue.isFull(running != null ? running.size() : 0)) return Decision.QUEUE_FULL;
    return running != null ? Decision.JOIN : Decision.START;
  }

  /** True if {@code header} got a 401 and the refresh that started from it runs. */
  boolean tokenKnownDead(String header) {
    Flight running = flight;
    return running != null
        && running.tokenDead
        && running.state == Flight.State.RUNNING
        && header.equals(session.header());
  }

  /**
   * Handles a 401 for a request that carried {@code sentHeader}. Completes {@code waiter} now if
   * the answer is known, or registers it with the running refresh.
   */
  void onUnauthorized(String sentHeader, Waiter waiter) {
    if (task.isRefreshThread()) {
      // The RefreshApi's own call got a 401: waiting would wait for itself.
      Waiter.release(waiter, Outcome.UNREFRESHABLE, null, queue);
      return;
    }
    Decision decision;
    Flight started;
    IOException failure;
    boolean cleared;
    long target;
    synchronized (lock) {
      decision = decideUnauthorized(sentHeader);
      started = enter(decision, waiter, Flight.Kind.UNAUTHORIZED);
      if (decision == Decision.JOIN) flight.tokenDead = true; // A 401: no longer just ahead.
      failure = backoff.lastFailure();
      cleared = decision == Decision.TELL_NO_REFRESH_POSSIBLE && clearTokensWhenUnrefreshable;
      if (cleared) session.replace(null);
      target = session.generation();
    }
    if (decision == Decision.TELL_NO_REFRESH_POSSIBLE) {
      if (cleared) {
        writer.flush(target);
        listeners.signedOut(AuthListener.SignOutReason.NO_REFRESH_POSSIBLE);
      } else {
        listeners.noRefreshPossible();
      }
    }
    act(decision, waiter, started, failure);
  }

  private Decision decideUnauthorized(String sentHeader) {
    assert Thread.holdsLock(lock);
    if (session.tokens() == null) return Decision.PASS_THROUGH; // Signed out since it was sent.
    Flight running = flight;
    // Checked first: in queue mode a stale 401's retry waits in the queue too.
    if (queue.isFull(running != null ? running.size() : 0)) return Decision.QUEUE_FULL;
    // Another refresh finished after the call was sent: retry with the new token.
    if (!sentHeader.equals(session.header())) return Decision.STALE;
    if (running != null) {
      // A timed-out refresh still runs: wait for neither it nor a second one.
      return running.state == Flight.State.RUNNING ? Decision.JOIN : Decision.FAIL_FAST;
    }
    if (!canRefresh()) {
      return session.firstNoRefreshPossible()
          ? Decision.TELL_NO_REFRESH_POSSIBLE
          : Decision.PASS_THROUGH;
    }
    if (backoff.active()) return Decision.FAIL_FAST;
    return Decision.START;
  }

  /**
   * Replaces the session: sign-in with tokens, sign-out with null. A running refresh is superseded.
   * Returns the tokens there were before, or null. Blocks until the store holds the new session.
   */
  @Nullable Tokens changeSession(@Nullable Tokens newTokens) {
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
      session.replace(newTokens);
      backoff.reset();
      target = session.generation();
    }
    // A superseded refresh must not report a timeout later: its result is no longer wanted.
    if (running != null) running.cancelTimeout();
    writer.flush(target);
    Outcome outcome =
        newTokens != null ? Outcome.SUPERSEDED_BY_SIGN_IN : Outcome.SUPERSEDED_BY_SIGN_OUT;
    Waiter.release(superseded, outcome, null, queue);
    Waiter.release(dropped, Outcome.SIGNED_OUT_WHILE_QUEUED, null, queue);
    return previous;
  }

  /** Applies the result of {@code done}'s refresh, saves it, tells listeners, releases waiters. */
  void finish(Flight done, RefreshTask.Result result) {
    Outcome outcome = result.outcome;
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
      if (done.generation != session.generation()) {
        // signIn() or signOut() ran meanwhile: the newer state wins.
        outcome =
            session.tokens() != null
                ? Outcome.SUPERSEDED_BY_SIGN_IN
                : Outcome.SUPERSEDED_BY_SIGN_OUT;
      } else if (outcome == Outcome.SUCCEEDED) {
        counters.refreshesSucceeded++;
        counters.refreshNanosSucceeded += System.nanoTime() - done.startedNanos;
        session.replace(result.tokens);
        backoff.reset();
        save = true;
      } else if (outcome == Outcome.REJECTED) {
        counters.refreshesRejected++;
        counters.refreshNanosRejected += System.nanoTime() - done.startedNanos;
        session.replace(null);
        save = true;
      } else if (!timedOut) {
        counters.refreshesFailed++;
        counters.refreshNanosFailed += System.nanoTime() - done.startedNanos;
        backoff.recordFailure(result.failure);
        failedNow = result.failure; // A timed-out refresh was reported when it timed out.
      }
      if (outcome == Outcome.FAILED && oldTokenUsable(done)) {
        outcome = Outcome.FAILED_OLD_TOKEN_VALID;
      }
      target = session.generation();
    }
    done.cancelTimeout();
    // Saved before any waiter is released, so that no call can outlive the refresh token.
    if (save) writer.flush(target, result.saved);
    if (outcome == Outcome.SUCCEEDED) {
      listeners.refreshed();
    } else if (outcome == Outcome.REJECTED) {
      listeners.signedOut(result.signOutReason());
    } else if (failedNow != null) {
      listeners.refreshFailed(failedNow);
    }
    Waiter.release(waiters, outcome, result.failure, queue);
  }

  /**
   * Fails the calls waiting for {@code timedOut}, which has run longer than the refresh timeout.
   * The refresh itself goes on: its result is still saved when it arrives, and until then no other
   * refresh starts, so that a refresh token is never presented twice at once.
   */
  void timeOut(Flight timedOut, IOException failure) {
    Waiter waiters;
    Outcome outcome;
    boolean current;
    synchronized (lock) {
      if (timedOut.state != Flight.State.RUNNING) return;
      timedOut.state = Flight.State.TIMED_OUT;
      waiters = timedOut.detachAll();
      current = timedOut.generation == session.generation();
      if (current) {
        counters.refreshesFailed++;
        counters.refreshNanosFailed += System.nanoTime() - timedOut.startedNanos;
        backoff.recordFailure(failure);
      }
      outcome = oldTokenUsable(timedOut) ? Outcome.FAILED_OLD_TOKEN_VALID : Outcome.FAILED;
    }
    if (current) listeners.refreshFailed(failure);
    Waiter.release(waiters, outcome, failure, queue);
  }

  /**
   * Refreshes now, for the app, whatever the expiry and the backoff: {@code waiter} joins the
   * running refresh, or starts one; calls made meanwhile wait for it too.
   */
  void refreshNow(Waiter waiter) {
    Decision decision;
    Flight started;
    IOException failure;
    synchronized (lock) {
      Flight running = flight;
      if (running != null) {
        decision = running.state == Flight.State.RUNNING ? Decision.JOIN : Decision.FAIL_FAST;
      } else {
        decision = canRefresh() ? Decision.START : Decision.PASS_THROUGH;
      }
      started = enter(decision, waiter, Flight.Kind.FORCED);
      failure = backoff.lastFailure();
    }
    act(decision, waiter, started, failure);
  }

  /** Under the lock: starts or joins a flight as {@code decision} says; returns one it started. */
  private @Nullable Flight enter(Decision decision, Waiter waiter, Flight.Kind kind) {
    assert Thread.holdsLock(lock);
    Flight started = null;
    if (decision == Decision.START || decision == Decision.START_BACKGROUND) {
      if (decision == Decision.START_BACKGROUND) kind = Flight.Kind.BACKGROUND;
      started = new Flight(lock, session.tokens(), session.generation(), kind);
      flight = started;
      counters.refreshesStarted++;
    }
    if (decision == Decision.START || decision == Decision.JOIN) {
      queue.arrived(waiter);
      flight.add(waiter);
    }
    if (decision == Decision.STALE) counters.stale401s++;
    return started;
  }

  /** Outside the lock: launches what {@link #enter} started, or completes {@code waiter} now. */
  private void act(
      Decision decision, Waiter waiter, @Nullable Flight started, @Nullable IOException failure) {
    assert !Thread.holdsLock(lock);
    switch (decision) {
      case START:
      case START_BACKGROUND:
        task.launch(started);
        break;
      case STALE:
        Waiter.release(waiter, Outcome.SUCCEEDED, null, queue);
        break;
      case FAIL_FAST:
        Waiter.release(waiter, Outcome.FAILED, failure, queue);
        break;
      case QUEUE_FULL:
        Waiter.release(waiter, Outcome.QUEUE_FULL, queue.fullError(), queue);
        break;
      case PASS_THROUGH:
      case TELL_NO_REFRESH_POSSIBLE:
        Waiter.release(waiter, Outcome.UNREFRESHABLE, null, queue);
        break;
      default:
        break; // SEND goes now; JOIN waits for the flight.
    }
  }

  /**
   * Gives up on {@code late}, which has run for twice the refresh timeout: the next 401 may start a
   * new refresh, and whatever {@code late} returns is ignored.
   */
  void abandon(Flight late) {
    synchronized (lock) {
      if (late.state != Flight.State.TIMED_OUT) return;
      late.state = Flight.State.ABANDONED;
      if (flight == late) flight = null;
    }
    late.interruptRunner();
  }

  /** Removes {@code waiter}; returns false if it was completed already, or never waited. */
  boolean cancel(Waiter waiter) {
    synchronized (lock) {
      Object owner = waiter.owner;
      if (owner == null) return false;
      if (owner == queue) return queue.remove(waiter);
      ((Flight) owner).remove(waiter);
      return true;
    }
  }

  /** Fails the waiting calls of {@code group}, or all if it is null; returns how many. */
  int cancelQueued(@Nullable String group, String reason) {
    Waiter canceled;
    synchronized (lock) {
      canceled = queue.take(group, flight);
    }
    return Waiter.release(canceled, Outcome.CANCELED, new IOException(reason), queue);
  }

  List<QueuedCall> queuedCalls() {
    synchronized (lock) {
      return queue.describe(flight);
    }
  }

  RefreshManager.Stats stats() {
    synchronized (lock) {
      Flight running = flight;
      return new RefreshManager.Stats(
          counters.copy(), running != null ? running.size() : 0, queue.size());
    }
  }

  /** True if a refresh could help: a token source, or a RefreshApi and a refresh token. */
  private boolean canRefresh() {
    return task.canRefresh(session.tokens());
  }

  /** True if waiting calls may use the old token: no 401 proved it dead, and it has not expired. */
  private boolean oldTokenUsable(Flight flight) {
    Tokens old = flight.tokens;
    return !flight.tokenDead && old != null && (!old.hasExpiry() || session.stillValid(old));
  }
}
