package dev.retrofitauth;

import java.io.IOException;
import java.io.InterruptedIOException;
import org.jspecify.annotations.Nullable;

/**
 * Runs a refresh inside a {@link SharedTokenStore}'s lease, so that processes sharing the store
 * refresh one session once: take the lease, re-read the store and adopt tokens another process
 * saved, or refresh from the newest refresh token and save with the store's version check, then
 * release. Store failures are told to the listeners after the lease is released.
 */
final class LeasedRefresh {
  private final SharedTokenStore store;
  private final Grant grant;
  private final Session session;
  private final StoreWriter writer;
  private final Listeners listeners;
  private final long leaseTimeoutMillis;

  LeasedRefresh(
      SharedTokenStore store,
      Grant grant,
      Session session,
      StoreWriter writer,
      Listeners listeners,
      long refreshTimeoutMillis) {
    this.store = store;
    this.grant = grant;
    this.session = session;
    this.writer = writer;
    this.listeners = listeners;
    // A lease that comes later than the refresh timeout comes too late for every waiting call.
    this.leaseTimeoutMillis = refreshTimeoutMillis > 0L ? refreshTimeoutMillis : Long.MAX_VALUE;
  }

  RefreshResult refresh(Flight flight) {
    SharedTokenStore.Lease lease;
    try {
      lease = store.lease(leaseTimeoutMillis);
    } catch (IOException e) {
      return RefreshResult.failed(e);
    } catch (RuntimeException e) {
      return RefreshResult.failed(threw(e, "lease()"));
    }
    Exception[] storeFailure = {null};
    try {
      if (!flight.hold(lease)) {
        return RefreshResult.failed(new InterruptedIOException("the refresh was abandoned"));
      }
      return refreshHolding(lease, flight, storeFailure);
    } finally {
      lease.close();
      flight.hold(null);
      if (storeFailure[0] != null) listeners.storeFailed(storeFailure[0]);
    }
  }

  private RefreshResult refreshHolding(
      SharedTokenStore.Lease lease, Flight flight, Exception[] storeFailure) {
    Tokens failed = flight.tokens;
    Tokens stored;
    try {
      stored = lease.load();
    } catch (IOException | RuntimeException e) {
      // Not knowing what the store holds, refreshing could present a refresh token that another
      // process has used already. A store that stays unreadable (corrupt, or encrypted with
      // another key) is replaced by the next sign-in.
      IOException failure =
          new IOException(
              "could not read "
                  + store
                  + " under its lease, so no refresh was made: "
                  + e.getClass().getSimpleName(),
              e);
      storeFailure[0] = failure;
      return RefreshResult.failed(failure);
    }
    if (!session.isCurrent(flight.generation)) {
      // A sign-in or sign-out replaced the tokens meanwhile; its write waits for this lease.
      return RefreshResult.failed(new IOException("a sign-in or sign-out replaced the tokens"));
    }
    Tokens current = failed;
    // Before this process's own write lands, the store holds tokens that memory already replaced.
    boolean inStep = writer.inStep();
    if (stored == null && failed != null && inStep) {
      return RefreshResult.signedOutElsewhere(store);
    }
    if (stored != null && !sameAccessToken(stored, failed) && inStep) {
      // A challenge's requirements need a new token, which another process's does not meet.
      if (session.usableAsStored(stored) && flight.requirements == null) {
        return RefreshResult.succeeded(stored).saved(); // Another process refreshed.
      }
      if (grant.canRefresh(stored)) current = stored; // Its refresh token is the newest.
    }
    RefreshResult result = grant.call(current, flight.requirements);
    if (result.status == RefreshResult.Status.FAILED) return result;
    try {
      if (lease.save(result.tokens)) return result.saved();
    } catch (IOException | RuntimeException e) {
      // The tokens stay in memory, and the manager saves them once more outside the lease.
      storeFailure[0] = e instanceof IOException ? e : threw((RuntimeException) e, "save()");
      return result;
    }
    // The lease ended (past its TTL, or the refresh was abandoned), or someone wrote in between
    // (a sign-out deletes the file store's file without the lease). The server may have rotated
    // already: take the lease again rather than drop the tokens. Let go of this one first: a
    // lease need not be reentrant, and the file store's is not.
    lease.close();
    try (SharedTokenStore.Lease again = store.lease(leaseTimeoutMillis)) {
      Tokens now = again.load();
      if (now == null) return RefreshResult.signedOutElsewhere(store);
      if (!sameAccessToken(now, failed) && !sameAccessToken(now, current)) {
        return RefreshResult.succeeded(now).saved(); // Another process's newer tokens win.
      }
      if (again.save(result.tokens)) return result.saved();
    } catch (IOException | RuntimeException e) {
      storeFailure[0] =
          new IOException(store + " refused the refreshed tokens, and saving them again failed", e);
      return result; // Kept in memory; the manager saves them outside the lease.
    }
    storeFailure[0] = new IOException(store + " refused the refreshed tokens twice");
    return result;
  }

  private IOException threw(RuntimeException e, String method) {
    return new IOException(store + "." + method + " threw " + e.getClass().getName(), e);
  }

  private static boolean sameAccessToken(Tokens a, @Nullable Tokens b) {
    return b != null && a.accessToken().equals(b.accessToken());
  }
}
