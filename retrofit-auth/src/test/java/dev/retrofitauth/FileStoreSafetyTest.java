package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What another local user, or a frozen process, can do to a token file, from the security review: a
 * directory others can write to, a lock file someone else owns, and a lease that is never given
 * back must not keep a sign-out from removing the tokens. Each test failed on the code before it.
 */
final class FileStoreSafetyTest {
  @TempDir Path directory;

  private File file() {
    return directory.resolve("tokens.json").toFile();
  }

  @Test
  void directoryThatOthersCanWriteToIsRefused() throws IOException {
    Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxrwxrwx"));

    IOException e =
        assertThrows(IOException.class, () -> TokenStore.file(file()).save(Tokens.of("a", "r")));
    assertEquals(
        "the token file's directory is writable by others (rwxrwxrwx), which is refused: "
            + directory.toAbsolutePath()
            + " (chmod go-w it, or keep the file in a directory only you can write to)",
        e.getMessage());
    assertFalse(file().exists());
  }

  /** Another user replaced the lock file with their own and held it: refreshes timed out. */
  @Test
  void lockFileOwnedByAnotherUserIsRefused() throws IOException {
    UserPrincipal nobody = otherUser();
    Path lock = directory.resolve("tokens.json.lock");
    Files.createFile(lock);
    Files.setOwner(lock, nobody);

    IOException e =
        assertThrows(
            IOException.class, () -> ((SharedTokenStore) TokenStore.file(file())).lease(1_000));
    assertEquals(
        "the token file's lock file is not owned by the current user, which is refused: " + lock,
        e.getMessage());
  }

  /**
   * A holder that keeps the lease (frozen, or another user's): sign-out blocked 30 s and left the
   * refresh token on disk, and a restart loaded the session again.
   */
  @Test
  void clearRemovesTheTokensWhileAnotherHolderKeepsTheLease() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () -> {
          SharedTokenStore holder = (SharedTokenStore) TokenStore.file(file());
          holder.save(Tokens.of("a1", "r1"));
          SharedTokenStore.Lease lease = holder.lease(1_000);
          lease.load(); // The holder is in the middle of a refresh.

          long start = System.nanoTime();
          CompletableFuture.runAsync(
                  () -> {
                    try {
                      TokenStore.file(file()).clear();
                    } catch (IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  })
              .get(10, TimeUnit.SECONDS);
          long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

          assertFalse(file().exists(), "the tokens are gone");
          assertFalse(
              tookMillis > 5_000, "clear waited " + tookMillis + " ms for a lease it never got");
          // The holder's refresh ends: its save is refused, and the tokens stay gone.
          assertFalse(lease.save(Tokens.of("a2", "r2")));
          lease.close();
          assertEquals(null, TokenStore.file(file()).load());
        });
  }

  private static UserPrincipal otherUser() throws IOException {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root to chown (CI is root)");
    return java.nio.file.FileSystems.getDefault()
        .getUserPrincipalLookupService()
        .lookupPrincipalByName("nobody");
  }
}
