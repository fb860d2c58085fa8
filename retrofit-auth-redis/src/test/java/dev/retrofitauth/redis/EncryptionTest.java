package dev.retrofitauth.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.SharedTokenStore.Lease;
import dev.retrofitauth.Tokens;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The stored value with an encryption key, checked against the format the Javadoc documents. */
final class EncryptionTest {
  private static final Pattern ENVELOPE =
      Pattern.compile(
          "\\{\"version\":1,\"enc\":\"AES-GCM\",\"kid\":\"([^\"]+)\",\"iv\":\"([^\"]+)\","
              + "\"ct\":\"([^\"]+)\"}");
  private static final AtomicInteger KEYS = new AtomicInteger();
  private static TestRedis redis;
  private static StatefulRedisConnection<String, String> connection;
  private static RedisCommands<String, String> raw;

  private final SecretKey key = newAesKey();

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
    return "test:tokens:enc-" + KEYS.incrementAndGet();
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

  private static RedisTokenStore store(String redisKey, String keyId, SecretKey key) {
    return RedisTokenStore.builder(connection).key(redisKey).encryptionKey(keyId, key).build();
  }

  @Test
  void storedValueIsAesGcmOfTheJsonWithTheRedisKeyAsAad() throws Exception {
    String redisKey = newKey();
    RedisTokenStore store = store(redisKey, "2026-01", key);
    Tokens tokens = Tokens.of("secret-access", "secret-refresh", 1767225600000L);
    store.save(tokens);

    String value = raw.hget(redisKey, "tokens");
    assertFalse(value.contains("secret"), value);
    Matcher envelope = ENVELOPE.matcher(value);
    assertTrue(envelope.matches(), value);
    assertEquals("2026-01", envelope.group(1));
    byte[] iv = Base64.getDecoder().decode(envelope.group(2));
    assertEquals(12, iv.length);

    // Decrypted here with a Cipher of its own, as the Javadoc says a reader should.
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, iv));
    cipher.updateAAD(redisKey.getBytes(StandardCharsets.UTF_8));
    byte[] plain = cipher.doFinal(Base64.getDecoder().decode(envelope.group(3)));
    assertEquals(
        "{\"version\":1,\"access_token\":\"secret-access\",\"refresh_token\":\"secret-refresh\","
            + "\"expires_at\":1767225600000}",
        new String(plain, StandardCharsets.UTF_8));

    assertEquals(tokens, store.load());
    assertEquals(
        tokens, store(redisKey, "2026-01", new SecretKeySpec(key.getEncoded(), "AES")).load());
  }

  @Test
  void everySaveHasANewIv() throws IOException {
    String redisKey = newKey();
    RedisTokenStore store = store(redisKey, "k1", key);
    store.save(Tokens.of("same"));
    String first = raw.hget(redisKey, "tokens");
    try (Lease lease = store.lease(1000)) {
      lease.load();
      assertTrue(lease.save(Tokens.of("same")));
    }
    String second = raw.hget(redisKey, "tokens");
    Matcher a = ENVELOPE.matcher(first);
    Matcher b = ENVELOPE.matcher(second);
    assertTrue(a.matches() && b.matches());
    assertNotEquals(a.group(2), b.group(2));
    assertNotEquals(a.group(3), b.group(3));
  }

  @Test
  void wrongKeyFailsClearly() throws IOException {
    String redisKey = newKey();
    store(redisKey, "k1", key).save(Tokens.of("secret-access"));
    IOException e =
        assertThrows(IOException.class, () -> store(redisKey, "k1", newAesKey()).load());
    assertEquals(
        "the tokens at Redis key "
            + redisKey
            + " do not decrypt with key id 'k1': the key is not the one they were saved with, or"
            + " the value was changed or copied from elsewhere",
        e.getMessage());
  }

  /**
   * From the security review: whoever can write to Redis put a key id with line breaks, or 5 MB,
   * into the error messages (and so into logs). It is escaped and shortened as elsewhere.
   */
  @Test
  void storedKeyIdReachesMessagesEscapedAndShortened() throws IOException {
    String redisKey = newKey();
    StringBuilder forged = new StringBuilder("k1\nWARN forged log line");
    for (int i = 0; i < 5_000; i++) forged.append('x');
    raw.hset(
        redisKey,
        "tokens",
        "{\"version\":1,\"enc\":\"AES-GCM\",\"kid\":\""
            + forged
            + "\",\"iv\":\"AAAAAAAAAAAAAAAA\",\"ct\":\"AAAA\"}");
    IOException e = assertThrows(IOException.class, () -> store(redisKey, "k2", key).load());
    assertEquals(
        "the tokens at Redis key "
            + redisKey
            + " are encrypted with key id 'k1\\u000aWARN forged log linexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...',"
            + " but this store has key id 'k2'",
        e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  /** An unencrypted store accepted a 50 MB token; a value is now bounded both ways. */
  @Test
  void oversizedValuesAreRefusedBothWays() {
    String redisKey = newKey();
    StringBuilder huge = new StringBuilder();
    for (int i = 0; i < 70_000; i++) huge.append('a');
    RedisTokenStore plain = RedisTokenStore.builder(connection).key(redisKey).build();
    IOException e = assertThrows(IOException.class, () -> plain.save(Tokens.of(huge.toString())));
    assertEquals(
        "the tokens for Redis key " + redisKey + " are longer than 65536 characters",
        e.getMessage());

    raw.hset(redisKey, "tokens", "{\"version\":1,\"access_token\":\"" + huge + "\"}");
    e = assertThrows(IOException.class, plain::load);
    assertEquals(
        "the tokens at Redis key "
            + redisKey
            + " are corrupt and cannot be read (longer than 65536 characters)",
        e.getMessage());
  }

  @Test
  void otherKeyIdFailsClearly() throws IOException {
    String redisKey = newKey();
    store(redisKey, "k1", key).save(Tokens.of("secret-access"));
    IOException e = assertThrows(IOException.class, () -> store(redisKey, "k2", key).load());
    assertEquals(
        "the tokens at Redis key "
            + redisKey
            + " are encrypted with key id 'k1', but this store has key id 'k2'",
        e.getMessage());
  }

  @Test
  void valueCopiedToAnotherRedisKeyDoesNotDecrypt() throws IOException {
    String from = newKey();
    String to = newKey();
    store(from, "k1", key).save(Tokens.of("secret-access"));
    raw.hset(to, "tokens", raw.hget(from, "tokens"));
    IOException e = assertThrows(IOException.class, () -> store(to, "k1", key).load());
    assertEquals(
        "the tokens at Redis key "
            + to
            + " do not decrypt with key id 'k1': the key is not the one they were saved with, or"
            + " the value was changed or copied from elsewhere",
        e.getMessage());
    assertEquals(Tokens.of("secret-access"), store(from, "k1", key).load());
  }

  @Test
  void changedCiphertextDoesNotDecrypt() throws IOException {
    String redisKey = newKey();
    store(redisKey, "k1", key).save(Tokens.of("secret-access"));
    Matcher envelope = ENVELOPE.matcher(raw.hget(redisKey, "tokens"));
    assertTrue(envelope.matches());
    byte[] sealed = Base64.getDecoder().decode(envelope.group(3));
    sealed[0] ^= 1;
    raw.hset(
        redisKey,
        "tokens",
        "{\"version\":1,\"enc\":\"AES-GCM\",\"kid\":\"k1\",\"iv\":\""
            + envelope.group(2)
            + "\",\"ct\":\""
            + Base64.getEncoder().encodeToString(sealed)
            + "\"}");
    assertThrows(IOException.class, () -> store(redisKey, "k1", key).load());
  }

  @Test
  void plainAndEncryptedStoresRefuseEachOthersValues() throws IOException {
    String redisKey = newKey();
    RedisTokenStore plain = RedisTokenStore.builder(connection).key(redisKey).build();
    plain.save(Tokens.of("secret-access"));
    IOException e = assertThrows(IOException.class, () -> store(redisKey, "k1", key).load());
    assertEquals(
        "the tokens at Redis key "
            + redisKey
            + " are not encrypted, but this store has encryption key id 'k1': they are refused;"
            + " sign in again to replace them",
        e.getMessage());

    store(redisKey, "k1", key).save(Tokens.of("secret-access"));
    e = assertThrows(IOException.class, plain::load);
    assertEquals(
        "the tokens at Redis key "
            + redisKey
            + " are encrypted with key id 'k1', but this store has no encryption key: set one"
            + " with RedisTokenStore.Builder.encryptionKey",
        e.getMessage());
  }

  @Test
  void toStringNamesTheKeyIdButNoKey() {
    assertEquals(
        "RedisTokenStore{key=app:tokens:u1, encrypted with key id 'k1'}",
        store("app:tokens:u1", "k1", key).toString());
  }

  @Test
  void badKeysAreRefusedWhenBuilt() {
    RedisTokenStore.Builder builder = RedisTokenStore.builder(connection);
    byte[] bytes = new byte[20];
    new SecureRandom().nextBytes(bytes);
    assertEquals(
        "key is not 128, 192 or 256 bits: 160 bits",
        assertThrows(
                IllegalArgumentException.class,
                () -> builder.encryptionKey("k1", new SecretKeySpec(bytes, "AES")))
            .getMessage());
    assertEquals(
        "key is not an AES key: HmacSHA256",
        assertThrows(
                IllegalArgumentException.class,
                () -> builder.encryptionKey("k1", new SecretKeySpec(bytes, "HmacSHA256")))
            .getMessage());
    assertEquals(
        "keyId is empty",
        assertThrows(IllegalArgumentException.class, () -> builder.encryptionKey("", key))
            .getMessage());
    assertEquals(
        "keyId has a character that is not printable ASCII, or a quote, at index 1",
        assertThrows(IllegalArgumentException.class, () -> builder.encryptionKey("k'1", key))
            .getMessage());
    assertEquals(
        "key == null",
        assertThrows(NullPointerException.class, () -> builder.encryptionKey("k1", null))
            .getMessage());
  }
}
