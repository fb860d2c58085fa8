package dev.retrofitauth;

import java.io.Closeable;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * A {@link TokenStore} that several processes share, and that keeps them from refreshing one
 * session at the same time. With a rotating refresh token and reuse detection, two processes that
 * present the same refresh token end the session for all of them; a shared store prevents that.
 *
 * <p>When the manager's store is shared, each refresh runs inside a {@link Lease}:
 *
 * <ol>
 *   <li>take the lease, waiting at most the {@linkplain RefreshManager.Builder#refreshTimeout
 *       refresh timeout};
 *   <li>{@linkplain Lease#load() load} the store: tokens that another process saved since this
 *       process's tokens were issued are adopted, and no refresh is made;
 *   <li>otherwise refresh, from the newest refresh token in the store;
 *   <li>{@linkplain Lease#save save} the result, which the store refuses if the lease has ended or
 *       the stored tokens changed since the load;
 *   <li>{@linkplain Lease#close() release} the lease.
 * </ol>
 *
 * <p>The manager's own single flight stays in front: a process takes the lease once per expiry, not
 * once per call. Sign-in and sign-out go through {@link #save} and {@link #clear}, which the store
 * orders with the leases so that a lease's save never overwrites them.
 *
 * <p>{@link TokenStore#file(java.io.File)} is shared between the processes of one machine. The
 * {@code retrofit-auth-redis} module has one for a fleet of machines.
 */
public interface SharedTokenStore extends TokenStore {
  /**
   * Takes this session's lease, waiting at most {@code timeoutMillis} for another holder to release
   * it; {@code Long.MAX_VALUE} waits as long as it takes. A lease whose process dies ends by
   * itself: a file's lock when the operating system closes the process's files, a Redis lease at
   * its TTL. A manager whose refresh hangs closes the lease when it abandons the refresh, at twice
   * the refresh timeout; with no refresh timeout, a hung refresh keeps the lease.
   *
   * @throws java.io.InterruptedIOException if the thread is interrupted while it waits, or the
   *     lease was not free in time.
   * @throws IOException if the store cannot be reached.
   */
  Lease lease(long timeoutMillis) throws IOException;

  /**
   * The right to refresh a shared session, held by one process at a time. It is used by one thread
   * at a time, but may be {@linkplain #close() closed} from another.
   */
  interface Lease extends Closeable {
    /**
     * Returns the stored tokens, or null if there are none, and remembers their version for {@link
     * #save}.
     */
    @Nullable Tokens load() throws IOException;

    /**
     * Replaces the stored tokens with {@code tokens}, or clears them if it is null, if the lease is
     * still held and the store still holds the version that {@link #load()} returned. Returns
     * false, and changes nothing, otherwise: the tokens of a holder whose lease ran out never
     * replace newer ones. Call {@link #load()} first.
     */
    boolean save(@Nullable Tokens tokens) throws IOException;

    /**
     * Releases the lease, so that another process may take it at once. Idempotent, and never
     * throws: a lease that cannot be released ends at its TTL.
     */
    @Override
    void close();
  }
}
