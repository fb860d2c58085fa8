package dev.retrofitauth.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.SharedTokenStore.Lease;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The token column with an encryption key, on PostgreSQL and on H2, decrypted by the JDK's own
 * {@link Cipher} as the Javadoc tells a reader to, with the row's key as associated data.
 */
final class JdbcEncryptionTest {
  private static final Pattern ENVELOPE =
      Pattern.compile(
          "\\{\"version\":1,\"enc\":\"AES-GCM\",\"kid\":\"([^\"]+)\",\"iv\":\"([^\"]+)\","
              + "\"ct\":\"([^\"]+)\"}");
  private static final Tokens TOKENS =
      Tokens.of("secret-access", "secret-refresh", 1_767_225_600_000L);

  private final SecretKey key = newAesKey();

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void theColumnIsAesGcmOfTheJsonWithTheSessionKeyAsAssociatedData(TestDatabase database)
      throws Exception {
    JdbcTokenStore.Builder users =
        database.newTable().keyPrefix("app:user:").encryptionKey("2026-01", key);
    JdbcTokenStore store = users.buildFor("ann");
    store.save(TOKENS);

    String value = column(database, store, "app:user:ann");
    assertFalse(value.contains("secret"), value);
    Matcher envelope = ENVELOPE.matcher(value);
    assertTrue(envelope.matches(), value);
    assertEquals("2026-01", envelope.group(1));
    byte[] iv = Base64.getDecoder().decode(envelope.group(2));
    assertEquals(12, iv.length);
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, iv));
    cipher.updateAAD("app:user:ann".getBytes(StandardCharsets.UTF_8));
    assertEquals(
        "{\"version\":1,\"access_token\":\"secret-access\",\"refresh_token\":\"secret-refresh\","
            + "\"expires_at\":1767225600000}",
        new String(
            cipher.doFinal(Base64.getDecoder().decode(envelope.group(3))), StandardCharsets.UTF_8));

    // A lease's save is encrypted the same way, with a new IV.
    try (Lease lease = store.lease(1_000)) {
      assertEquals(TOKENS, lease.load());
      assertTrue(lease.save(TOKENS));
    }
    String again = column(database, store, "app:user:ann");
    Matcher second = ENVELOPE.matcher(again);
    assertTrue(second.matches(), again);
    assertFalse(second.group(2).equals(envelope.group(2)), "a new IV for every save");
    assertEquals(TOKENS, store.load());
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void aValueCopiedToAnotherSessionsRowDoesNotDecrypt(TestDatabase database) throws Exception {
    JdbcTokenStore.Builder users =
        database.newTable().keyPrefix("app:user:").encryptionKey("2026-01", key);
    JdbcTokenStore ann = users.buildFor("ann");
    JdbcTokenStore mallory = users.buildFor("mallory");
    ann.save(TOKENS);
    mallory.save(Tokens.of("mallory-access"));
    database.update(
        "UPDATE " + ann.table.name + " SET tokens = ? WHERE session_key = ?",
        column(database, ann, "app:user:ann"),
        "app:user:mallory");

    IOException e = assertThrows(IOException.class, mallory::load);
    assertTrue(e.getMessage().contains("session 'app:user:mallory'"), e.getMessage());
    assertFalse(e.getMessage().contains("secret"), e.getMessage());
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void tokensSavedWithoutAKeyDoNotLoadWithOneAndSayWhy(TestDatabase database) throws Exception {
    JdbcTokenStore.Builder builder = database.newTable().key("k");
    builder.build().save(TOKENS);
    IOException e =
        assertThrows(IOException.class, () -> builder.encryptionKey("2026-01", key).build().load());
    assertTrue(e.getMessage().contains("not encrypted"), e.getMessage());
    assertFalse(e.getMessage().contains("secret"), e.getMessage());
    assertEquals(
        "JdbcTokenStore{session 'k' in table "
            + builder.build().table.name
            + ", encrypted with key id '2026-01'}",
        builder.build().toString());
  }

  private static String column(TestDatabase database, JdbcTokenStore store, String sessionKey)
      throws Exception {
    return (String)
        database.query(
            "SELECT tokens FROM " + store.table.name + " WHERE session_key = ?", sessionKey);
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
}
