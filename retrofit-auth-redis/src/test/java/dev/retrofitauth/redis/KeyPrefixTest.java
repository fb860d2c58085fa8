package dev.retrofitauth.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.SharedTokenStore.Lease;
import dev.retrofitauth.Tokens;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Many sessions under one prefix, from {@code keyPrefix} and {@code buildFor}: each session key
 * gets a hash and a lease of its own, whatever characters it holds, checked against the keys that
 * are really in Redis.
 */
final class KeyPrefixTest {
  private static final Pattern ENVELOPE =
      Pattern.compile(
          "\\{\"version\":1,\"enc\":\"AES-GCM\",\"kid\":\"([^\"]+)\",\"iv\":\"([^\"]+)\","
              + "\"ct\":\"([^\"]+)\"}");
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  private static TestRedis redis;
  private static StatefulRedisConnection<String, String> connection;
  private static RedisCommands<String, String> raw;

  private String prefix;

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

  @BeforeEach
  void newPrefix() {
    prefix = "test:prefix-" + PREFIXES.incrementAndGet() + ":";
  }

  /** Every key in Redis under this test's prefix, sorted. */
  private TreeSet<String> keysInRedis() {
    return new TreeSet<>(raw.keys(prefix + "*"));
  }

  private static TreeSet<String> sorted(String... keys) {
    return new TreeSet<>(List.of(keys));
  }

