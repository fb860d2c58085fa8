package dev.retrofitauth.jdbc;

import dev.retrofitauth.SharedTokenStore;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.internal.SharedLeases;
import java.io.IOException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One held lease: its random holder id in the row's {@code lease_holder}, the version its {@link
 * #load()} saw, and the task that renews it.
 *
 * <p>States: held (renewed every third of the TTL) → closed (renewal stopped, the lease cleared if
 * it is still this one's). A lease whose end passed, because it was not renewed in time, stays
 * "held" here until it is closed, but the database refuses its saves and its renewals.
 */
final class JdbcLease implements SharedTokenStore.Lease {
  private final JdbcTokenStore store;
  private final String holder;
  private final long takenAtNanos = System.nanoTime();
  private final AtomicBoolean closed = new AtomicBoolean();
  // True while a renewal runs: a database that is slow gets one renewal at a time, not a queue.
  private final AtomicBoolean renewing = new AtomicBoolean();
  private final ScheduledFuture<?> renewal;
  // Used by one thread at a time, which may change between calls (an executor's threads).
  private volatile long loadedVersion = -1;

  JdbcLease(JdbcTokenStore store, String holder) {
    this.store = store;
    this.holder = holder;
    // The shared renewal thread hands each renewal to a database thread, and never waits.
    this.renewal = SharedLeases.renewEveryThirdOf(store.leaseTtlMillis, this::renew);
  }

  private void renew() {
    if (closed.get()) return;
    long heldMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - takenAtNanos);
    if (heldMillis >= store.maxLeaseHoldMillis) {
      stopRenewal();
      return;
    }
    if (!renewing.compareAndSet(false, true)) return;
    store.database.submit(
        () -> {
          try {
            int renewed =
                store.database.call(
                    "renewing the lease of " + store.session,
                    false,
                    connection ->
                        store.database.update(
                            connection,
                            store.table.renew,
                            store.leaseTtlMillis,
                            store.key,
                            holder));
            // Lost: it ended, and another holder may have it now.
            if (renewed == 0) stopRenewal();
          } catch (IOException e) {
            // Tried again next period; the lease ends at its TTL if the database stays away.
          } finally {
            renewing.set(false);
          }
        });
  }

  /** Stops renewing, as a process that died would: the lease ends at its TTL. For tests too. */
  void stopRenewal() {
    renewal.cancel(false);
  }

  @Override
  public @Nullable Tokens load() throws IOException {
    JdbcTokenStore.Stored stored = store.read("loading " + store.session + " in a lease");
    // Remembered before decoding: a holder may overwrite a value it cannot read (corrupt, or
    // from another key), and the version check still keeps it from overwriting a newer one.
    loadedVersion = stored.version;
    return stored.tokens();
  }

  @Override
  public boolean save(@Nullable Tokens tokens) throws IOException {
    long version = loadedVersion;
    if (version < 0) throw new IllegalStateException("call load() before save()");
    if (closed.get()) return false;
    String value = tokens != null ? store.codec.encode(tokens, -1L) : null;
    int saved =
        store.database.call(
            "saving " + store.session + " in a lease",
            true,
            connection ->
                store.database.update(
                    connection, store.table.saveInLease, value, store.key, version, holder));
    if (saved != 1) return false;
    loadedVersion = version + 1;
    return true;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    stopRenewal();
    try {
      store.database.call(
          "releasing the lease of " + store.session,
          false,
          connection -> store.database.update(connection, store.table.release, store.key, holder));
    } catch (IOException e) {
      // Never throws: a lease that cannot be released ends at its TTL. An interrupt stays set.
    }
  }

  @Override
  public String toString() {
    return "JdbcLease{" + store.session + (closed.get() ? ", closed" : "") + "}";
  }
}
