package dev.retrofitauth;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Runs one {@link Flight}'s refresh on the manager's executor: re-reads the store, calls the {@link
 * RefreshApi}, and maps whatever happens (tokens, rejection, failure, a bug in user code) to one
 * {@link Result}, which it hands to {@link SingleFlight#finish}. It also times flights out.
 */
final class RefreshTask {
  /** How one refresh ended. */
  static final class Result {
    final Outcome outcome;
    final @Nullable Tokens tokens;
    final @Nullable IOException failure;

    /** True if a shared store's lease saved it already: the manager writes it no more. */
    final boolean saved;

    /** True if a shared store held no tokens: another process signed out. */
    final boolean signedOutElsewhere;

    private Result(
        Outcome outcome,
        @Nullable Tokens tokens,
        @Nullable IOException failure,
        boolean saved,
        boolean signedOutElsewhere) {
      this.outcome = outcome;
      this.tokens = tokens;
      this.failure = failure;
      this.saved = saved;
      this.signedOutElsewhere = signedOutElsewhere;
    }

    static Result succeeded(Tokens tokens) {
      return new Result(Outcome.SUCCEEDED, tokens, null, false, false);
    }

    static Result failed(Outcome outcome, IOException failure) {
      return new Result(outcome, null, failure, false, false);
    }

    static Result signedOutElsewhere(SharedTokenStore store) {
      IOException failure = new RefreshRejectedException("another process signed out of " + store);
      return new Result(Outcome.REJECTED, null, failure, true, true);
    }

    AuthListener.SignOutReason signOutReason() {
      return signedOutElsewhere
          ? AuthListener.SignOutReason.SIGNED_OUT_ELSEWHERE
          : AuthListener.SignOutReason.REFRESH_REJECTED;
    }

    Result saved() {
      return new Result(outcome, tokens, failure, true, signedOutElsewhere);
    }
  }

  private final SingleFlight engine;
  private final @Nullable RefreshApi refreshApi;
  private final @Nullable TokenSource source;
  private final @Nullable TokenRevoker revoker;
  private final TokenStore store;
  private final StoreWriter writer;
  private final Listeners listeners;
  private final @Nullable LeasedRefresh leased;
  private final Executor executor;
  private final long timeoutMillis;
  private final RefreshManager.Clock clock;
  private final long leewayMillis;
  // Marks the thread that runs the RefreshApi: a call it makes must not wait for itself.
  private final ThreadLocal<Boolean> refreshThread = new ThreadLocal<>();
  private @Nullable ScheduledExecutorService timer; // Guarded by this.

  RefreshTask(
      SingleFlight engine,
      RefreshManager.Builder builder,
      StoreWriter writer,
      Listeners listeners) {
    this.engine = engine;
    this.refreshApi = builder.refreshApi;
    this.source = builder.tokenSource;
    this.revoker = builder.revoker;
    this.store = builder.store;
    this.writer = writer;
    this.listeners = listeners;
    this.leased =
        store instanceof SharedTokenStore
            ? new LeasedRefresh((SharedTokenStore) store, writer, listeners, builder)
            : null;
    this.executor = builder.executor != null ? builder.executor : defaultExecutor();
    this.timeoutMillis = builder.refreshTimeoutMillis;
    this.clock = builder.clock;
    this.leewayMillis = builder.leewayMillis;
  }

  /** True if {@code current} can be refreshed: by a source, or by a RefreshApi with a token. */
  boolean canRefresh(@Nullable Tokens current) {
    return source != null
        || (refreshApi != null && current != null && current.refreshToken() != null);
  }

  /** False once a sign-in or sign-out has replaced the tokens that {@code flight} refreshes. */
  boolean isCurrent(Flight flight) {
    return engine.session.isCurrent(flight.generation);
  }

  /** True if tokens come from a {@link TokenSource}: calls without tokens wait for them. */
  boolean acquires() {
    return source != null;
  }

  /** Revokes {@code signedOut} on the executor, if the app asked for that; never blocks. */
  void revoke(Tokens signedOut) {
    TokenRevoker revoker = this.revoker;
    if (revoker == null) return;
    Runnable revocation =
        () -> {
          try {
            revoker.revoke(signedOut);
          } catch (IOException e) {
            listeners.revokeFailed(e);
          } catch (RuntimeException e) {
            listeners.revokeFailed(
                new IOException("TokenRevoker threw " + e.getClass().getName(), e));
          }
        };
    try {
      executor.execute(revocation);
    } catch (RejectedExecutionException e) {
      listeners.revokeFailed(new IOException("the refresh executor rejected the revocation", e));
    }
  }

  /** True on the thread that runs a refresh, while it runs. */
  boolean isRefreshThread() {
    return refreshThread.get() != null;
  }

  /**
   * Starts {@code flight}'s refresh and its timers: its waiters fail at the timeout, and the
   * refresh is abandoned at twice the timeout, so that no token endpoint can block refreshing for
   * longer than that.
   */
  void launch(Flight flight) {
    if (timeoutMillis > 0L) {
      IOException timedOut =
          new InterruptedIOException("token refresh timed out after " + timeoutMillis + " ms");
      ScheduledExecutorService timer = timer();
      flight.timeout =
          timer.schedule(
              () -> engine.timeOut(flight, timedOut), timeoutMillis, TimeUnit.MILLISECONDS);
      if (timeoutMillis <= Long.MAX_VALUE / 2) {
        flight.abandonment =
            timer.schedule(() -> engine.abandon(flight), 2 * timeoutMillis, TimeUnit.MILLISECONDS);
      }
    }
    try {
      executor.execute(() -> run(flight));
    } catch (RejectedExecutionException e) {
      engine.finish(
          flight,
          Result.failed(
              Outcome.FAILED, new IOException("the refresh executor rejected the refresh", e)));
    }
  }

  private synchronized ScheduledExecutorService timer() {
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

  private void run(Flight flight) {
    Result result;
    refreshThread.set(Boolean.TRUE);
    flight.runOn(Thread.currentThread());
    try {
      result = leased != null ? leased.refresh(flight, this) : refresh(flight.tokens);
    } catch (Error e) {
      engine.finish(
          flight,
          Result.failed(
              Outcome.FAILED, new IOException("RefreshApi threw " + e.getClass().getName(), e)));
      throw e;
    } finally {
      flight.runOn(null);
      Thread.interrupted(); // An abandonment's interrupt must not reach the executor's next task.
      refreshThread.remove();
    }
    engine.finish(flight, result);
  }

  private Result refresh(@Nullable Tokens current) {
    Tokens stored = newerStoredTokens(current);
    // Adopted even if expired: without a lease, refreshing them here could overlap with a refresh
    // of them that this manager starts meanwhile. A call that gets a 401 for them refreshes them.
    if (stored != null) return Result.succeeded(stored);
    return call(current);
  }

  /**
   * True if {@code stored}, which another process saved, is not yet within the leeway. Under a
   * lease, expired ones are refreshed at once instead, from their newer refresh token.
   */
  boolean usable(Tokens stored) {
    long now = clock.currentTimeMillis();
    return Session.refreshAt(stored, now, leewayMillis) > now;
  }

  /** Gets new tokens from the source, or from the RefreshApi for {@code current}. */
  Result call(@Nullable Tokens current) {
    String spi = source != null ? "TokenSource" : "RefreshApi";
    try {
      Tokens fresh;
      if (source != null) {
        fresh = source.fetch();
        if (fresh == null) throw new IOException("TokenSource.fetch() returned null");
        return Result.succeeded(fresh);
      }
      fresh = refreshApi.refresh(current);
      if (fresh == null) throw new IOException("RefreshApi.refresh() returned null");
      String refreshToken = current.refreshToken();
      if (fresh.refreshToken() == null && refreshToken != null) {
        fresh = fresh.withRefreshToken(refreshToken); // Not rotated: keep the one we have.
      }
      return Result.succeeded(fresh);
    } catch (RefreshRejectedException e) {
      return Result.failed(Outcome.REJECTED, e);
    } catch (IOException e) {
      return Result.failed(Outcome.FAILED, e);
    } catch (RuntimeException e) {
      // A bug in user code: report it as a transient failure so that no waiter hangs.
      return Result.failed(
          Outcome.FAILED, new IOException(spi + " threw " + e.getClass().getName(), e));
    }
  }

  /**
   * Returns tokens that another process saved to the store after {@code failed}, or null. This is
   * the "re-read the store" step that keeps a shared store from being refreshed twice.
   */
  private @Nullable Tokens newerStoredTokens(@Nullable Tokens failed) {
    if (!writer.inStep()) return null;
    Tokens stored;
    try {
      stored = store.load();
    } catch (Exception e) {
      listeners.storeFailed(e);
      return null;
    }
    if (stored == null) return null;
    if (failed != null && stored.accessToken().equals(failed.accessToken())) return null;
    return stored;
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
}
