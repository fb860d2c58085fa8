package dev.retrofitauth;

import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * Runs a {@link Flight}'s refresh on the refresh executor and hands back one {@link RefreshResult}:
 * re-reads the store for tokens another process saved, calls the {@link Grant}, or, with a {@link
 * SharedTokenStore}, does both inside the store's lease ({@link LeasedRefresh}). It also revokes
 * signed-out tokens on the same executor. It knows nothing of who waits for the refresh: the result
 * goes to the {@link Done} it is given.
 */
final class Refresher {
  /** Receives a refresh's result, once, on the thread that ran it. */
  interface Done {
    void refreshed(Flight flight, RefreshResult result);
  }

  // Marks the thread that runs a refresh with its refresher: a call that this session's RefreshApi
  // makes must not wait for the refresh that made it. Another session's calls wait as usual.
  private static final ThreadLocal<Refresher> RUNNING = new ThreadLocal<>();

  private final Grant grant;
  private final TokenStore store;
  private final @Nullable LeasedRefresh leased;
  private final StoreWriter writer;
  private final Listeners listeners;
  private final Executor executor;
  private final @Nullable TokenRevoker revoker;

  Refresher(
      Grant grant,
      TokenStore store,
      @Nullable LeasedRefresh leased,
      StoreWriter writer,
      Listeners listeners,
      Executor executor,
      @Nullable TokenRevoker revoker) {
    this.grant = grant;
    this.store = store;
    this.leased = leased;
    this.writer = writer;
    this.listeners = listeners;
    this.executor = executor;
    this.revoker = revoker;
  }

  /** True on the thread that runs one of this refresher's refreshes, while it runs it. */
  boolean onRefreshThread() {
    return RUNNING.get() == this;
  }

  /** Runs {@code flight}'s refresh on the executor; {@code done} hears how it ended, once. */
  void run(Flight flight, Done done) {
    try {
      executor.execute(() -> refresh(flight, done));
    } catch (RejectedExecutionException e) {
      done.refreshed(
          flight,
          RefreshResult.failed(new IOException("the refresh executor rejected the refresh", e)));
    }
  }

  private void refresh(Flight flight, Done done) {
    RefreshResult result;
    RUNNING.set(this);
    flight.runOn(Thread.currentThread());
    try {
      result = leased != null ? leased.refresh(flight) : refreshUnleased(flight);
    } catch (Error e) {
      done.refreshed(
          flight,
          RefreshResult.failed(new IOException("RefreshApi threw " + e.getClass().getName(), e)));
      throw e;
    } finally {
      flight.runOn(null);
      Thread.interrupted(); // An abandonment's interrupt must not reach the executor's next task.
      RUNNING.remove();
    }
    done.refreshed(flight, result);
  }

  private RefreshResult refreshUnleased(Flight flight) {
    Tokens current = flight.tokens;
    Tokens stored = newerStoredTokens(current);
    // Adopted even if expired: without a lease, refreshing them here could overlap with a refresh
    // of them that this manager starts meanwhile. A call that gets a 401 for them refreshes them.
    // A challenge's requirements need a new token: from the newest refresh token, then.
    if (stored != null && flight.requirements == null) return RefreshResult.succeeded(stored);
    if (stored != null && grant.canRefresh(stored)) current = stored;
    return grant.call(current, flight.requirements);
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
      listeners.storeFailed(e); // Wide: the store is user code.
      return null;
    }
    if (stored == null) return null;
    if (failed != null && stored.accessToken().equals(failed.accessToken())) return null;
    return stored;
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
}
