package dev.retrofitauth.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.retrofitauth.Tokens;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

final class RedisTokenStoreTest {
  private static final AtomicInteger KEYS = new AtomicInteger();
  private static TestRedis redis;
  private static StatefulRedisConnection<String, String> connection;
  private static RedisCommands<String, String> raw;

  @BeforeAll
  static void startRedis() throws IOException {
    redis = TestRedis.start();
    connection = redis.connect();
    raw = redis.connect().sync();
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  private static String newKey() {
    return "test:tokens:store-" + KEYS.incrementAndGet();
  }

  @Test
  void roundTripAcrossConnections() throws IOException {
    String key = newKey();
    RedisTokenStore store = RedisTokenStore.builder(connection).key(key).build();
    RedisTokenStore other = RedisTokenStore.builder(redis.connect()).key(key).build();
    assertNull(store.load());

    Tokens tokens = Tokens.of("access-1", "refresh-1", 1767225600000L);
    store.save(tokens);
    assertEquals(tokens, store.load());
    assertEquals(tokens, other.load());

    Tokens dpop = Tokens.of("access-2").withTokenType(Tokens.DPOP);
    other.save(dpop);
    assertEquals(dpop, store.load());

    store.clear();
    assertNull(store.load());
    assertNull(other.load());
  }

  @Test
  void storedValueIsTheFileStoreJsonAndEveryWriteBumpsTheVersion() throws IOException {
    String key = newKey();
    RedisTokenStore store = RedisTokenStore.builder(connection).key(key).build();
    store.save(Tokens.of("access-1", "refresh-1", 1767225600000L));
    assertEquals(
        "{\"version\":1,\"access_token\":\"access-1\",\"refresh_token\":\"refresh-1\","
            + "\"expires_at\":1767225600000}",
        raw.hget(key, "tokens"));
    assertEquals("1", raw.hget(key, "version"));

    store.save(Tokens.of("access-2"));
    assertEquals("{\"version\":1,\"access_token\":\"access-2\"}", raw.hget(key, "tokens"));
    assertEquals("2", raw.hget(key, "version"));

    // Cleared, the version stays and grows, so that a lease's save from before can never match.
    store.clear();
    assertFalse(raw.hexists(key, "tokens"));
    assertEquals("3", raw.hget(key, "version"));
    assertEquals(-1L, raw.ttl(key), "tokens never expire by themselves");
  }

  @Test
  void readsWhatTheFileStoreWrites() throws IOException {
    // The file store leaves out token_type for Bearer, and may write "refresh_token": null.
    String key = newKey();
    raw.hset(key, "tokens", "{\"version\":1,\"access_token\":\"a\",\"refresh_token\":null}");
    assertEquals(Tokens.of("a"), RedisTokenStore.builder(connection).key(key).build().load());
  }

  @Test
  void corruptValueFailsWithTheKeyAndNoContent() {
    String key = newKey();
    RedisTokenStore store = RedisTokenStore.builder(connection).key(key).build();
    raw.hset(key, "tokens", "{\"version\":1,\"access_token\":\"secret-access\"");
    IOException e = assertThrows(IOException.class, store::load);
    assertEquals(
        "the tokens at Redis key " + key + " are corrupt and cannot be read (EOFException)",
        e.getMessage());

    raw.hset(key, "tokens", "{\"version\":2,\"access_token\":\"secret-access\"}");
    e = assertThrows(IOException.class, store::load);
    assertEquals(
        "the tokens at Redis key "
            + key
            + " are corrupt and cannot be read (unknown format version)",
        e.getMessage());

    raw.hset(key, "tokens", "{\"version\":1,\"access_token\":\"secret access\"}");
    e = assertThrows(IOException.class, store::load);
    assertEquals(
        "the tokens at Redis key "
            + key
            + " are corrupt and cannot be read (accessToken has a character that is not printable"
            + " ASCII at index 6)",
        e.getMessage());
  }

  @Test
  void keyOfAnotherTypeFailsWithRedisError() {
    String key = newKey();
    raw.set(key, "not a hash");
    RedisTokenStore store = RedisTokenStore.builder(connection).key(key).build();
    IOException e = assertThrows(IOException.class, store::load);
    assertEquals(
        "loading Redis key "
            + key
            + ": Redis answered with an error: WRONGTYPE Operation against a key holding the wrong"
            + " kind of value",
        e.getMessage());
  }

  @Test
  void toStringShowsTheKeyButNoToken() throws IOException {
    RedisTokenStore store = RedisTokenStore.builder(connection).key("app:tokens:u1").build();
    assertEquals("RedisTokenStore{key=app:tokens:u1}", store.toString());
    store.save(Tokens.of("secret-access", "secret-refresh"));
    try (RedisLease lease = (RedisLease) store.lease(1000)) {
      assertEquals("RedisLease{app:tokens:u1:lease}", lease.toString());
    }
  }

  @Test
  void builderRejectsBadInputWithClearMessages() {
    RedisTokenStore.Builder builder = RedisTokenStore.builder(connection);
    assertEquals(
        "connection == null",
        assertThrows(NullPointerException.class, () -> RedisTokenStore.builder(null)).getMessage());
    assertEquals(
        "key == null",
        assertThrows(NullPointerException.class, () -> builder.key(null)).getMessage());
    assertEquals(
        "key is empty",
        assertThrows(IllegalArgumentException.class, () -> builder.key("")).getMessage());
    assertEquals(
        "key has a character that is not printable ASCII at index 3: app\\u0020tokens",
        assertThrows(IllegalArgumentException.class, () -> builder.key("app tokens")).getMessage());
    assertEquals(
        "key ends in :lease, which names the lease of another key: app:tokens:lease",
        assertThrows(IllegalArgumentException.class, () -> builder.key("app:tokens:lease"))
            .getMessage());
    assertEquals(
        "key is longer than 512 characters: 513",
        assertThrows(IllegalArgumentException.class, () -> builder.key("k".repeat(513)))
            .getMessage());
    assertEquals(
        "no key: call key(...) with this session's Redis key, as in myapp:tokens:user-42",
        assertThrows(IllegalStateException.class, builder::build).getMessage());
    assertEquals(
        "timeout <= 0: 0",
        assertThrows(IllegalArgumentException.class, () -> builder.timeout(0, TimeUnit.SECONDS))
            .getMessage());
    assertEquals(
        "leaseTtl is under one millisecond: 10 MICROSECONDS",
        assertThrows(
                IllegalArgumentException.class, () -> builder.leaseTtl(10, TimeUnit.MICROSECONDS))
            .getMessage());
    assertEquals(
        "maxLeaseHold <= 0: -1",
        assertThrows(
                IllegalArgumentException.class, () -> builder.maxLeaseHold(-1, TimeUnit.SECONDS))
            .getMessage());
    assertEquals(
        "leaseTtl <= 0: PT-1S",
        assertThrows(IllegalArgumentException.class, () -> builder.leaseTtl(Duration.ofSeconds(-1)))
            .getMessage());
    assertEquals(
        "timeout == null",
        assertThrows(NullPointerException.class, () -> builder.timeout((Duration) null))
            .getMessage());
    assertEquals(
        "timeoutMillis < 0: -1",
        assertThrows(
                IllegalArgumentException.class,
                () -> builder.key("app:tokens:u1").build().lease(-1))
            .getMessage());
  }
}
