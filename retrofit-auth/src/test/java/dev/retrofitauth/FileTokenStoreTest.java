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
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class FileTokenStoreTest {
  @TempDir Path directory;

  private File file() {
    return directory.resolve("tokens.json").toFile();
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
    FileTokenStore store = new FileTokenStore(file());
    String[] seen = new String[1];
    store.beforeRename =
        () -> {
          File[] temporaries = directory.toFile().listFiles((dir, name) -> name.endsWith(".tmp"));
          try {
            seen[0] =
                PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(temporaries[0].toPath()));
          } catch (IOException e) {
            throw new AssertionError(e);
          }
        };

    store.save(Tokens.of("access"));

    assertEquals("rw-------", seen[0]);
  }

  @Test
  void crashBetweenWriteAndRenameLeavesOldFileIntact() throws Exception {
    FileTokenStore store = new FileTokenStore(file());
    store.save(Tokens.of("old-access", "old-refresh"));
    byte[] before = Files.readAllBytes(file().toPath());
    store.beforeRename =
        () -> {
          throw new IllegalStateException("simulated crash");
        };

    assertThrows(
        IllegalStateException.class, () -> store.save(Tokens.of("new-access", "new-refresh")));

    assertArrayEquals(before, Files.readAllBytes(file().toPath()));
    assertEquals(Tokens.of("old-access", "old-refresh"), TokenStore.file(file()).load());
    assertEquals(
        Arrays.asList("tokens.json"), Arrays.asList(directory.toFile().list())); // No leftovers.
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
                  "the token file is corrupt or truncated and reads as no tokens until the next save: "
                      + file().getAbsolutePath()),
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
  void missingDirectoryIsClearError() {
    File nowhere = directory.resolve("missing").resolve("tokens.json").toFile();

    IOException e =
        assertThrows(IOException.class, () -> TokenStore.file(nowhere).save(Tokens.of("a")));

    assertEquals(
        "the token file's directory does not exist: " + nowhere.getParentFile().getAbsolutePath(),
        e.getMessage());
  }
}
