package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.AclEntry;
import java.nio.file.attribute.AclEntryPermission;
import java.nio.file.attribute.AclEntryType;
import java.nio.file.attribute.AclFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The file store on an in-memory Windows (ACL) or Unix (POSIX) file system. */
final class FileTokenStoreJimfsTest {
  private final List<FileSystem> fileSystems = new ArrayList<>();

  @AfterEach
  void closeFileSystems() throws IOException {
    for (FileSystem fileSystem : fileSystems) fileSystem.close();
  }

  /** Windows: no POSIX modes, and a plain rename does not replace an existing file. */
  private Path windows() throws IOException {
    FileSystem fileSystem =
        Jimfs.newFileSystem(
            Configuration.windows().toBuilder()
                .setAttributeViews("basic", "owner", "dos", "acl", "user")
                .build());
    fileSystems.add(fileSystem);
    return Files.createDirectories(fileSystem.getPath("C:\\Users\\me\\app")).resolve("tokens.json");
  }

  private Path unix() throws IOException {
    FileSystem fileSystem =
        Jimfs.newFileSystem(
            Configuration.unix().toBuilder()
                .setAttributeViews("basic", "owner", "posix", "unix")
                .build());
    fileSystems.add(fileSystem);
    return Files.createDirectories(fileSystem.getPath("/home/me/app")).resolve("tokens.json");
  }

