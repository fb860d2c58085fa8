package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.squareup.moshi.JsonReader;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import okio.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file store with tokens encrypted at rest, with a key from a real PKCS12 key store. What it
 * writes is decrypted here by the JDK's own {@link Cipher}, not by the library's codec; tampering,
 * a lost key and a copied file read as signed out and are reported, never a crash.
 */
final class EncryptedFileStoreTest {
  private static final Tokens TOKENS =
      Tokens.of("secret-access", "secret-refresh", 1_800_000_000_000L);

  @TempDir Path directory;

  private File file() {
    return directory.resolve("tokens.json").toFile();
  }

  @Test
  void tokensAreEncryptedAtRestAndDecryptWithTheJdksCipher() throws Exception {
    SecretKey key = keyFromPkcs12("tokens");
    TokenStore.file(file(), "v1", key).save(TOKENS);

    String stored = new String(Files.readAllBytes(file().toPath()), StandardCharsets.UTF_8);
    assertFalse(stored.contains("secret-access"), stored);
    assertFalse(stored.contains("secret-refresh"), stored);
    Map<String, String> envelope = fields(stored);
    assertEquals("AES-GCM", envelope.get("enc"));
    assertEquals("v1", envelope.get("kid"));

    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    byte[] iv = Base64.getDecoder().decode(envelope.get("iv"));
    assertEquals(12, iv.length);
    cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, iv));
    cipher.updateAAD("tokens.json".getBytes(StandardCharsets.UTF_8)); // The file's name.
    String plain =
        new String(
            cipher.doFinal(Base64.getDecoder().decode(envelope.get("ct"))), StandardCharsets.UTF_8);
    Map<String, String> inner = fields(plain);
    assertEquals("secret-access", inner.get("access_token"));
    assertEquals("secret-refresh", inner.get("refresh_token"));
    assertEquals(TOKENS, TokenStore.file(file(), "v1", key).load());
  }

  @Test
  void eachSaveHasANewIv() throws Exception {
    SecretKey key = keyFromPkcs12("tokens");
    TokenStore store = TokenStore.file(file(), "v1", key);
    store.save(TOKENS);
    String first = fields(read()).get("iv");
    store.save(TOKENS);
    assertFalse(first.equals(fields(read()).get("iv")));
  }

  @Test
  void aTamperedFileReadsAsSignedOutAndIsReported() throws Exception {
    SecretKey key = keyFromPkcs12("tokens");
    TokenStore.file(file(), "v1", key).save(TOKENS);
    Map<String, String> envelope = fields(read());
    byte[] ct = Base64.getDecoder().decode(envelope.get("ct"));
    ct[0] ^= 1;
    Files.write(
        file().toPath(),
        read()
            .replace(envelope.get("ct"), Base64.getEncoder().encodeToString(ct))
            .getBytes(StandardCharsets.UTF_8));

    RecordingListener listener = new RecordingListener();
    RefreshManager auth =
        RefreshManager.builder()
            .tokenStore(TokenStore.file(file(), "v1", key))
            .addListener(listener)
            .build();
    assertNull(auth.currentTokens());
    assertEquals("storeFailed", listener.events.get(0));
    String message = listener.causes.get(0).getMessage();
    assertEquals(
        "the tokens at the token file "
            + file().getAbsolutePath()
            + " do not decrypt with key id 'v1': the key is not the one they were saved with, or"
            + " the value was changed or copied from elsewhere",
        message);
  }

  /** The Android Keystore loses keys on a few percent of devices; the app must go on. */
  @Test
  void aLostKeyReadsAsSignedOutAndTheNextSignInReplacesTheFile() throws Exception {
    TokenStore.file(file(), "v1", keyFromPkcs12("lost")).save(TOKENS);
    SecretKey replacement = keyFromPkcs12("replacement");
    RecordingListener listener = new RecordingListener();
    RefreshManager auth =
        RefreshManager.builder()
            .tokenStore(TokenStore.file(file(), "v1", replacement))
            .addListener(listener)
            .build();
    assertNull(auth.currentTokens());
    assertEquals("storeFailed", listener.events.get(0));

    auth.signIn(Tokens.of("after", "sign-in"));
    assertEquals(Tokens.of("after", "sign-in"), TokenStore.file(file(), "v1", replacement).load());
  }

  @Test
  void aValueCopiedToAnotherFileDoesNotDecrypt() throws Exception {
    SecretKey key = keyFromPkcs12("tokens");
    TokenStore.file(file(), "v1", key).save(TOKENS);
    File copy = directory.resolve("other.json").toFile();
    Files.copy(file().toPath(), copy.toPath());

    IOException e = assertThrows(IOException.class, () -> TokenStore.file(copy, "v1", key).load());
    assertTrue(e.getMessage().contains("do not decrypt with key id 'v1'"), e.getMessage());
  }

  @Test
  void plainAndEncryptedFilesAreNotMistakenForEachOther() throws Exception {
    SecretKey key = keyFromPkcs12("tokens");
    TokenStore.file(file()).save(TOKENS);
    IOException e =
        assertThrows(IOException.class, () -> TokenStore.file(file(), "v1", key).load());
    assertEquals(
        "the tokens at the token file "
            + file().getAbsolutePath()
            + " are not encrypted, but this store has encryption key id 'v1': they are refused;"
            + " sign in again to replace them",
        e.getMessage());

    TokenStore.file(file(), "v1", key).save(TOKENS);
    e = assertThrows(IOException.class, () -> TokenStore.file(file()).load());
    assertEquals(
        "the tokens at the token file "
            + file().getAbsolutePath()
            + " are encrypted with key id 'v1', but this store has no encryption key: set one with"
            + " TokenStore.file(file, keyId, key)",
        e.getMessage());
  }

  @Test
  void aKeyThatIsNotAesFailsWhenGiven() throws Exception {
    SecretKey des = KeyGenerator.getInstance("DESede").generateKey();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TokenStore.file(file(), "v1", des));
    assertEquals("key is not an AES key: DESede", e.getMessage());
    SecretKey aes = keyFromPkcs12("tokens");
    e = assertThrows(IllegalArgumentException.class, () -> TokenStore.file(file(), "a\nb", aes));
    assertEquals(
        "keyId has a character that is not printable ASCII, or a quote, at index 1",
        e.getMessage());
  }

  /** An AES-256 key, stored in a PKCS12 key store file and loaded back from it. */
  private SecretKey keyFromPkcs12(String alias) throws Exception {
    char[] password = "changeit".toCharArray();
    File keyStoreFile = directory.resolve(alias + ".p12").toFile();
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    keyStore.load(null, password);
    KeyGenerator generator = KeyGenerator.getInstance("AES");
    generator.init(256);
    keyStore.setEntry(
        alias,
        new KeyStore.SecretKeyEntry(generator.generateKey()),
        new KeyStore.PasswordProtection(password));
    try (FileOutputStream out = new FileOutputStream(keyStoreFile)) {
      keyStore.store(out, password);
    }
    KeyStore loaded = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(keyStoreFile)) {
      loaded.load(in, password);
    }
    return (SecretKey) loaded.getKey(alias, password);
  }

  private String read() throws IOException {
    return new String(Files.readAllBytes(file().toPath()), StandardCharsets.UTF_8);
  }

  /** The string and number members of a flat JSON object, read with Moshi's reader. */
  private static Map<String, String> fields(String json) throws IOException {
    Map<String, String> fields = new HashMap<>();
    JsonReader reader = JsonReader.of(new Buffer().writeUtf8(json));
    reader.beginObject();
    while (reader.hasNext()) fields.put(reader.nextName(), reader.nextString());
    reader.endObject();
    return fields;
  }
}
