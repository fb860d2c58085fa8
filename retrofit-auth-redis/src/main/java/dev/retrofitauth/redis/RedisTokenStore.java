package dev.retrofitauth.redis;

import dev.retrofitauth.SharedTokenStore;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.internal.SharedLeases;
import dev.retrofitauth.internal.TokenCodec;
import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import org.jspecify.annotations.Nullable;

/**
 * A {@link SharedTokenStore} on Redis, through Lettuce: a fleet of processes that share one
 * session's tokens makes one refresh per expiry, not one per process.
 *
 * <pre>{@code
 * RedisClient redis = RedisClient.create("redis://redis.internal:6379");
 * StatefulRedisConnection<String, String> connection = redis.connect();
 *
 * RedisTokenStore store = RedisTokenStore.builder(connection)
 *     .key("myapp:tokens:integration-42")
 *     .encryptionKey("2026-01", aesKey)        // optional
 *     .build();
 * RefreshManager auth = RefreshManager.builder()
 *     .tokenStore(store)
 *     .refreshApi(...)
 *     .build();
 * }</pre>
 *
 * <p><b>Keys.</b> A session lives in one Redis hash, with the fields {@code tokens} (the JSON of
 * the tokens, or its encryption) and {@code version} (an integer that every save and clear
 * increments, and that {@link #clear()} keeps). Its lease is the string key {@code <key>:lease}.
 * Nothing expires the tokens themselves. The hash's key is either {@link Builder#key key}, for one
 * session, or, for a server with many sessions, {@code <prefix>{<sessionKey>}} from {@link
 * Builder#keyPrefix keyPrefix} and {@link Builder#buildFor buildFor}: as in {@code
 * myapp:tokens:{user-42}}, with the session key percent-encoded so that no session key can name
 * another session's hash or lease. In a Redis Cluster the hash and its lease must be in one slot:
 * the braces of {@code buildFor}'s keys are a hash tag that does it; with {@code key}, put a hash
 * tag in the key yourself, as in {@code myapp:tokens:{integration-42}}.
 *
 * <p><b>Leases.</b> {@link #lease(long)} takes {@code <key>:lease} with {@code SET NX PX}, trying
 * again with a short backoff (2 to 20 ms) until it is free or the timeout ends. While the lease is
 * held, a daemon thread renews it every third of the {@linkplain Builder#leaseTtl TTL}, so a
 * refresh may take longer than the TTL; a process that dies, freezes or loses Redis stops renewing,
 * and its lease ends at most one TTL later. {@link Lease#save} is one Lua script that writes only
 * if the lease key still holds this lease's random id and the version is still the one {@link
 * Lease#load()} saw; {@link Lease#close()} deletes the lease key only if it still holds that id.
 *
 * <p><b>Failures.</b> Every command waits at most the {@linkplain Builder#timeout timeout} (5 s by
 * default), then fails with an {@link IOException} that names the operation and the Redis key, but
 * no token; an interrupted wait fails with an {@link InterruptedIOException}. While Redis is away,
 * the manager's refreshes fail as transient failures, and it goes on with the tokens it holds.
 * Lettuce reconnects by itself, and the store works again once Redis is back.
 *
 * <p><b>Who closes what.</b> The store never closes the connection: the app that opened it closes
 * it, after the managers that use the store are done. One connection serves any number of stores,
 * one per session; a Lettuce connection is thread-safe. The connection must use UTF-8 strings for
 * keys and values, as {@code RedisClient.connect()} does.
 *
 * <p>Instances are thread-safe.
 */
public final class RedisTokenStore implements SharedTokenStore {
  private static final String LEASE_SUFFIX = ":lease";
  private static final int MAX_KEY_LENGTH = 512;
  // Room for at least "{x}" after the prefix.
  private static final int MAX_PREFIX_LENGTH = MAX_KEY_LENGTH - 3;
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  // KEYS[1] = the hash. Returns the new version.
  private static final String SAVE =
      "redis.call('HSET', KEYS[1], 'tokens', ARGV[1])\n"
          + "return redis.call('HINCRBY', KEYS[1], 'version', 1)";
  private static final String CLEAR =
      "redis.call('HDEL', KEYS[1], 'tokens')\n"
          + "return redis.call('HINCRBY', KEYS[1], 'version', 1)";

