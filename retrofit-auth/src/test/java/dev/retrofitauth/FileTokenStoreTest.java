package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class FileTokenStoreTest {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");
  private static final byte[] LEFTOVER =
      "{\"version\":1,\"access_token\":\"a\",\"refresh_token\":\"newest-refresh\"}"
          .getBytes(StandardCharsets.UTF_8);

  @TempDir Path directory;

  private File file() {
    return directory.resolve("tokens.json").toFile();
  }

  /** A DPoP token reloaded as Bearer would go with the wrong scheme after a restart. */
  @Test
  void keepsTheTokenType() throws Exception {
    TokenStore store = TokenStore.file(file());
    Tokens dpop = Tokens.of("access", "refresh", 1234L).withTokenType(Tokens.DPOP);

    store.save(dpop);
    assertEquals(dpop, TokenStore.file(file()).load());

    store.save(Tokens.of("access")); // Bearer, the default, is not written at all.
    assertEquals(
        "{\"version\":1,\"revision\":2,\"access_token\":\"access\"}",
        new String(java.nio.file.Files.readAllBytes(file().toPath()), StandardCharsets.UTF_8));
  }

  @Test
  void savesAndLoads() throws Exception {
    TokenStore store = TokenStore.file(file());
    assertNull(store.load());

    store.save(Tokens.of("access", "refresh", 1234L));
    assertEquals(Tokens.of("access", "refresh", 1234L), store.load());
    assertEquals(Tokens.of("access", "refresh", 1234L), TokenStore.file(file()).load());

    store.save(Tokens.of("access-2"));
    assertEquals(Tokens.of("access-2"), store.load());

    store.clear();
    assertNull(store.load());
    assertFalse(file().exists());
  }

  @Test
  void fileIsReadableByOwnerOnly() throws Exception {
    TokenStore.file(file()).save(Tokens.of("access", "refresh"));

    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file().toPath());

    assertEquals(PosixFilePermissions.fromString("rw-------"), permissions);
  }

  @Test
  void temporaryFileIsOwnerOnlyBeforeTokensAreWritten() throws Exception {
    List<String> seen = new ArrayList<>();
    FileStoreOps<Path> io =
        new Intercepting<Path>(FileStoreNio.create(file())) {
          @Override
          public void write(Path temporary, byte[] bytes) throws IOException {
            seen.add(PosixFilePermissions.toString(Files.getPosixFilePermissions(temporary)));
            super.write(temporary, bytes);
          }
        };

    new FileTokenStore(io).save(Tokens.of("access"));

    assertEquals(Arrays.asList("rw-------"), seen);
  }

  @Test
  void crashBetweenWriteAndRenameLeavesOldFileIntact() throws Exception {
    TokenStore.file(file()).save(Tokens.of("old-access", "old-refresh"));
    byte[] before = Files.readAllBytes(file().toPath());
    FileStoreOps<Path> io =
        new Intercepting<Path>(FileStoreNio.create(file())) {
          @Override
          public void replace(Path temporary) {
            throw new IllegalStateException("simulated crash");
          }
        };

    assertThrows(
        IllegalStateException.class,
        () -> new FileTokenStore(io).save(Tokens.of("new-access", "new-refresh")));

    assertArrayEquals(before, Files.readAllBytes(file().toPath()));
    assertEquals(Tokens.of("old-access", "old-refresh"), TokenStore.file(file()).load());
    assertEquals(
        Arrays.asList("tokens.json", "tokens.json.lock"), sorted(directory.toFile().list()));
  }

  /** The store's only state is final: tests crash it through a seam, not a mutable hook. */
  @Test
  void storeHasNoMutableFields() {
    for (Field field : FileTokenStore.class.getDeclaredFields()) {
      assertTrue(Modifier.isFinal(field.getModifiers()), field.toString());
    }
  }

  @Test
  void symlinkIsRefused() throws Exception {
    Path target = directory.resolve("elsewhere.json");
    TokenStore.file(target.toFile()).save(Tokens.of("planted"));
    Files.createSymbolicLink(file().toPath(), target);
    TokenStore store = TokenStore.file(file());

    IOException load = assertThrows(IOException.class, store::load);
    IOException save =
        assertThrows(IOException.class, () -> store.save(Tokens.of("secret-access")));

    String expected =
        "the token file is a symbolic link, which is refused: " + file().getAbsolutePath();
    assertEquals(expected, load.getMessage());
    assertEquals(expected, save.getMessage());
    assertEquals(Tokens.of("planted"), TokenStore.file(target.toFile()).load()); // Untouched.
  }

  /**
   * Another local user who opens the temporary file while it is still 0644 keeps a readable handle
   * and reads the tokens once they are written. A watcher lists the directory in a tight loop
   * during many saves and records the permissions of every temporary file it sees. Before the fix
   * it saw rw-r--r-- within 1 to 435 saves in 20 runs out of 20.
   */
  @Test
  void temporaryFileIsOwnerOnlyFromItsCreation() throws Exception {
    TokenStore store = TokenStore.file(file());
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger seen = new AtomicInteger();
    Set<String> exposed = ConcurrentHashMap.newKeySet();
    Thread watcher =
        new Thread(
            () -> {
              while (!done.get()) {
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
                  for (Path entry : entries) {
                    if (entry.getFileName().toString().equals("tokens.json")) continue;
                    try {
                      Set<PosixFilePermission> permissions =
                          Files.getPosixFilePermissions(entry, LinkOption.NOFOLLOW_LINKS);
                      seen.incrementAndGet();
                      if (!OWNER_ONLY.containsAll(permissions)) {
                        exposed.add(PosixFilePermissions.toString(permissions));
                      }
                    } catch (NoSuchFileException gone) {
                      // Renamed or deleted between listing and reading; the next round looks again.
                    }
                  }
                } catch (IOException e) {
                  exposed.add(e.toString());
                }
              }
            });
    watcher.start();
    try {
      for (int i = 0; i < 1000 && exposed.isEmpty(); i++) {
        store.save(Tokens.of("access-" + i, "refresh-" + i));
      }
    } finally {
      done.set(true);
      watcher.join(TimeUnit.SECONDS.toMillis(30));
    }

    assertFalse(watcher.isAlive());
    assertEquals(Collections.emptySet(), exposed);
    assertTrue(seen.get() > 0, "the watcher never saw a temporary file");
  }

  @Test
  void fileOfAnotherUserIsRefused() throws Exception {
    TokenStore store = TokenStore.file(file());
    store.save(Tokens.of("mine"));
    Files.setOwner(file().toPath(), nobody());
    byte[] before = Files.readAllBytes(file().toPath());

    IOException load = assertThrows(IOException.class, store::load);
    IOException save = assertThrows(IOException.class, () -> store.save(Tokens.of("secret")));
    IOException clear = assertThrows(IOException.class, store::clear);

    String expected =
        "the token file is not owned by the current user, which is refused: "
            + file().getAbsolutePath();
    assertEquals(expected, load.getMessage());
    assertEquals(expected, save.getMessage());
    assertEquals(expected, clear.getMessage());
    assertArrayEquals(before, Files.readAllBytes(file().toPath()));
    assertEquals(
        Arrays.asList("tokens.json", "tokens.json.lock"), sorted(directory.toFile().list()));
  }

  @Test
  void directoryOfAnotherUserIsRefused() throws Exception {
    Path shared = Files.createDirectory(directory.resolve("shared"));
    Files.setOwner(shared, nobody());
    File file = shared.resolve("tokens.json").toFile();

    IOException save =
        assertThrows(IOException.class, () -> TokenStore.file(file).save(Tokens.of("secret")));

    assertEquals(
        "the token file's directory is not owned by the current user, which is refused: " + shared,
        save.getMessage());
    assertEquals(Collections.emptyList(), Arrays.asList(shared.toFile().list()));
  }

  @Test
  void danglingSymlinkIsRefused() throws Exception {
    Path target = directory.resolve("not-yet.json");
    Files.createSymbolicLink(file().toPath(), target);
    TokenStore store = TokenStore.file(file());

    IOException load = assertThrows(IOException.class, store::load);
    IOException save =
        assertThrows(IOException.class, () -> store.save(Tokens.of("secret-access")));

    String expected =
        "the token file is a symbolic link, which is refused: " + file().getAbsolutePath();
    assertEquals(expected, load.getMessage());
    assertEquals(expected, save.getMessage());
    assertTrue(Files.isSymbolicLink(file().toPath()));
    assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS));
  }

  /** A crash between writing the temporary file and renaming it leaves the newest tokens there. */
  @Test
  void loadAndClearDeleteLeftoverTemporaryFiles() throws Exception {
    TokenStore store = TokenStore.file(file());
    store.save(Tokens.of("access", "refresh"));
    Path stale = plant("tokens.json.4711.tmp", FileTime.fromMillis(0));
    Path staleDirectory = Files.createDirectory(directory.resolve("tokens.json.4712.tmpdir"));
    Files.write(staleDirectory.resolve("tokens.json.4713.tmp"), LEFTOVER);
    Files.setLastModifiedTime(staleDirectory, FileTime.fromMillis(0));
    // Another process may be in the middle of a save: a fresh one is left alone until clear().
    Path fresh = plant("tokens.json.4714.tmp", null);
    List<String> others =
        Arrays.asList(
            "other.json.4711.tmp", "tokens.json.bak", "tokens.json.x1.tmp", "tokens.json.1.tmp.1");
    for (String other : others) plant(other, FileTime.fromMillis(0));

    assertEquals(Tokens.of("access", "refresh"), store.load());

    assertFalse(Files.exists(stale));
    assertFalse(Files.exists(staleDirectory));
    assertTrue(Files.exists(fresh));

    store.clear();

    assertFalse(Files.exists(fresh));
    List<String> left = new ArrayList<>(Arrays.asList(directory.toFile().list()));
    Collections.sort(left);
    List<String> expected = new ArrayList<>(others);
    expected.add("tokens.json.lock"); // The lease's lock file stays: see FileStoreOps.openLockFile.
    Collections.sort(expected);
    assertEquals(expected, left);
  }

  private static List<String> sorted(String[] names) {
    List<String> result = new ArrayList<>(Arrays.asList(names));
    Collections.sort(result);
    return result;
  }

  private Path plant(String name, @Nullable FileTime modified) throws IOException {
    Path path = Files.write(directory.resolve(name), LEFTOVER);
    if (modified != null) Files.setLastModifiedTime(path, modified);
    return path;
  }

  private static UserPrincipal nobody() throws IOException {
    return FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
  }

  @Test
  void corruptOrTruncatedFileFailsWithoutToken() throws Exception {
    String[] contents = {
      "{\"version\":1,\"access_token\":\"secret-access\",\"refresh_token\":\"secret-ref",
      "{\"version\":1,\"access_token\":\"secret-access\"",
      "not json at all secret-access",
      "{\"version\":2,\"access_token\":\"secret-access\"}",
      "{\"version\":1,\"refresh_token\":\"secret-refresh\"}",
      "{\"version\":1,\"access_token\":\"secret access\"}",
      "{\"version\":1,\"access_token\":\"secret-access\"} trailing",
      "",
    };
    for (String content : contents) {
      Files.write(file().toPath(), content.getBytes(StandardCharsets.UTF_8));

      IOException e =
          assertThrows(IOException.class, () -> TokenStore.file(file()).load(), content);

      assertTrue(
          e.getMessage()
              .startsWith(
                  "the tokens at the token file "
                      + file().getAbsolutePath()
                      + " are corrupt and cannot be read ("),
          e.getMessage());
      assertFalse(e.getMessage().contains("secret"), e.getMessage());
      assertNull(e.getCause());
    }
  }

  @Test
  void managerStartsSignedOutWithWarningOnCorruptFile() throws Exception {
    Files.write(file().toPath(), "{\"version\":1,\"access_tok".getBytes(StandardCharsets.UTF_8));
    RecordingListener listener = new RecordingListener();

    RefreshManager auth =
        RefreshManager.builder().tokenStore(TokenStore.file(file())).addListener(listener).build();

    assertNull(auth.currentTokens());
    assertEquals(Arrays.asList("storeFailed"), listener.events);
    auth.signIn(Tokens.of("fresh"));
    assertEquals(Tokens.of("fresh"), TokenStore.file(file()).load()); // The next save repairs it.
  }

  @Test
  void managerLoadsTokensSavedByEarlierRun() throws Exception {
    RefreshManager first = RefreshManager.builder().tokenStore(TokenStore.file(file())).build();
    first.signIn(Tokens.of("access", "refresh", 42L));

    RefreshManager second = RefreshManager.builder().tokenStore(TokenStore.file(file())).build();

    assertEquals(Tokens.of("access", "refresh", 42L), second.currentTokens());
  }

  @Test
  void directoryRemovedAfterTheStoreWasMadeIsAClearError() throws IOException {
    File parent = directory.resolve("missing").toFile();
    assertTrue(parent.mkdir());
    File nowhere = new File(parent, "tokens.json");
    TokenStore store = TokenStore.file(nowhere);
    assertTrue(parent.delete());

    IOException e = assertThrows(IOException.class, () -> store.save(Tokens.of("a")));

    assertEquals(
        "the token file's directory does not exist: " + nowhere.getParentFile().getAbsolutePath(),
        e.getMessage());
  }

  /**
   * Passes everything to {@code delegate}; a test overrides the step it wants to watch or break.
   */
  static class Intercepting<T> implements FileStoreOps<T> {
    private final FileStoreOps<T> delegate;

    Intercepting(FileStoreOps<T> delegate) {
      this.delegate = delegate;
    }

    @Override
    public byte @Nullable [] read() throws IOException {
      return delegate.read();
    }

    @Override
    public T createTemporary() throws IOException {
      return delegate.createTemporary();
    }

    @Override
    public void write(T temporary, byte[] bytes) throws IOException {
      delegate.write(temporary, bytes);
    }

    @Override
    public void replace(T temporary) throws IOException {
      delegate.replace(temporary);
    }

    @Override
    public void discard(T temporary) {
      delegate.discard(temporary);
    }

    @Override
    public void delete() throws IOException {
      delegate.delete();
    }

    @Override
    public void deleteLeftovers(boolean all) throws IOException {
      delegate.deleteLeftovers(all);
    }

    @Override
    public FileChannel openLockFile() throws IOException {
      return delegate.openLockFile();
    }

    @Override
    public String identity() {
      return delegate.identity();
    }

    @Override
    public String name() {
      return delegate.name();
    }
  }
}