  private static SecretKey newAesKey() {
    try {
      KeyGenerator generator = KeyGenerator.getInstance("AES");
      generator.init(256);
      return generator.generateKey();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void twoSessionKeysGetTwoHashes() throws IOException {
    RedisTokenStore.Builder users = RedisTokenStore.builder(connection).keyPrefix(prefix);
    RedisTokenStore alice = users.buildFor("alice");
    RedisTokenStore bob = users.buildFor("bob");
    alice.save(Tokens.of("access-alice"));
    bob.save(Tokens.of("access-bob"));

    assertEquals(sorted(prefix + "{alice}", prefix + "{bob}"), keysInRedis());
    assertEquals(
        "{\"version\":1,\"access_token\":\"access-alice\"}",
        raw.hget(prefix + "{alice}", "tokens"));
    assertEquals(
        "{\"version\":1,\"access_token\":\"access-bob\"}", raw.hget(prefix + "{bob}", "tokens"));
    assertEquals(Tokens.of("access-alice"), alice.load());
    assertEquals(Tokens.of("access-bob"), bob.load());

    bob.clear();
    assertNull(bob.load());
    assertEquals(Tokens.of("access-alice"), alice.load());
    assertEquals("RedisTokenStore{key=" + prefix + "{alice}}", alice.toString());
  }

  @Test
  void leaseOfOneSessionDoesNotBlockAnother() throws IOException {
    RedisTokenStore.Builder users = RedisTokenStore.builder(connection).keyPrefix(prefix);
    RedisTokenStore alice = users.buildFor("alice");
    RedisTokenStore bob = users.buildFor("bob");
    try (Lease aliceLease = alice.lease(0)) {
      // A timeout of 0 is one SET NX: it succeeds only if bob's lease is free right now.
      try (Lease bobLease = bob.lease(0)) {
        assertEquals(
            sorted(prefix + "{alice}:lease", prefix + "{bob}:lease"),
            keysInRedis(),
            "two leases, and no hash before the first save");
        aliceLease.load();
        bobLease.load();
        assertTrue(aliceLease.save(Tokens.of("access-alice")));
        assertTrue(bobLease.save(Tokens.of("access-bob")));
      }
      assertEquals(0L, raw.exists(prefix + "{bob}:lease"));
      assertEquals(1L, raw.exists(prefix + "{alice}:lease"));
    }
    assertEquals(sorted(prefix + "{alice}", prefix + "{bob}"), keysInRedis());
    assertEquals(Tokens.of("access-alice"), alice.load());
    assertEquals(Tokens.of("access-bob"), bob.load());
  }

  @Test
  void sameSessionKeyInTwoProcessesSharesOneLease() throws IOException {
    // Two builders on two connections, as two processes of a fleet would have.
    RedisTokenStore first =
        RedisTokenStore.builder(redis.connect()).keyPrefix(prefix).buildFor("alice");
    RedisTokenStore second =
        RedisTokenStore.builder(redis.connect()).keyPrefix(prefix).buildFor("alice");
    assertEquals(first.key, second.key);

    try (Lease held = first.lease(0)) {
      InterruptedIOException busy =
          assertThrows(InterruptedIOException.class, () -> second.lease(0));
      assertEquals(
          "taking the lease "
              + prefix
              + "{alice}:lease: another process held it for all of the 0 ms timeout",
          busy.getMessage());
      assertEquals(sorted(prefix + "{alice}:lease"), keysInRedis());
      held.load();
      assertTrue(held.save(Tokens.of("access-1")));
    }
    assertEquals(0L, raw.exists(prefix + "{alice}:lease"));

    try (Lease taken = second.lease(0)) {
      assertEquals(Tokens.of("access-1"), taken.load());
      assertThrows(InterruptedIOException.class, () -> first.lease(0));
    }
    assertEquals(sorted(prefix + "{alice}"), keysInRedis());
  }

  @Test
  void hostileSessionKeysCannotReachAnotherSession() throws IOException {
    Map<String, String> escaped = new LinkedHashMap<>();
    escaped.put("a", "a");
    escaped.put("a:lease", "a%3Alease");
    escaped.put("a}:lease", "a%7D%3Alease");
    escaped.put("a%3Alease", "a%253Alease");
    escaped.put("}{", "%7D%7B");
    escaped.put("{a}", "%7Ba%7D");
    escaped.put("../x", "..%2Fx");
    escaped.put("Zo\u00eb B", "Zo%C3%AB%20B");
    escaped.put("\ud83d\ude00", "%F0%9F%98%80");
    escaped.put(" ", "%20");
    escaped.put("a b", "a%20b");
    escaped.put("a+b", "a%2Bb");
    escaped.put("A", "A");
    escaped.put("%41", "%2541");
    escaped.put("line\nbreak", "line%0Abreak");
    escaped.put("*", "%2A");
    escaped.put("jane.doe_1~@example-2.com", "jane.doe_1~@example-2.com");

    RedisTokenStore.Builder users = RedisTokenStore.builder(connection).keyPrefix(prefix);
    List<Lease> leases = new ArrayList<>();
    TreeSet<String> hashes = new TreeSet<>();
    TreeSet<String> hashesAndLeases = new TreeSet<>();
    try {
      int index = 0;
      for (Map.Entry<String, String> session : escaped.entrySet()) {
        RedisTokenStore store = users.buildFor(session.getKey());
        String hash = prefix + "{" + session.getValue() + "}";
        assertEquals(hash, store.key, session.getKey());
        assertEquals(hash + ":lease", store.leaseKey, session.getKey());
        // One Redis Cluster slot for the hash and its lease, chosen by the escaped session key.
        assertEquals(SlotHash.getSlot(session.getValue()), SlotHash.getSlot(hash));
        assertEquals(SlotHash.getSlot(hash), SlotHash.getSlot(hash + ":lease"));

        // Every session saves and then holds its lease, all at once: a session that reached
        // another's hash or lease would fail here, or leave fewer keys than expected.
        store.save(Tokens.of("access-" + index++));
        leases.add(store.lease(0));
        hashes.add(hash);
        hashesAndLeases.add(hash);
        hashesAndLeases.add(hash + ":lease");
      }
      assertEquals(hashesAndLeases, keysInRedis());
    } finally {
      for (Lease lease : leases) lease.close();
    }
    assertEquals(2 * escaped.size(), hashesAndLeases.size());
    for (String key : hashesAndLeases) {
      for (char c : key.toCharArray()) assertTrue(c > ' ' && c < '\u007f', key);
    }

    // The leases are gone, and each session's hash holds its own tokens. The session named like
    // a's lease has a hash of its own, and a's lease was a string key of its own.
    assertEquals(hashes, keysInRedis());
    int index = 0;
    for (String sessionKey : escaped.keySet()) {
      assertEquals(Tokens.of("access-" + index++), users.buildFor(sessionKey).load(), sessionKey);
    }
    assertEquals("hash", raw.type(prefix + "{a%3Alease}"));
    assertEquals(0L, raw.exists(prefix + "{a}:lease"));
  }

  @Test
  void encryptedValueCopiedToAnotherUsersHashDoesNotLoad() throws Exception {
    SecretKey key = newAesKey();
    RedisTokenStore.Builder users =
        RedisTokenStore.builder(connection).keyPrefix(prefix).encryptionKey("k1", key);
    RedisTokenStore alice = users.buildFor("alice");
    RedisTokenStore bob = users.buildFor("bob");
    alice.save(Tokens.of("secret-alice"));
    bob.save(Tokens.of("secret-bob"));
    String aliceValue = raw.hget(prefix + "{alice}", "tokens");
    assertFalse(aliceValue.contains("secret"), aliceValue);

    // The associated data is the whole Redis key, braces and prefix included.
    Matcher envelope = ENVELOPE.matcher(aliceValue);
    assertTrue(envelope.matches(), aliceValue);
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(
        Cipher.DECRYPT_MODE,
        key,
        new GCMParameterSpec(128, Base64.getDecoder().decode(envelope.group(2))));
    cipher.updateAAD((prefix + "{alice}").getBytes(StandardCharsets.UTF_8));
    assertEquals(
        "{\"version\":1,\"access_token\":\"secret-alice\"}",
        new String(
            cipher.doFinal(Base64.getDecoder().decode(envelope.group(3))), StandardCharsets.UTF_8));

    raw.hset(prefix + "{bob}", "tokens", aliceValue);
    IOException e = assertThrows(IOException.class, bob::load);
    assertEquals(
        "the tokens at Redis key "
            + prefix
            + "{bob}"
            + " do not decrypt with key id 'k1': the key is not the one they were saved with, or"
            + " the value was changed or copied from elsewhere",
        e.getMessage());
    assertEquals(Tokens.of("secret-alice"), alice.load());

    // Nor into a session whose escaped key holds the other's: alice's value at {alice%7D}.
    RedisTokenStore lookalike = users.buildFor("alice}");
    raw.hset(prefix + "{alice%7D}", "tokens", aliceValue);
    assertThrows(IOException.class, lookalike::load);
  }

  @Test
  void buildForLeavesTheBuilderAsItWas() throws IOException {
    RedisTokenStore.Builder users = RedisTokenStore.builder(connection).keyPrefix(prefix);
    RedisTokenStore alice = users.buildFor("alice");
    assertEquals(
        "keyPrefix is set, and build() has no session key: call buildFor(sessionKey) for each"
            + " session's store, or key(...) instead of keyPrefix(...) for one session",
        assertThrows(IllegalStateException.class, users::build).getMessage());

    // A setting changed later reaches the stores built after it, not those built before.
    users.encryptionKey("k1", newAesKey());
    RedisTokenStore bob = users.buildFor("bob");
    alice.save(Tokens.of("access-alice"));
    bob.save(Tokens.of("access-bob"));
    assertEquals(
        "{\"version\":1,\"access_token\":\"access-alice\"}",
        raw.hget(prefix + "{alice}", "tokens"));
    assertTrue(ENVELOPE.matcher(raw.hget(prefix + "{bob}", "tokens")).matches());
    assertEquals(prefix + "{alice}", alice.key);
    assertNotEquals(alice.key, bob.key);
  }

  @Test
  void longestSessionKeyFillsTheRedisKeyLimit() throws IOException {
    RedisTokenStore.Builder users = RedisTokenStore.builder(connection).keyPrefix("p:");
    String longest = "a".repeat(512 - "p:{}".length());
    RedisTokenStore store = users.buildFor(longest);
    assertEquals(512, store.key.length());
    store.save(Tokens.of("access"));
    assertEquals(1L, raw.exists("p:{" + longest + "}"));
    raw.del(store.key);

    assertEquals(
        "sessionKey makes a Redis key longer than 512 characters once encoded: 513",
        assertThrows(IllegalArgumentException.class, () -> users.buildFor(longest + "a"))
            .getMessage());
    // 170 characters, but 1020 once each is encoded as %C3%A9.
    assertEquals(
        "sessionKey makes a Redis key longer than 512 characters once encoded: 1024",
        assertThrows(IllegalArgumentException.class, () -> users.buildFor("\u00e9".repeat(170)))
            .getMessage());
  }

  @Test
  void badPrefixesAndSessionKeysAreRefusedWithClearMessages() {
    RedisTokenStore.Builder builder = RedisTokenStore.builder(connection);
    assertEquals(
        "prefix == null",
        assertThrows(NullPointerException.class, () -> builder.keyPrefix(null)).getMessage());
    assertEquals(
        "keyPrefix is empty",
        assertThrows(IllegalArgumentException.class, () -> builder.keyPrefix("")).getMessage());
    assertEquals(
        "keyPrefix has a character that is not printable ASCII at index 2: my\\u0020app:",
        assertThrows(IllegalArgumentException.class, () -> builder.keyPrefix("my app:"))
            .getMessage());
    assertEquals(
        "keyPrefix has a character that is not printable ASCII at index 2: my\\u00e9:",
        assertThrows(IllegalArgumentException.class, () -> builder.keyPrefix("my\u00e9:"))
            .getMessage());
    assertEquals(
        "keyPrefix is longer than 509 characters, which leaves no room for a session key: 510",
        assertThrows(IllegalArgumentException.class, () -> builder.keyPrefix("p".repeat(510)))
            .getMessage());
    assertEquals(
        "keyPrefix has a brace, which would change the hash tag that buildFor adds, at index 4:"
            + " app:{tokens}:",
        assertThrows(IllegalArgumentException.class, () -> builder.keyPrefix("app:{tokens}:"))
            .getMessage());
    assertEquals(
        "keyPrefix has a brace, which would change the hash tag that buildFor adds, at index 3:"
            + " app}:",
        assertThrows(IllegalArgumentException.class, () -> builder.keyPrefix("app}:"))
            .getMessage());

    assertEquals(
        "no keyPrefix: call keyPrefix(...) with the prefix of the sessions' Redis keys, as in"
            + " myapp:tokens:, before buildFor(sessionKey)",
        assertThrows(IllegalStateException.class, () -> builder.buildFor("alice")).getMessage());

    builder.keyPrefix("p".repeat(509));
    assertEquals(
        "sessionKey makes a Redis key longer than 512 characters once encoded: 513",
        assertThrows(IllegalArgumentException.class, () -> builder.buildFor("ab")).getMessage());
    assertEquals(512, builder.buildFor("a").key.length());

    builder.keyPrefix("app:tokens:");
    assertEquals(
        "sessionKey == null",
        assertThrows(NullPointerException.class, () -> builder.buildFor(null)).getMessage());
    assertEquals(
        "sessionKey is empty",
        assertThrows(IllegalArgumentException.class, () -> builder.buildFor("")).getMessage());
    // A lone surrogate would become '?' in UTF-8, as would any other: two users, one key.
    assertEquals(
        "sessionKey has a lone surrogate, which has no UTF-8 encoding, at index 1",
        assertThrows(IllegalArgumentException.class, () -> builder.buildFor("a\ud800b"))
            .getMessage());
    assertEquals(
        "sessionKey has a lone surrogate, which has no UTF-8 encoding, at index 1",
        assertThrows(IllegalArgumentException.class, () -> builder.buildFor("a\udc00"))
            .getMessage());
    assertEquals(
        "sessionKey has a lone surrogate, which has no UTF-8 encoding, at index 2",
        assertThrows(IllegalArgumentException.class, () -> builder.buildFor("\ud83d\ude00\ud83d"))
            .getMessage());
    assertEquals(
        "keyPrefix is set, and build() has no session key: call buildFor(sessionKey) for each"
            + " session's store, or key(...) instead of keyPrefix(...) for one session",
        assertThrows(IllegalStateException.class, builder::build).getMessage());

    builder.key("app:tokens:one");
    String both =
        "both key(...) and keyPrefix(...) are set: call key(...) and build() for one session's"
            + " store, or keyPrefix(...) and buildFor(sessionKey) for one store per session, not"
            + " both";
    assertEquals(both, assertThrows(IllegalStateException.class, builder::build).getMessage());
    assertEquals(
        both,
        assertThrows(IllegalStateException.class, () -> builder.buildFor("alice")).getMessage());
  }
}
