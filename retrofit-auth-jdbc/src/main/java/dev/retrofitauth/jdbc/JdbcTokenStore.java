package dev.retrofitauth.jdbc;

import dev.retrofitauth.SharedTokenStore;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.internal.SharedLeases;
import dev.retrofitauth.internal.TokenCodec;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * A {@link SharedTokenStore} in a SQL table, through the app's {@link DataSource}: a fleet of
 * processes that share one session's tokens makes one refresh per expiry, not one per process.
 * PostgreSQL is the database it is built for; H2 in PostgreSQL mode works too, for one machine.
 *
 * <pre>{@code
 * JdbcTokenStore store = JdbcTokenStore.builder(dataSource)   // the app's pool, e.g. HikariCP
 *     .key("integration-42")
 *     .encryptionKey("2026-01", aesKey)                        // optional
 *     .build();
 * RefreshManager auth = RefreshManager.builder()
 *     .tokenStore(store)
 *     .refreshApi(...)
 *     .build();
 * }</pre>
 *
 * <p><b>The table.</b> One row per session in {@code retrofit_auth_session} (or the {@linkplain
 * Builder#table table} the app names): the session's key, its tokens (JSON, or their encryption), a
 * version that every save and clear increments, and the lease's holder and end. The DDL is in the
 * module's README and in the resource {@code dev/retrofitauth/jdbc/retrofit_auth_session.sql}; the
 * app creates the table with its migrations, or calls {@link Builder#createTableIfMissing()} once.
 * Nothing else creates it.
 *
 * <p><b>Leases.</b> {@link #lease(long)} takes the row's lease with one conditional {@code UPDATE}:
 * it succeeds if no one holds the lease or if its end has passed, by the database's clock, never
 * the client's. It tries again every 2 to 20 ms until it succeeds or the timeout ends. While the
 * lease is held, a daemon thread renews it every third of the {@linkplain Builder#leaseTtl TTL}, so
 * a refresh may take longer than the TTL; a process that dies, freezes or loses the database stops
 * renewing, and its lease ends at most one TTL later. {@link Lease#save} is one {@code UPDATE} that
 * writes only if the lease is still this one's and unexpired and the version is still the one
 * {@link Lease#load()} saw; {@link Lease#close()} clears the lease if it is still this one's.
 *
 * <p><b>Failures.</b> Every operation waits at most the {@linkplain Builder#timeout timeout} (5 s
 * by default), taking a connection included, then fails with an {@link IOException} that names the
 * operation, the session key and the table, but no token; an interrupted wait fails with an {@link
 * InterruptedIOException}. While the database is away, the manager's refreshes fail as transient
 * failures, and it goes on with the tokens it holds; once the database is back, the next refresh
 * works.
 *
 * <p><b>Who closes what.</b> The store never closes the data source: the app that made it closes
 * it, after the managers that use the store are done. A store takes a connection for each operation
 * and returns it at once; use a pool, as any server does. One data source serves any number of
 * stores.
 *
 * <p>Instances are thread-safe.
 */
public final class JdbcTokenStore implements SharedTokenStore {
  private static final int MAX_KEY_LENGTH = 512;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String UNIQUE_VIOLATION = "23505";

  final String key;
  final SessionTable table;
  final JdbcCalls database;
  final long leaseTtlMillis;
  final long maxLeaseHoldMillis;
  final TokenCodec codec;
  private final @Nullable String keyId;
  // What messages call this session: "session 'user-42' in table retrofit_auth_session".
  final String session;

  private JdbcTokenStore(Builder builder, String key) {
    this.key = key;
    this.table = builder.table;
    this.database = new JdbcCalls(builder.dataSource, builder.timeoutMillis);
    this.leaseTtlMillis = builder.leaseTtlMillis;
    this.maxLeaseHoldMillis = builder.maxLeaseHoldMillis;
    this.keyId = builder.keyId;
    this.session = "session '" + SessionTable.printable(key) + "' in table " + table.name;
    this.codec =
        new TokenCodec(
            session,
            "JdbcTokenStore.Builder.encryptionKey",
            key.getBytes(StandardCharsets.UTF_8),
            builder.keyId,
            builder.encryptionKey);
  }

  /**
   * Returns a builder for a store in a table of {@code dataSource}'s database, which the app keeps
   * and closes.
   */
  public static Builder builder(DataSource dataSource) {
    Objects.requireNonNull(dataSource, "dataSource == null");
    return new Builder(dataSource);
  }

  @Override
  public @Nullable Tokens load() throws IOException {
    return read("loading " + session).tokens();
  }

  /** The stored value and its version (0 if there is no row), not decoded yet. */
  Stored read(String what) throws IOException {
    return database.call(
        what,
        false,
        connection -> {
          try (PreparedStatement statement = connection.prepareStatement(table.select)) {
            statement.setQueryTimeout(database.queryTimeoutSeconds());
            statement.setString(1, key);
            try (ResultSet row = statement.executeQuery()) {
              if (!row.next()) return new Stored(null, 0L);
              return new Stored(row.getString(1), row.getLong(2));
            }
          }
        });
  }

  /** Replaces the stored tokens, and ends any lease's right to save over them. */
  @Override
  public void save(Tokens tokens) throws IOException {
    Objects.requireNonNull(tokens, "tokens == null");
    String value = codec.encode(tokens, -1L);
    database.call(
        "saving " + session,
        true,
        connection -> {
          if (database.update(connection, table.update, value, key) == 1) return null;
          try {
            database.update(connection, table.insert, key, value);
          } catch (SQLException e) {
            // Another process inserted the row in between: update it.
            if (!UNIQUE_VIOLATION.equals(e.getSQLState())) throw e;
            database.update(connection, table.update, value, key);
          }
          return null;
        });
  }

  /**
   * Removes the stored tokens, and ends any lease's right to save over them. The row and its
   * version stay, so that the version never repeats.
   */
  @Override
  public void clear() throws IOException {
    database.call(
        "clearing " + session, false, connection -> database.update(connection, table.clear, key));
  }

  /**
   * Takes this session's lease, trying again every 2 to 20 ms while another holder has it, for at
   * most {@code timeoutMillis} ({@code Long.MAX_VALUE} waits as long as it takes); each try may
   * take up to the store's timeout on top. The first lease of a session with no row inserts its
   * row, with no tokens.
   *
   * @throws InterruptedIOException if the lease was not free in time, or the thread was
   *     interrupted.
   * @throws IOException if the database cannot be reached.
   */
  @Override
  public Lease lease(long timeoutMillis) throws IOException {
    String holder = newHolder();
    String what = "taking the lease of " + session;
    boolean[] rowKnown = {false};
    return SharedLeases.poll(
        what,
        timeoutMillis,
        () -> {
          boolean taken = take(what, holder, !rowKnown[0]);
          rowKnown[0] = true;
          return taken ? new JdbcLease(this, holder) : null;
        });
  }

  /** One try; with {@code insertRow}, a missing row is inserted first and the try made again. */
  private boolean take(String what, String holder, boolean insertRow) throws IOException {
    return database.call(
        what,
        false,
        connection -> {
          if (database.update(connection, table.take, holder, leaseTtlMillis, key) == 1) {
            return true;
          }
          if (!insertRow) return false;
          try {
            if (database.update(connection, table.insertIfMissing, key, key) == 0) return false;
          } catch (SQLException e) {
            // Another process inserted it in between, and may hold the lease already.
            if (!UNIQUE_VIOLATION.equals(e.getSQLState())) throw e;
          }
          return database.update(connection, table.take, holder, leaseTtlMillis, key) == 1;
        });
  }

  private static String newHolder() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    StringBuilder id = new StringBuilder(32);
    for (byte b : bytes)
      id.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    return id.toString();
  }

  /** Returns a description with the session key, the table and the key id, but no token. */
  @Override
  public String toString() {
    return "JdbcTokenStore{"
        + session
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
   * Configures a {@link JdbcTokenStore}: either {@link #key} then {@link #build()}, for one
   * session, or {@link #keyPrefix} then {@link #buildFor} once for each session.
   */
  public static final class Builder {
    final DataSource dataSource;
    SessionTable table = new SessionTable(SessionTable.DEFAULT_NAME);
    @Nullable String key;
    @Nullable String keyPrefix;
    long timeoutMillis = TimeUnit.SECONDS.toMillis(5);
    long leaseTtlMillis = TimeUnit.SECONDS.toMillis(10);
    long maxLeaseHoldMillis = TimeUnit.MINUTES.toMillis(2);
    @Nullable String keyId;
    @Nullable SecretKey encryptionKey;

    Builder(DataSource dataSource) {
      this.dataSource = dataSource;
    }

    /**
     * The table of the sessions: {@code retrofit_auth_session} by default. A plain SQL identifier,
     * optionally after a schema and a dot, as in {@code myapp.retrofit_auth_session}; it is put
     * into the SQL unquoted, so the database folds its case as it does for its own DDL.
     *
     * @throws IllegalArgumentException if {@code name} is not a plain identifier (letters, digits
     *     and {@code _}, 1 to 63 characters, not starting with a digit), or has more than one dot.
     */
    public Builder table(String name) {
      Objects.requireNonNull(name, "name == null");
      this.table = new SessionTable(SessionTable.checkName(name));
      return this;
    }

    /**
     * The key of this session's row, as in {@code integration-42}. Required by {@link #build()};
     * for many sessions, use {@link #keyPrefix} and {@link #buildFor} instead.
     *
     * @throws IllegalArgumentException if {@code key} is empty, longer than 512 characters, or
     *     holds a NUL character or a lone surrogate, which no database column stores.
     */
    public Builder key(String key) {
      Objects.requireNonNull(key, "key == null");
      this.key = checkKey("key", key);
      return this;
    }

    /**
     * The prefix of many sessions' keys, as in {@code myapp:user:}, for {@link #buildFor}: it keeps
     * the sessions of one credential apart from any other rows in the table. End it with a
     * separator that session keys do not start with, so that no two credentials' keys meet.
     *
     * @throws IllegalArgumentException if {@code prefix} is empty, leaves no room for a session key
     *     under 512 characters, or holds a NUL character or a lone surrogate.
     */
    public Builder keyPrefix(String prefix) {
      Objects.requireNonNull(prefix, "prefix == null");
      checkKey("keyPrefix", prefix);
      if (prefix.length() >= MAX_KEY_LENGTH) {
        throw new IllegalArgumentException(
            "keyPrefix leaves no room for a session key in "
                + MAX_KEY_LENGTH
                + " characters: "
                + prefix.length());
      }
      this.keyPrefix = prefix;
      return this;
    }

    /**
     * How long each operation may take, taking a connection included, before it fails with an
     * {@link IOException}: 5 seconds by default. Keep it well under the manager's refresh timeout.
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
     * the database: 10 seconds by default, by the database's clock. The others wait up to this long
     * after such a holder stops. While the holder runs, its lease is renewed every third of this.
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
     * 2026-01}). The row's session key is authenticated with each value, so a value copied to
     * another row does not decrypt. Tokens that were saved with another key id, with another key,
     * or unencrypted fail to load with an {@link IOException} that says which; the manager reports
     * it to its listener and starts signed out.
     *
     * <p>Each stored value is {@code
     * {"version":1,"enc":"AES-GCM","kid":keyId,"iv":base64,"ct":base64}}: a random 12-byte IV, and
     * the ciphertext of the unencrypted JSON followed by its 128-bit tag. It is the codec of the
     * file and Redis stores.
     *
     * <p>The {@code version} column is not covered by the encryption, on purpose: whoever can write
     * to the table can put back an older value together with its older version, which no encryption
     * can tell from a real save, or delete the row. What the encryption keeps from them is reading
     * the tokens and writing tokens of their own.
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
     * Creates the {@linkplain #table table} with the module's DDL if it does not exist, now, and
     * returns this builder. The app's own migrations are the better place for the DDL; this is for
     * an app without any, and for tests. Nothing else ever creates the table.
     *
     * @throws IOException if the database cannot be reached within the {@linkplain #timeout
     *     timeout}, or refuses the DDL (for example, the user may not create tables).
     */
    public Builder createTableIfMissing() throws IOException {
      String ddl = table.ddl();
      JdbcCalls database = new JdbcCalls(dataSource, timeoutMillis);
      database.call(
          "creating table " + table.name,
          false,
          connection -> {
            try (Statement statement = connection.createStatement()) {
              statement.setQueryTimeout(database.queryTimeoutSeconds());
              statement.execute(ddl);
            }
            return null;
          });
      return this;
    }

    /**
     * Returns the store of the session at {@link #key}.
     *
     * @throws IllegalStateException if no {@link #key} was set, or if {@link #keyPrefix} was set
     *     too, or instead.
     */
    public JdbcTokenStore build() {
      checkNotBoth();
      String key = this.key;
      if (key == null && keyPrefix != null) {
        throw new IllegalStateException(
            "keyPrefix is set, and build() has no session key: call buildFor(sessionKey) for each"
                + " session's store, or key(...) instead of keyPrefix(...) for one session");
      }
      if (key == null) {
        throw new IllegalStateException(
            "no key: call key(...) with this session's key, as in integration-42");
      }
      return new JdbcTokenStore(this, key);
    }

    /**
     * Returns the store of one session among many, in the row {@code <prefix><sessionKey>}, with
     * every other setting of this builder, encryption included.
     *
     * <p>This reads the builder and does not change it: a builder that is no longer changed can be
     * kept, and {@code buildFor} called once for each session, from any thread.
     *
     * <pre>{@code
     * JdbcTokenStore.Builder users = JdbcTokenStore.builder(dataSource)
     *     .keyPrefix("myapp:user:")
     *     .encryptionKey("2026-01", aesKey);     // optional
     * ...
     * registry.addKeyed("user", String.class,
     *     userId -> RefreshManager.builder().tokenStore(users.buildFor(userId)).refreshApi(api));
     * }</pre>
     *
     * @throws IllegalArgumentException if {@code sessionKey} is empty, holds a NUL character or a
     *     lone surrogate, or makes a key longer than 512 characters with the prefix.
     * @throws IllegalStateException if no {@link #keyPrefix} was set, or if {@link #key} was set
     *     too.
     */
    public JdbcTokenStore buildFor(String sessionKey) {
      Objects.requireNonNull(sessionKey, "sessionKey == null");
      checkNotBoth();
      String prefix = this.keyPrefix;
      if (prefix == null) {
        throw new IllegalStateException(
            "no keyPrefix: call keyPrefix(...) with the prefix of the sessions' keys, as in"
                + " myapp:user:, before buildFor(sessionKey)");
      }
      if (sessionKey.isEmpty()) throw new IllegalArgumentException("sessionKey is empty");
      return new JdbcTokenStore(this, checkKey("sessionKey with its prefix", prefix + sessionKey));
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

  private static String checkKey(String name, String key) {
    if (key.isEmpty()) throw new IllegalArgumentException(name + " is empty");
    if (key.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException(
          name + " is longer than " + MAX_KEY_LENGTH + " characters: " + key.length());
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c == '\u0000') {
        throw new IllegalArgumentException(
            name + " has a NUL character, which no text column stores, at index " + i);
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < key.length()
          && Character.isLowSurrogate(key.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        // A driver would turn every lone surrogate into '?': two keys into one.
        throw new IllegalArgumentException(
            name + " has a lone surrogate, which has no UTF-8 encoding, at index " + i);
      }
    }
    return key;
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
}