  private static UserPrincipal principal(Path path, String name) throws IOException {
    return path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name);
  }

  private static List<String> list(Path directory) throws IOException {
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void windowsSaveReplacesTheFileAndGivesItAnOwnerOnlyAcl() throws Exception {
    Path file = windows();
    TokenStore store = new FileTokenStore(FileStoreNio.create(file));

    store.save(Tokens.of("access-1", "refresh-1"));
    store.save(Tokens.of("access-2", "refresh-2"));

    assertEquals(Tokens.of("access-2", "refresh-2"), store.load());
    List<AclEntry> acl = Files.getFileAttributeView(file, AclFileAttributeView.class).getAcl();
    assertEquals(1, acl.size(), acl.toString());
    AclEntry entry = acl.get(0);
    assertEquals(AclEntryType.ALLOW, entry.type());
    assertEquals(Files.getOwner(file), entry.principal());
    assertTrue(
        entry
            .permissions()
            .containsAll(
                Arrays.asList(AclEntryPermission.READ_DATA, AclEntryPermission.WRITE_DATA)),
        entry.toString());
    assertEquals(Arrays.asList("tokens.json", "tokens.json.lock"), list(file.getParent()));
  }

  /** The ACL is in place before the first byte of a token is written. */
  @Test
  void windowsTemporaryFileHasOwnerOnlyAclBeforeTokensAreWritten() throws Exception {
    Path file = windows();
    List<List<AclEntry>> seen = new ArrayList<>();
    FileStoreOps<Path> io =
        new FileTokenStoreTest.Intercepting<Path>(FileStoreNio.create(file)) {
          @Override
          public void write(Path temporary, byte[] bytes) throws IOException {
            seen.add(Files.getFileAttributeView(temporary, AclFileAttributeView.class).getAcl());
            super.write(temporary, bytes);
          }
        };

    new FileTokenStore(io).save(Tokens.of("access"));

    assertEquals(
        Collections.singletonList(
            Files.getFileAttributeView(file, AclFileAttributeView.class).getAcl()),
        seen);
    assertEquals(1, seen.get(0).size());
  }

  @Test
  void windowsFileOfAnotherUserIsRefused() throws Exception {
    Path file = windows();
    TokenStore store = new FileTokenStore(FileStoreNio.create(file));
    store.save(Tokens.of("mine"));
    Files.setOwner(file, principal(file, "attacker"));

    IOException load = assertThrows(IOException.class, store::load);
    IOException save = assertThrows(IOException.class, () -> store.save(Tokens.of("secret")));

    String expected = "the token file is not owned by the current user, which is refused: " + file;
    assertEquals(expected, load.getMessage());
    assertEquals(expected, save.getMessage());
  }

  @Test
  void windowsSymlinkIsRefused() throws Exception {
    Path file = windows();
    Files.createSymbolicLink(file, file.resolveSibling("not-yet.json"));

    IOException save =
        assertThrows(
            IOException.class,
            () -> new FileTokenStore(FileStoreNio.create(file)).save(Tokens.of("secret")));

    assertEquals("the token file is a symbolic link, which is refused: " + file, save.getMessage());
    assertTrue(Files.isSymbolicLink(file));
  }

  /** Leftovers of another owner only look like ours: they are not the store's to delete. */
  @Test
  void windowsClearDeletesOwnLeftoversOnly() throws Exception {
    Path file = windows();
    TokenStore store = new FileTokenStore(FileStoreNio.create(file));
    store.save(Tokens.of("access", "refresh"));
    Path own = Files.write(file.resolveSibling("tokens.json.1.tmp"), new byte[] {'{'});
    Path old = Files.write(file.resolveSibling("tokens.json.2.tmp"), new byte[] {'{'});
    Files.setLastModifiedTime(old, FileTime.fromMillis(0));
    Path foreign = Files.write(file.resolveSibling("tokens.json.3.tmp"), new byte[] {'{'});
    Files.setLastModifiedTime(foreign, FileTime.fromMillis(0));
    Files.setOwner(foreign, principal(file, "attacker"));

    store.load();

    assertEquals(
        Arrays.asList("tokens.json", "tokens.json.1.tmp", "tokens.json.3.tmp", "tokens.json.lock"),
        list(file.getParent()));
    assertTrue(Files.exists(own));
    assertFalse(Files.exists(old));

    store.clear();

    assertEquals(Arrays.asList("tokens.json.3.tmp", "tokens.json.lock"), list(file.getParent()));
  }

  @Test
  void unixFileIsOwnerOnlyFromItsCreation() throws Exception {
    Path file = unix();
    List<String> seen = new ArrayList<>();
    FileStoreOps<Path> io =
        new FileTokenStoreTest.Intercepting<Path>(FileStoreNio.create(file)) {
          @Override
          public void write(Path temporary, byte[] bytes) throws IOException {
            seen.add(PosixFilePermissions.toString(Files.getPosixFilePermissions(temporary)));
            super.write(temporary, bytes);
          }
        };
    TokenStore store = new FileTokenStore(io);

    store.save(Tokens.of("access-1"));
    store.save(Tokens.of("access-2"));

    assertEquals(Arrays.asList("rw-------", "rw-------"), seen);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(Tokens.of("access-2"), store.load());
    assertEquals(Arrays.asList("tokens.json", "tokens.json.lock"), list(file.getParent()));
  }

  @Test
  void unixDirectoryOfAnotherUserIsRefused() throws Exception {
    Path file = unix();
    Files.setOwner(file.getParent(), principal(file, "nobody"));

    IOException save =
        assertThrows(
            IOException.class,
            () -> new FileTokenStore(FileStoreNio.create(file)).save(Tokens.of("secret")));

    assertEquals(
        "the token file's directory is not owned by the current user, which is refused: "
            + file.getParent(),
        save.getMessage());
    assertEquals(Collections.emptyList(), list(file.getParent()));
  }

  @Test
  void fileSystemWithoutPermissionsOrAclsIsRefused() throws Exception {
    FileSystem fileSystem =
        Jimfs.newFileSystem(
            Configuration.unix().toBuilder().setAttributeViews("basic", "owner").build());
    fileSystems.add(fileSystem);
    Path file = Files.createDirectories(fileSystem.getPath("/app")).resolve("tokens.json");

    IOException save =
        assertThrows(
            IOException.class,
            () -> new FileTokenStore(FileStoreNio.create(file)).save(Tokens.of("secret")));

    assertEquals(
        "the token file's file system has neither POSIX permissions nor ACLs, so it cannot be made"
            + " readable by its owner only: "
            + file,
        save.getMessage());
    assertEquals(Collections.emptyList(), list(file.getParent()));
  }
}