  final String key;
  final String leaseKey;
  final long leaseTtlMillis;
  final long maxLeaseHoldMillis;
  final RedisCalls redis;
  final TokenCodec codec;
  private final @Nullable String keyId;

  private RedisTokenStore(Builder builder, String key) {
    this.key = key;
    this.leaseKey = key + LEASE_SUFFIX;
    this.leaseTtlMillis = builder.leaseTtlMillis;
    this.maxLeaseHoldMillis = builder.maxLeaseHoldMillis;
    this.redis = new RedisCalls(builder.connection, builder.timeoutMillis);
    this.keyId = builder.keyId;
    this.codec =
        new TokenCodec(
            "Redis key " + key,
            "RedisTokenStore.Builder.encryptionKey",
            key.getBytes(StandardCharsets.UTF_8),
            builder.keyId,
            builder.encryptionKey);
  }

  /**
   * Returns a builder for a store that talks to Redis over {@code connection}, which the app keeps
   * and closes.
   */
  public static Builder builder(StatefulRedisConnection<String, String> connection) {
    Objects.requireNonNull(connection, "connection == null");
    return new Builder(connection);
  }

  @Override
  public @Nullable Tokens load() throws IOException {
    return read("loading Redis key " + key).tokens();
  }

  /** The stored value and its version (0 if the key was never written), not decoded yet. */
  Stored read(String what) throws IOException {
    List<KeyValue<String, String>> fields =
        redis.call(what, redis -> redis.hmget(key, "tokens", "version"));
    String value = fields.get(0).getValueOrElse(null);
    String version = fields.get(1).getValueOrElse(null);
    long parsed;
    try {
      parsed = version != null ? Long.parseLong(version) : 0L;
    } catch (NumberFormatException e) {
      throw new IOException(what + ": the version field is not a number");
    }
    return new Stored(value, parsed);
  }

  /** Replaces the stored tokens, and ends any lease's right to save over them. */
  @Override
  public void save(Tokens tokens) throws IOException {
    Objects.requireNonNull(tokens, "tokens == null");
    String value = codec.encode(tokens, -1L);
    redis.call(
        "saving Redis key " + key,
        redis -> redis.<Long>eval(SAVE, ScriptOutputType.INTEGER, new String[] {key}, value));
  }

  /**
   * Removes the stored tokens, and ends any lease's right to save over them. The version stays, so
   * that it never repeats.
   */
  @Override
  public void clear() throws IOException {
    redis.call(
        "clearing Redis key " + key,
        redis -> redis.<Long>eval(CLEAR, ScriptOutputType.INTEGER, new String[] {key}));
  }

  /**
   * Takes this session's lease, trying again every 2 to 20 ms while another holder has it, for at
   * most {@code timeoutMillis} ({@code Long.MAX_VALUE} waits as long as it takes); each try may
   * take up to the command timeout on top.
   *
   * @throws InterruptedIOException if the lease was not free in time, or the thread was
   *     interrupted.
   * @throws IOException if Redis cannot be reached.
   */
  @Override
  public Lease lease(long timeoutMillis) throws IOException {
    String id = newLeaseId();
    String what = "taking the lease " + leaseKey;
    return SharedLeases.poll(
        what,
        timeoutMillis,
        () -> {
          String ok;
          try {
            ok =
                redis.call(
                    what,
                    redis -> redis.set(leaseKey, id, SetArgs.Builder.nx().px(leaseTtlMillis)));
          } catch (IOException e) {
            // A hung Redis may still run the SET once it answers again, and hold a lease no one
            // has. Queued behind it on the same connection, this deletes that lease right after.
            RedisLease.releaseLater(this, id);
            throw e;
          }
          return "OK".equals(ok) ? new RedisLease(this, id) : null;
        });
  }

