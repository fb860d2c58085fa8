package dev.retrofitauth.redis;

import dev.retrofitauth.SharedTokenStore;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.internal.SharedLeases;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import java.io.IOException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One held lease: its random id in {@code <key>:lease}, the version its {@link #load()} saw, and
 * the task that renews it.
 *
 * <p>States: held (renewed every third of the TTL) → closed (renewal stopped, the lease key deleted
 * if it still holds this id). A lease that Redis dropped, because it was not renewed in time, stays
 * "held" here until it is closed, but its saves are refused by Redis.
 */
final class RedisLease implements SharedTokenStore.Lease {
  // KEYS[1] = the lease key, ARGV[1] = this lease's id, ARGV[2] = the TTL in ms.
  private static final String RENEW =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
          + "  return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
          + "end\n"
          + "return 0";
  // KEYS[1] = the lease key, ARGV[1] = this lease's id.
  private static final String RELEASE =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
          + "  return redis.call('DEL', KEYS[1])\n"
          + "end\n"
          + "return 0";
  // KEYS[1] = the hash, KEYS[2] = the lease key; ARGV[1] = this lease's id, ARGV[2] = the version
  // load() saw, ARGV[3] = the new value, or absent to clear. Returns the new version, -1 if the
  // lease is not held, -2 if the version changed.
  private static final String SAVE =
      "if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end\n"
          + "local version = redis.call('HGET', KEYS[1], 'version') or '0'\n"
          + "if version ~= ARGV[2] then return -2 end\n"
          + "if ARGV[3] then\n"
          + "  redis.call('HSET', KEYS[1], 'tokens', ARGV[3])\n"
          + "else\n"
          + "  redis.call('HDEL', KEYS[1], 'tokens')\n"
          + "end\n"
          + "return redis.call('HINCRBY', KEYS[1], 'version', 1)";

  private final RedisTokenStore store;
  private final String id;
  private final long takenAtNanos = System.nanoTime();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ScheduledFuture<?> renewal;
  // Used by one thread at a time, which may change between calls (an executor's threads).
  private volatile long loadedVersion = -1;
  // Written and read by the renewal thread only.
  private @Nullable RedisFuture<Long> lastRenewal;

  RedisLease(RedisTokenStore store, String id) {
    this.store = store;
    this.id = id;
    // On the shared renewal thread, which only sends the command and never waits for it.
    this.renewal = SharedLeases.renewEveryThirdOf(store.leaseTtlMillis, this::renew);
  }

  private void renew() {
    if (closed.get()) return;
    long heldMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - takenAtNanos);
    if (heldMillis >= store.maxLeaseHoldMillis) {
      stopRenewal();
      return;
    }
    // While Redis is away Lettuce queues commands: keep at most one renewal waiting.
    RedisFuture<Long> last = lastRenewal;
    if (last != null && !last.isDone()) last.cancel(true);
    try {
      RedisFuture<Long> renewed =
          store
              .redis
              .async()
              .eval(
                  RENEW,
                  ScriptOutputType.INTEGER,
                  new String[] {store.leaseKey},
                  id,
                  Long.toString(store.leaseTtlMillis));
      renewed.whenComplete(
          (result, e) -> {
            // Lost: another holder may have it now. A failed renewal is tried again next period.
            if (e == null && result != null && result == 0L) stopRenewal();
          });
      lastRenewal = renewed;
    } catch (RuntimeException e) {
      // The connection refused the command (closed); the lease ends at its TTL.
    }
  }

  /** Stops renewing, as a process that died would: the lease ends at its TTL. For tests too. */
  void stopRenewal() {
    renewal.cancel(false);
  }

  @Override
  public @Nullable Tokens load() throws IOException {
    RedisTokenStore.Stored stored = store.read("loading Redis key " + store.key + " in a lease");
    // Remembered before decoding: a holder may overwrite a value it cannot read (corrupt, or
    // from another key), and the version check still keeps it from overwriting a newer one.
    loadedVersion = stored.version;
    return stored.tokens();
  }

  @Override
  public boolean save(@Nullable Tokens tokens) throws IOException {
    if (loadedVersion < 0) throw new IllegalStateException("call load() before save()");
    if (closed.get()) return false;
    String version = Long.toString(loadedVersion);
    String[] keys = {store.key, store.leaseKey};
    String[] args =
        tokens != null
            ? new String[] {id, version, store.codec.encode(tokens, -1L)}
            : new String[] {id, version};
    Long result =
        store.redis.call(
            "saving Redis key " + store.key + " in a lease",
            redis -> redis.<Long>eval(SAVE, ScriptOutputType.INTEGER, keys, args));
    if (result == null || result < 0) return false;
    loadedVersion = result;
    return true;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    stopRenewal();
    try {
      store.redis.call(
          "releasing the lease " + store.leaseKey,
          redis ->
              redis.<Long>eval(
                  RELEASE, ScriptOutputType.INTEGER, new String[] {store.leaseKey}, id));
    } catch (IOException e) {
      // Never throws: a lease that cannot be released ends at its TTL. An interrupt stays set.
    }
  }

  /** Sends the release of lease {@code id} without waiting for it; never throws. */
  static void releaseLater(RedisTokenStore store, String id) {
    try {
      store
          .redis
          .async()
          .eval(RELEASE, ScriptOutputType.INTEGER, new String[] {store.leaseKey}, id);
    } catch (RuntimeException ignored) {
      // The connection is closed: then the SET was not sent either, or ends at its TTL.
    }
  }

  @Override
  public String toString() {
    return "RedisLease{" + store.leaseKey + (closed.get() ? ", closed" : "") + "}";
  }
}
