package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.squareup.moshi.JsonReader;
import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import okio.Buffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TokenStore#fileIn}: one token file per session key in a directory, for a server that keeps
 * one session per user. No key may reach outside the directory or share another key's file, and the
 * per-file state of this process ({@link FileLease}'s guards) must not grow with every user a
 * server has ever seen.
 */
final class FileStoreDirectoryTest {
  private static final Pattern TOKEN_FILE = Pattern.compile("tokens-[0-9a-f]{32}\\.json");
  private static final Tokens TOKENS =
      Tokens.of("secret-access", "secret-refresh", 1_800_000_000_000L);

  @TempDir Path root;
  private Path users;

  @BeforeEach
  void setUp() throws IOException {
    users = Files.createDirectory(root.resolve("users"));
  }

  @Test
  void keysThatLookLikePathsLandInTheDirectoryOneFileEach() throws Exception {
    List<String> keys =
        Arrays.asList(
            "../escape",
            "../../../../../../tmp/escape",
            "..",
            ".",
            "a/b",
            "/absolute",
            "a\\b",
            "..\\..\\escape",
            "C:\\escape",
            "nul\0byte",
            "CON",
            "user@example.com",
            "User@example.com",
            "Zoë",
            "Zoe\u0301", // Not normalized: another key than the one above.
            "用户",
            "\uD83D\uDC64", // A surrogate pair.
            " ",
            "k".repeat(100_000));
    for (int i = 0; i < keys.size(); i++) {
      TokenStore.fileIn(users.toFile(), keys.get(i)).save(Tokens.of("access-" + i, "refresh-" + i));
    }

    for (int i = 0; i < keys.size(); i++) {
      Path expected = users.resolve(expectedName(keys.get(i)));
      assertTrue(Files.isRegularFile(expected), "no file for key " + i);
      assertEquals(
          Tokens.of("access-" + i, "refresh-" + i),
          TokenStore.fileIn(users.toFile(), keys.get(i)).load(),
          "key " + i);
    }
    Set<String> tokenFiles = new HashSet<>();
    for (String name : list(users)) {
      if (name.endsWith(".lock")) name = name.substring(0, name.length() - ".lock".length());
      assertTrue(TOKEN_FILE.matcher(name).matches(), name);
      tokenFiles.add(name);
    }
    assertEquals(keys.size(), tokenFiles.size());
    assertEquals(Arrays.asList("users"), list(root)); // Nothing escaped.
  }

  @Test
  void sameKeyGivesTheSameFileAndAnotherKeyAnother() throws Exception {
    TokenStore.fileIn(users.toFile(), "alice").save(TOKENS);

    assertEquals(TOKENS, TokenStore.fileIn(users.toFile(), "alice").load());
    File otherSpelling = new File(users.toFile(), "../users/.");
    assertEquals(TOKENS, TokenStore.fileIn(otherSpelling, "alice").load());
    assertNull(TokenStore.fileIn(users.toFile(), "bob").load());
    assertNull(TokenStore.fileIn(users.toFile(), "Alice").load());
    assertEquals(
        Arrays.asList("tokens-2bd806c97f0e00af1a1fc3328fa763a9.json"),
        withoutLockFiles(list(users)));

    TokenStore.fileIn(users.toFile(), "alice").clear();
    assertEquals(Arrays.asList(), withoutLockFiles(list(users)));
  }

  @Test
  void filesAreReadableByTheirOwnerOnly() throws Exception {
    assumeTrue(users.getFileSystem().supportedFileAttributeViews().contains("posix"));
    TokenStore.fileIn(users.toFile(), "alice").save(TOKENS);

    Path file = users.resolve(expectedName("alice"));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    Path lock = users.resolve(expectedName("alice") + ".lock");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(lock)));
  }

  @Test
  void badKeysAreRefused() {
    File directory = users.toFile();
    NullPointerException npe =
        assertThrows(NullPointerException.class, () -> TokenStore.fileIn(directory, null));
    assertEquals("sessionKey == null", npe.getMessage());
    npe = assertThrows(NullPointerException.class, () -> TokenStore.fileIn(null, "alice"));
    assertEquals("directory == null", npe.getMessage());

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TokenStore.fileIn(directory, ""));
    assertEquals("sessionKey is empty", e.getMessage());

    // UTF-8 would write both as "a?": two users in one file.
    e = assertThrows(IllegalArgumentException.class, () -> TokenStore.fileIn(directory, "a\uD800"));
    assertEquals(
        "sessionKey has a lone surrogate, which has no UTF-8 encoding, at index 1", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TokenStore.fileIn(directory, "\uDC00a"));
    assertEquals(
        "sessionKey has a lone surrogate, which has no UTF-8 encoding, at index 0", e.getMessage());
  }

  @Test
  void missingDirectoryFailsAtOnce() throws Exception {
    File missing = root.resolve("missing").toFile();
    String expected =
        "the token directory does not exist: "
            + missing
            + " (create it first, readable and writable by you alone)";

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TokenStore.fileIn(missing, "alice"));
    assertEquals(expected, e.getMessage());
    SecretKey key = aesKey();
    e =
        assertThrows(
            IllegalArgumentException.class, () -> TokenStore.fileIn(missing, "alice", "v1", key));
    assertEquals(expected, e.getMessage());
    assertFalse(missing.exists());
  }

  @Test
  void fileGivenAsTheDirectoryFailsAtOnce() throws Exception {
    File file = Files.createFile(root.resolve("tokens.json")).toFile();

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TokenStore.fileIn(file, "alice"));
    assertEquals(
        "the token directory is not a directory: "
            + file
            + " (name the directory that holds the token files, not a file in it)",
        e.getMessage());
    assertEquals(Arrays.asList("tokens.json", "users"), list(root));
  }

  @Test
  void directoryThatOthersCanWriteToIsRefused() throws Exception {
    assumeTrue(users.getFileSystem().supportedFileAttributeViews().contains("posix"));
    Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rwxrwxrwx"));

    IOException e =
        assertThrows(
            IOException.class, () -> TokenStore.fileIn(users.toFile(), "alice").save(TOKENS));
    assertEquals(
        "the token file's directory is writable by others (rwxrwxrwx), which is refused: "
            + users
            + " (chmod go-w it, or keep the file in a directory only you can write to)",
        e.getMessage());
    assertEquals(Arrays.asList(), list(users));
  }

  @Test
  void tokenFileThatIsASymbolicLinkIsRefused() throws Exception {
    Path elsewhere = root.resolve("elsewhere.json");
    Path file = Files.createSymbolicLink(users.resolve(expectedName("alice")), elsewhere);

    IOException e =
        assertThrows(
            IOException.class, () -> TokenStore.fileIn(users.toFile(), "alice").save(TOKENS));
    assertEquals("the token file is a symbolic link, which is refused: " + file, e.getMessage());
    assertFalse(Files.exists(elsewhere));
  }

  @Test
  void encryptedFileDecryptsWithTheJdksCipher() throws Exception {
    SecretKey key = aesKey();
    TokenStore.fileIn(users.toFile(), "alice@example.com", "v1", key).save(TOKENS);

    String name = expectedName("alice@example.com");
    String stored = read(users.resolve(name));
    assertFalse(stored.contains("secret-"), stored);
    assertFalse(stored.contains("alice"), stored);
    Map<String, String> envelope = fields(stored);
    assertEquals("AES-GCM", envelope.get("enc"));
    assertEquals("v1", envelope.get("kid"));

    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    byte[] iv = Base64.getDecoder().decode(envelope.get("iv"));
    cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, iv));
    cipher.updateAAD(name.getBytes(StandardCharsets.UTF_8)); // The file's name, not the key.
    String plain =
        new String(
            cipher.doFinal(Base64.getDecoder().decode(envelope.get("ct"))), StandardCharsets.UTF_8);
    assertEquals("secret-access", fields(plain).get("access_token"));
    assertEquals("secret-refresh", fields(plain).get("refresh_token"));
    assertEquals(TOKENS, TokenStore.fileIn(users.toFile(), "alice@example.com", "v1", key).load());
  }

  /** One user's encrypted tokens, copied over another's file, must not sign the other one in. */
  @Test
  void valueCopiedToAnotherUsersFileDoesNotDecrypt() throws Exception {
    SecretKey key = aesKey();
    TokenStore.fileIn(users.toFile(), "alice", "v1", key).save(TOKENS);
    TokenStore.fileIn(users.toFile(), "mallory", "v1", key).save(Tokens.of("m-access", "m-ref"));
    Path mallorys = users.resolve(expectedName("mallory"));
    Files.copy(users.resolve(expectedName("alice")), mallorys, StandardCopyOption.REPLACE_EXISTING);

    String expected =
        "the tokens at the token file "
            + mallorys
            + " do not decrypt with key id 'v1': the key is not the one they were saved with, or"
            + " the value was changed or copied from elsewhere";
    IOException e =
        assertThrows(
            IOException.class,
            () -> TokenStore.fileIn(users.toFile(), "mallory", "v1", key).load());
    assertEquals(expected, e.getMessage());

    RecordingListener listener = new RecordingListener();
    RefreshManager auth =
        RefreshManager.builder()
            .tokenStore(TokenStore.fileIn(users.toFile(), "mallory", "v1", key))
            .addListener(listener)
            .build();
    assertNull(auth.currentTokens());
    assertEquals(Arrays.asList("storeFailed"), listener.events);
    assertEquals(expected, listener.causes.get(0).getMessage());
  }

  @Test
  void twoStoresOfTheSameKeyShareTheLease() throws Exception {
    SecretKey key = aesKey();
    SharedTokenStore one =
        assertInstanceOf(SharedTokenStore.class, TokenStore.fileIn(users.toFile(), "alice"));
    SharedTokenStore two =
        assertInstanceOf(
            SharedTokenStore.class, TokenStore.fileIn(users.toFile(), "alice", "v1", key));
    SharedTokenStore bob =
        assertInstanceOf(SharedTokenStore.class, TokenStore.fileIn(users.toFile(), "bob"));

    try (SharedTokenStore.Lease held = one.lease(1_000)) {
      // The one guard of alice's file in this process is the one this thread holds.
      assertTrue(FileLease.guard(identity("alice")).heldByCurrentThread());
      InterruptedIOException busy = assertThrows(InterruptedIOException.class, () -> two.lease(50));
      assertEquals(
          "another refresh held the lease of TokenStore.file("
              + users.resolve(expectedName("alice"))
              + ") for longer than 50 ms",
          busy.getMessage());
      bob.lease(50).close(); // Another user's lease is free.
      assertNull(held.load());
    }
    two.lease(1_000).close(); // Free again once released.
  }

  @Test
  void guardsOfDroppedStoresAreReleased() throws Exception {
    int before = FileLease.liveGuards();
    createStoresAndDropThem(1_000);

    collectUntil(
        "the guards of 1000 dropped stores to be released",
        () -> FileLease.liveGuards() < before + 100);

    // A released key starts again with a guard of its own.
    SharedTokenStore again = (SharedTokenStore) TokenStore.fileIn(users.toFile(), "user-0");
    again.lease(1_000).close();
    again.save(TOKENS);
    assertEquals(TOKENS, again.load());
  }

  @Test
  void guardOfAStoreThatIsStillReferencedSurvivesCollection() throws Exception {
    SharedTokenStore kept = (SharedTokenStore) TokenStore.fileIn(users.toFile(), "kept");
    WeakReference<FileLease.Guard> guard = new WeakReference<>(FileLease.guard(identity("kept")));
    int before = FileLease.liveGuards();
    createStoresAndDropThem(1_000);

    collectUntil(
        "the guards of 1000 dropped stores to be released",
        () -> FileLease.liveGuards() < before + 100);

    assertNotNull(guard.get());
    assertSame(guard.get(), FileLease.guard(identity("kept")));
    try (SharedTokenStore.Lease held = kept.lease(1_000)) {
      SharedTokenStore later = (SharedTokenStore) TokenStore.fileIn(users.toFile(), "kept");
      assertThrows(InterruptedIOException.class, () -> later.lease(50));
      assertNull(held.load());
    }
    Reference.reachabilityFence(kept);
  }

  /**
   * Creates {@code count} stores of distinct keys, some with a lease taken and given back, and
   * returns with none of them reachable.
   */
  private void createStoresAndDropThem(int count) throws IOException {
    List<SharedTokenStore> stores = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      stores.add((SharedTokenStore) TokenStore.fileIn(users.toFile(), "user-" + i));
    }
    for (int i = 0; i < count; i += 100) stores.get(i).lease(1_000).close();
    // Not before + count: guards of earlier tests' stores may be released meanwhile.
    assertTrue(FileLease.liveGuards() >= count, "guards: " + FileLease.liveGuards());
    Reference.reachabilityFence(stores);
  }

  /** Runs the collector until {@code condition} holds, for at most 10 seconds. */
  private static void collectUntil(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0L) throw new AssertionError("timed out waiting: " + what);
      System.gc();
    }
  }

  /** How a file store names alice's file in the guard map: its directory's real path. */
  private String identity(String sessionKey) throws Exception {
    return users.toRealPath().resolve(expectedName(sessionKey)).toString();
  }

  /** The file name, computed here with the JDK's digest rather than the library's. */
  private static String expectedName(String sessionKey) throws Exception {
    byte[] digest =
        MessageDigest.getInstance("SHA-256").digest(sessionKey.getBytes(StandardCharsets.UTF_8));
    StringBuilder hex = new StringBuilder();
    for (int i = 0; i < 16; i++) hex.append(String.format("%02x", digest[i] & 0xff));
    return "tokens-" + hex + ".json";
  }

  private static List<String> list(Path directory) throws IOException {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path entry : entries) names.add(entry.getFileName().toString());
    }
    names.sort(null);
    return names;
  }

  private static List<String> withoutLockFiles(List<String> names) {
    List<String> result = new ArrayList<>();
    for (String name : names) if (!name.endsWith(".lock")) result.add(name);
    return result;
  }

  private static SecretKey aesKey() throws Exception {
    KeyGenerator generator = KeyGenerator.getInstance("AES");
    generator.init(256);
    return generator.generateKey();
  }

  private static String read(Path file) throws IOException {
    return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
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