  private static String newLeaseId() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    StringBuilder id = new StringBuilder(32);
    for (byte b : bytes)
      id.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    return id.toString();
  }

  /** Returns a description with the Redis key and the key id, but no token and no key material. */
  @Override
  public String toString() {
    return "RedisTokenStore{key="
        + key
        + (keyId != null ? ", encrypted with key id '" + keyId + "'" : "")
        + "}";
  }

  final class Stored {
    private final @Nullable String value;
    final long version;

    Stored(@Nullable String value, long version) {
      this.value = value;
      this.version = version;
    }

    /** Decodes the value, or fails if it is corrupt or encrypted with another key. */
    @Nullable Tokens tokens() throws IOException {
      return value != null ? codec.decode(value) : null;
    }
  }

  /**
   * Configures a {@link RedisTokenStore}: either {@link #key} then {@link #build()}, for one
   * session, or {@link #keyPrefix} then {@link #buildFor} once for each session.
   */
  public static final class Builder {
    final StatefulRedisConnection<String, String> connection;
    @Nullable String key;
    @Nullable String keyPrefix;
    long timeoutMillis = TimeUnit.SECONDS.toMillis(5);
    long leaseTtlMillis = TimeUnit.SECONDS.toMillis(10);
    long maxLeaseHoldMillis = TimeUnit.MINUTES.toMillis(2);
    @Nullable String keyId;
    @Nullable SecretKey encryptionKey;

    Builder(StatefulRedisConnection<String, String> connection) {
      this.connection = connection;
    }

    /**
     * The Redis key of this session's tokens, under a prefix the app chooses, as in {@code
     * myapp:tokens:user-42}. Required by {@link #build()}; for many sessions, use {@link
     * #keyPrefix} and {@link #buildFor} instead. The lease uses {@code <key>:lease}, so a key may
     * not end in {@code :lease}.
     *
     * @throws IllegalArgumentException if {@code key} is empty, longer than 512 characters, holds a
     *     character that is not printable ASCII, or ends in {@code :lease}.
     */
    public Builder key(String key) {
      Objects.requireNonNull(key, "key == null");
      if (key.isEmpty()) throw new IllegalArgumentException("key is empty");
      if (key.length() > MAX_KEY_LENGTH) {
        throw new IllegalArgumentException(
            "key is longer than " + MAX_KEY_LENGTH + " characters: " + key.length());
      }
      checkPrintableAscii("key", key);
      if (key.endsWith(LEASE_SUFFIX)) {
        throw new IllegalArgumentException(
            "key ends in " + LEASE_SUFFIX + ", which names the lease of another key: " + key);
      }
      this.key = key;
      return this;
    }

    /**
     * The prefix of the Redis keys of many sessions' tokens, as in {@code myapp:tokens:}, for
     * {@link #buildFor}. The app chooses it, so that its sessions' keys are apart from any other
     * keys in Redis.
     *
     * @throws IllegalArgumentException if {@code prefix} is empty, longer than 509 characters
     *     (which leaves no room for a session key), holds a character that is not printable ASCII,
     *     or holds <code>{</code> or <code>}</code>, which would change the hash tag that {@code
     *     buildFor} adds.
     */
    public Builder keyPrefix(String prefix) {
      Objects.requireNonNull(prefix, "prefix == null");
      if (prefix.isEmpty()) throw new IllegalArgumentException("keyPrefix is empty");
      if (prefix.length() > MAX_PREFIX_LENGTH) {
        throw new IllegalArgumentException(
            "keyPrefix is longer than "
                + MAX_PREFIX_LENGTH
                + " characters, which leaves no room for a session key: "
                + prefix.length());
      }
      checkPrintableAscii("keyPrefix", prefix);
      for (int i = 0; i < prefix.length(); i++) {
        char c = prefix.charAt(i);
        if (c == '{' || c == '}') {
          throw new IllegalArgumentException(
              "keyPrefix has a brace, which would change the hash tag that buildFor adds, at index "
                  + i
                  + ": "
                  + prefix);
        }
      }
      this.keyPrefix = prefix;
      return this;
    }

    /**
     * How long each Redis command may take before it fails with an {@link IOException}: 5 seconds
     * by default. Keep it well under the manager's refresh timeout.
     */
    public Builder timeout(long timeout, TimeUnit unit) {
      this.timeoutMillis = positiveMillis("timeout", timeout, unit);
      return this;
    }

    /** Like {@link #timeout(long, TimeUnit)}. */
    public Builder timeout(Duration timeout) {
      this.timeoutMillis = positiveMillis("timeout", timeout);
      return this;
    }

    /**
     * How long a lease outlives a holder that stopped renewing it because it died, froze or lost
     * Redis: 10 seconds by default. The others wait up to this long after such a holder stops.
     * While the holder runs, its lease is renewed every third of this.
     */
    public Builder leaseTtl(long ttl, TimeUnit unit) {
      this.leaseTtlMillis = positiveMillis("leaseTtl", ttl, unit);
      return this;
    }

    /** Like {@link #leaseTtl(long, TimeUnit)}. */
    public Builder leaseTtl(Duration ttl) {
      this.leaseTtlMillis = positiveMillis("leaseTtl", ttl);
      return this;
    }

    /**
     * How long one lease is renewed at most: 2 minutes by default. A lease that is never closed (a
     * bug, or a refresh that hangs) then blocks the other processes for at most this plus the TTL.
     * Keep it longer than the manager's refresh timeout (60 s by default): a lease that ends before
     * its refresh does cannot save the result.
     */
    public Builder maxLeaseHold(long maxHold, TimeUnit unit) {
      this.maxLeaseHoldMillis = positiveMillis("maxLeaseHold", maxHold, unit);
      return this;
    }

    /** Like {@link #maxLeaseHold(long, TimeUnit)}. */
    public Builder maxLeaseHold(Duration maxHold) {
      this.maxLeaseHoldMillis = positiveMillis("maxLeaseHold", maxHold);
      return this;
    }

    /**
     * Encrypts the stored tokens with {@code key}, an AES key (128, 192 or 256 bits) in AES-GCM,
     * and labels each value with {@code keyId}, a name for the key that is not secret (as in {@code
     * 2026-01}). The Redis key is authenticated with each value, so a value copied to another key
     * does not decrypt. Tokens that were saved with another key id, with another key, or
     * unencrypted fail to load with an {@link IOException} that says which; the manager reports it
     * to its listener and starts signed out.
     *
     * <p>Each stored value is {@code
     * {"version":1,"enc":"AES-GCM","kid":keyId,"iv":base64,"ct":base64}}: a random 12-byte IV, and
     * the ciphertext of the unencrypted JSON followed by its 128-bit tag.
     *
     * <p>The hash's {@code version} field is not covered by the encryption, on purpose: whoever can
     * write to Redis can put back an older value together with its older version, which no
     * encryption can tell from a real save, or delete the key. What the encryption keeps from them
     * is reading the tokens and writing tokens of their own. The codec is the one the file store
     * uses.
     *
     * @throws IllegalArgumentException if {@code keyId} is empty, longer than 64 characters or not
     *     printable ASCII, or if {@code key} is not an AES key this JVM can use.
     */
    public Builder encryptionKey(String keyId, SecretKey key) {
      Objects.requireNonNull(keyId, "keyId == null");
      Objects.requireNonNull(key, "key == null");
      TokenCodec.checkEncryptionKey(keyId, key);
      this.keyId = keyId;
      this.encryptionKey = key;
      return this;
    }

    /**
     * Returns the store of the session at {@link #key}.
     *
     * @throws IllegalStateException if no {@link #key} was set, or if {@link #keyPrefix} was set
     *     too, or instead.
     */
    public RedisTokenStore build() {
      checkNotBoth();
      String key = this.key;
      if (key == null && keyPrefix != null) {
        throw new IllegalStateException(
            "keyPrefix is set, and build() has no session key: call buildFor(sessionKey) for each"
                + " session's store, or key(...) instead of keyPrefix(...) for one session");
      }
      if (key == null) {
        throw new IllegalStateException(
            "no key: call key(...) with this session's Redis key, as in myapp:tokens:user-42");
      }
      return new RedisTokenStore(this, key);
    }

    /**
     * Returns the store of one session among many, at the Redis key {@code <prefix>{<sessionKey>}},
     * with every other setting of this builder, encryption included.
     *
     * <p>The session key is encoded in UTF-8, then every byte outside {@code [A-Za-z0-9._~@-]} is
     * percent-encoded ({@code %} included), so that no session key can name another session's hash
     * or lease, and the Redis key stays printable ASCII: {@code user-42} is stored at {@code
     * myapp:tokens:{user-42}}, {@code a:lease} at {@code myapp:tokens:{a%3Alease}}, and {@code Zoë
     * B} at {@code myapp:tokens:{Zo%C3%AB%20B}}; the prefix is {@code myapp:tokens:} here. The
     * braces are a Redis Cluster hash tag, which keeps the hash and its lease in one slot. With an
     * {@linkplain #encryptionKey encryption key}, each value is authenticated with the whole Redis
     * key, so a value copied from one session's hash to another's does not decrypt.
     *
     * <p>This reads the builder and does not change it: a builder that is no longer changed can be
     * kept, and {@code buildFor} called once for each session, from any thread.
     *
     * <pre>{@code
     * RedisTokenStore.Builder users = RedisTokenStore.builder(connection)
     *     .keyPrefix("myapp:tokens:")
     *     .encryptionKey("2026-01", aesKey);     // optional
     * ...
     * Function<String, RefreshManager.Builder> sessions =
     *     userId -> RefreshManager.builder().tokenStore(users.buildFor(userId)).refreshApi(api);
     * }</pre>
     *
     * @throws IllegalArgumentException if {@code sessionKey} is empty, holds a lone surrogate (it
     *     is not UTF-16, and has no UTF-8 encoding), or makes a Redis key longer than 512
     *     characters once encoded.
     * @throws IllegalStateException if no {@link #keyPrefix} was set, or if {@link #key} was set
     *     too.
     */
    public RedisTokenStore buildFor(String sessionKey) {
      Objects.requireNonNull(sessionKey, "sessionKey == null");
      checkNotBoth();
      String prefix = this.keyPrefix;
      if (prefix == null) {
        throw new IllegalStateException(
            "no keyPrefix: call keyPrefix(...) with the prefix of the sessions' Redis keys, as in"
                + " myapp:tokens:, before buildFor(sessionKey)");
      }
      if (sessionKey.isEmpty()) throw new IllegalArgumentException("sessionKey is empty");
      String key = prefix + "{" + escape(sessionKey) + "}";
      if (key.length() > MAX_KEY_LENGTH) {
        throw new IllegalArgumentException(
            "sessionKey makes a Redis key longer than "
                + MAX_KEY_LENGTH
                + " characters once encoded: "
                + key.length());
      }
      return new RedisTokenStore(this, key);
    }

    private void checkNotBoth() {
      if (key != null && keyPrefix != null) {
        throw new IllegalStateException(
            "both key(...) and keyPrefix(...) are set: call key(...) and build() for one"
                + " session's store, or keyPrefix(...) and buildFor(sessionKey) for one store per"
                + " session, not both");
      }
    }
  }

  /**
   * Percent-encodes the UTF-8 of every character outside {@code [A-Za-z0-9._~@-]}. The encoding is
   * one-to-one, and its output holds neither braces nor colons, so that {@code <prefix>{escaped}}
   * never equals another session's key or {@code <key>:lease}.
   */
  private static String escape(String sessionKey) {
    for (int i = 0; i < sessionKey.length(); i++) {
      char c = sessionKey.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < sessionKey.length()
          && Character.isLowSurrogate(sessionKey.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        // getBytes(UTF_8) would turn every lone surrogate into '?': two keys into one.
        throw new IllegalArgumentException(
            "sessionKey has a lone surrogate, which has no UTF-8 encoding, at index " + i);
      }
    }
    byte[] utf8 = sessionKey.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(utf8.length);
    for (byte b : utf8) {
      int c = b & 0xff;
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '.'
          || c == '_'
          || c == '~'
          || c == '@'
          || c == '-') {
        out.append((char) c);
      } else {
        out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return out.toString();
  }

  // The builder's settings, checked with errors that say what was passed.

  private static long positiveMillis(String name, long value, TimeUnit unit) {
    Objects.requireNonNull(unit, "unit == null");
    if (value <= 0) throw new IllegalArgumentException(name + " <= 0: " + value);
    long millis = unit.toMillis(value);
    if (millis == 0) {
      throw new IllegalArgumentException(name + " is under one millisecond: " + value + " " + unit);
    }
    return millis;
  }

  private static long positiveMillis(String name, Duration value) {
    Objects.requireNonNull(value, name + " == null");
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " <= 0: " + value);
    }
    long millis = value.toMillis();
    if (millis == 0)
      throw new IllegalArgumentException(name + " is under one millisecond: " + value);
    return millis;
  }

  private static void checkPrintableAscii(String name, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c <= ' ' || c >= '\u007f') {
        throw new IllegalArgumentException(
            name
                + " has a character that is not printable ASCII at index "
                + i
                + ": "
                + printable(value));
      }
    }
  }

  private static String printable(String key) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c > ' ' && c < '\u007f') out.append(c);
      else out.append(String.format("\\u%04x", (int) c));
    }
    return out.toString();
  }
}
