package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code java.io} fallback for Android 21 to 25, run on this JVM's file system. */
final class FileTokenStoreJavaIoTest {
  @TempDir Path directory;

  private File file() {
    return directory.resolve("tokens.json").toFile();
  }

  private TokenStore store() {
    return new FileTokenStore(new FileStoreJavaIo(file()));
  }

  private List<String> list() {
    List<String> names = new ArrayList<>(Arrays.asList(directory.toFile().list()));
    names.sort(null);
    return names;
  }

  @Test
  void savesReplacesLoadsAndClears() throws Exception {
    TokenStore store = store();
    assertNull(store.load());

    store.save(Tokens.of("access-1", "refresh-1", 1234L));
    store.save(Tokens.of("access-2", "refresh-2"));

    assertEquals(Tokens.of("access-2", "refresh-2"), store.load());
    assertEquals(Tokens.of("access-2", "refresh-2"), TokenStore.file(file()).load());
    assertEquals(
        "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file().toPath())));
    assertEquals(Arrays.asList("tokens.json", "tokens.json.lock"), list());

    store.clear();

    assertNull(store.load());
    assertEquals(Arrays.asList("tokens.json.lock"), list()); // A lock file is never deleted.
  }

  /** java.io sets a mode only after creating a file, so the file is born in a 0700 directory. */
  @Test
  void temporaryFileIsInPrivateDirectoryBeforeTokensAreWritten() throws Exception {
    List<String> seen = new ArrayList<>();
    FileStoreOps<File> io =
        new FileTokenStoreTest.Intercepting<File>(new FileStoreJavaIo(file())) {
          @Override
          public void write(File temporary, byte[] bytes) throws IOException {
            seen.add(mode(temporary.getParentFile().toPath()) + " " + mode(temporary.toPath()));
            seen.add(temporary.getParentFile().getParentFile().equals(directory.toFile()) + "");
            super.write(temporary, bytes);
          }
        };

    new FileTokenStore(io).save(Tokens.of("access"));

    assertEquals(Arrays.asList("rwx------ rw-------", "true"), seen);
    assertEquals(Arrays.asList("tokens.json", "tokens.json.lock"), list());
  }

  private static String mode(Path path) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void crashBetweenWriteAndRenameLeavesOldFileIntact() throws Exception {
    store().save(Tokens.of("old-access", "old-refresh"));
    byte[] before = Files.readAllBytes(file().toPath());
    FileStoreOps<File> io =
        new FileTokenStoreTest.Intercepting<File>(new FileStoreJavaIo(file())) {
          @Override
          public void replace(File temporary) {
            throw new IllegalStateException("simulated crash");
          }
        };

    assertThrows(
        IllegalStateException.class,
        () -> new FileTokenStore(io).save(Tokens.of("new-access", "new-refresh")));

    assertArrayEquals(before, Files.readAllBytes(file().toPath()));
    assertEquals(Arrays.asList("tokens.json", "tokens.json.lock"), list());
  }

  @Test
  void symlinkIsRefused() throws Exception {
    Path target = Files.write(directory.resolve("elsewhere.json"), new byte[] {'{'});
    Files.createSymbolicLink(file().toPath(), target);

    assertSymlinkRefused();
  }

  @Test
  void danglingSymlinkIsRefused() throws Exception {
    Files.createSymbolicLink(file().toPath(), directory.resolve("not-yet.json"));

    assertSymlinkRefused();
    assertFalse(Files.exists(directory.resolve("not-yet.json"), LinkOption.NOFOLLOW_LINKS));
  }

  private void assertSymlinkRefused() {
    TokenStore store = store();
    IOException load = assertThrows(IOException.class, store::load);
    IOException save = assertThrows(IOException.class, () -> store.save(Tokens.of("secret")));
    IOException clear = assertThrows(IOException.class, store::clear);

    String expected =
        "the token file is a symbolic link, which is refused: " + file().getAbsolutePath();
    assertEquals(expected, load.getMessage());
    assertEquals(expected, save.getMessage());
    assertEquals(expected, clear.getMessage());
    assertTrue(Files.isSymbolicLink(file().toPath()));
  }

  @Test
  void loadAndClearDeleteLeftovers() throws Exception {
    TokenStore store = store();
    store.save(Tokens.of("access"));
    byte[] leftover = "{\"refresh_token\":\"newest\"}".getBytes(StandardCharsets.UTF_8);
    Path staleDirectory = Files.createDirectory(directory.resolve("tokens.json.7.tmpdir"));
    Files.write(staleDirectory.resolve("tokens.json.8.tmp"), leftover);
    Files.setLastModifiedTime(staleDirectory, FileTime.fromMillis(0));
    Path stale = Files.write(directory.resolve("tokens.json.9.tmp"), leftover);
    Files.setLastModifiedTime(stale, FileTime.fromMillis(0));
    Path fresh = Files.write(directory.resolve("tokens.json.10.tmp"), leftover);
    Files.write(directory.resolve("other.json.9.tmp"), leftover);

    assertEquals(Tokens.of("access"), store.load());

    assertEquals(
        Arrays.asList("other.json.9.tmp", "tokens.json", "tokens.json.10.tmp", "tokens.json.lock"),
        list());
    assertTrue(Files.exists(fresh));

    store.clear();

    assertEquals(Arrays.asList("other.json.9.tmp", "tokens.json.lock"), list());
  }

  @Test
  void missingDirectoryIsClearError() {
    File nowhere = directory.resolve("missing").resolve("tokens.json").toFile();

    IOException e =
        assertThrows(
            IOException.class,
            () -> new FileTokenStore(new FileStoreJavaIo(nowhere)).save(Tokens.of("a")));

    assertEquals(
        "the token file's directory does not exist: " + nowhere.getParentFile().getAbsolutePath(),
        e.getMessage());
  }
}
