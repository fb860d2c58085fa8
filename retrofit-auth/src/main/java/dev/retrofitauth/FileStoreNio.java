package dev.retrofitauth;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.AclEntry;
import java.nio.file.attribute.AclEntryPermission;
import java.nio.file.attribute.AclEntryType;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.codehaus.mojo.animal_sniffer.IgnoreJRERequirement;
import org.jspecify.annotations.Nullable;

/**
 * The token file on {@code java.nio.file}, which Android has only from API 26: {@link
 * FileTokenStore#create} loads this class only where {@link #isAvailable()}.
 *
 * <p>A temporary file is owner-only from the call that creates it: mode 0600 where the file system
 * has POSIX permissions, otherwise an ACL with one entry for the owner (Windows). The current user
 * is the owner of a file this store created itself, so that a process whose effective user differs
 * from {@code user.name}, or a Windows administrator whose new files belong to the Administrators
 * group, is still recognised.
 */
@IgnoreJRERequirement
final class FileStoreNio implements FileStoreOps<Path> {
  private static final LinkOption[] NO_FOLLOW = {LinkOption.NOFOLLOW_LINKS};
  private static final Set<StandardOpenOption> CREATE_NEW =
      EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  private static final FileAttribute<?>[] NONE = {};
  private static final Set<OpenOption> LOCK_FILE =
      new HashSet<>(
          Arrays.<OpenOption>asList(
              StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS));
  private static final FileAttribute<?> OWNER_ONLY_MODE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final Set<AclEntryPermission> OWNER_ACL =
      EnumSet.of(
          AclEntryPermission.READ_DATA,
          AclEntryPermission.WRITE_DATA,
          AclEntryPermission.APPEND_DATA,
          AclEntryPermission.READ_NAMED_ATTRS,
          AclEntryPermission.WRITE_NAMED_ATTRS,
          AclEntryPermission.READ_ATTRIBUTES,
          AclEntryPermission.WRITE_ATTRIBUTES,
          AclEntryPermission.DELETE,
          AclEntryPermission.READ_ACL,
          AclEntryPermission.WRITE_ACL,
          AclEntryPermission.SYNCHRONIZE);

  private final Path file;
  private final Path directory;
  private final String name;
  private final boolean posix;
  private final Pattern leftover;

  /** Null until this store first needs it. Guarded by the calling FileTokenStore. */
  private @Nullable UserPrincipal currentUser;

  private FileStoreNio(Path file) {
    this.file = file.toAbsolutePath();
    Path parent = this.file.getParent();
    Path fileName = this.file.getFileName();
    if (parent == null || fileName == null) {
      throw new IllegalArgumentException("not a file: " + file);
    }
    this.directory = parent;
    this.name = fileName.toString();
    this.posix = parent.getFileSystem().supportedFileAttributeViews().contains("posix");
    this.leftover = FileStoreOps.leftoverPattern(name);
  }

  static FileStoreNio create(Path file) {
    return new FileStoreNio(file);
  }

  static FileStoreNio create(File file) {
    return new FileStoreNio(file.toPath());
  }

  /** True where {@code java.nio.file} and {@code File.toPath()} exist: Java 7+, Android 26+. */
  static boolean isAvailable() {
    try {
      Class.forName("java.nio.file.Files");
      File.class.getMethod("toPath");
      return true;
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      return false;
    }
  }

  @Override
  public byte @Nullable [] read() throws IOException {
    if (!check()) return null;
    try (SeekableByteChannel channel =
        Files.newByteChannel(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(channel.size(), Integer.MAX_VALUE));
      while (buffer.hasRemaining() && channel.read(buffer) != -1) {
        // Reads until the buffer is full or the file ends.
      }
      return Arrays.copyOf(buffer.array(), buffer.position());
    }
  }

  @Override
  public Path createTemporary() throws IOException {
    if (!Files.isDirectory(directory)) {
      throw new IOException("the token file's directory does not exist: " + directory);
    }
    check();
    Path temporary = directory.resolve(FileStoreOps.temporaryName(name, random()));
    FileAttribute<?> ownerOnly = ownerOnly();
    try {
      Files.newByteChannel(temporary, CREATE_NEW, ownerOnly).close();
    } catch (UnsupportedOperationException e) {
      // The file system cannot set an ACL at creation (Jimfs). The file is empty until it is set.
      Files.newByteChannel(temporary, CREATE_NEW).close();
      try {
        Files.setAttribute(temporary, ownerOnly.name(), ownerOnly.value(), NO_FOLLOW);
      } catch (IOException | RuntimeException failure) {
        discard(temporary);
        throw failure;
      }
    }
    return temporary;
  }

  private FileAttribute<?> ownerOnly() throws IOException {
    if (posix) return OWNER_ONLY_MODE;
    if (!directory.getFileSystem().supportedFileAttributeViews().contains("acl")) {
      throw new IOException(
          "the token file's file system has neither POSIX permissions nor ACLs, so it cannot be"
              + " made readable by its owner only: "
              + file);
    }
    final List<AclEntry> acl =
        Collections.singletonList(
            AclEntry.newBuilder()
                .setType(AclEntryType.ALLOW)
                .setPrincipal(currentUser())
                .setPermissions(OWNER_ACL)
                .build());
    return new FileAttribute<List<AclEntry>>() {
      @Override
      public String name() {
        return "acl:acl";
      }

      @Override
      public List<AclEntry> value() {
        return acl;
      }
    };
  }

  @Override
  public void write(Path temporary, byte[] bytes) throws IOException {
    try (FileChannel channel =
        FileChannel.open(temporary, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) channel.write(buffer);
      channel.force(true);
    }
  }

  @Override
  public void replace(Path temporary) throws IOException {
    // REPLACE_EXISTING for Windows, where a plain rename does not replace an existing file.
    Files.move(
        temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public void discard(Path temporary) {
    try {
      Files.deleteIfExists(temporary);
    } catch (IOException ignored) {
      // A later load or clear() deletes it as a leftover.
    }
  }

  @Override
  public FileChannel openLockFile() throws IOException {
    if (!Files.isDirectory(directory)) {
      throw new IOException("the token file's directory does not exist: " + directory);
    }
    check();
    Path lockFile = directory.resolve(name + ".lock");
    FileChannel channel;
    try {
      channel = FileChannel.open(lockFile, LOCK_FILE, ownerOnly());
    } catch (UnsupportedOperationException e) {
      channel = FileChannel.open(lockFile, LOCK_FILE); // No ACL at creation (Jimfs).
    }
    // Opened, not created, if it was there: someone else's lock file could be held by them for
    // ever, keeping this process from refreshing and signing out.
    if (!currentUser().equals(Files.getOwner(lockFile, NO_FOLLOW))) {
      channel.close();
      throw new IOException(
          "the token file's lock file is not owned by the current user, which is refused: "
              + lockFile);
    }
    return channel;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String identity() {
    try {
      // One name for every spelling of the directory (links, /var and /private/var, ...).
      return directory.toRealPath().resolve(name).toString();
    } catch (IOException | SecurityException e) {
      return file.normalize().toString(); // No directory yet.
    }
  }

  @Override
  public void delete() throws IOException {
    if (check()) Files.delete(file);
  }

  @Override
  public void deleteLeftovers(boolean all) throws IOException {
    if (!Files.isDirectory(directory)) return;
    long keepAfter = Long.MAX_VALUE;
    if (!all) {
      try {
        keepAfter = fileSystemNow() - FileStoreOps.LEFTOVER_AGE_MILLIS;
      } catch (IOException readOnly) {
        return; // Nothing could be deleted here anyway; reading the token file may still work.
      }
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path entry : entries) {
        Path entryName = entry.getFileName();
        if (entryName == null || !leftover.matcher(entryName.toString()).matches()) continue;
        BasicFileAttributes attributes;
        try {
          attributes = Files.readAttributes(entry, BasicFileAttributes.class, NO_FOLLOW);
        } catch (NoSuchFileException gone) {
          continue;
        }
        if (attributes.lastModifiedTime().toMillis() > keepAfter) continue;
        // Someone else's file only looks like ours; it is not ours to delete.
        if (!currentUser().equals(Files.getOwner(entry, NO_FOLLOW))) continue;
        if (attributes.isDirectory()) deleteDirectory(entry);
        else Files.deleteIfExists(entry);
      }
    }
  }

  /** A leftover private directory of the java.io fallback, after an upgrade to Android 26+. */
  private void deleteDirectory(Path privateDirectory) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(privateDirectory)) {
      for (Path entry : entries) Files.deleteIfExists(entry);
    }
    Files.deleteIfExists(privateDirectory);
  }

  /**
   * Returns whether the token file exists, after checking that it is no symbolic link and that the
   * current user owns it and its directory.
   */
  private boolean check() throws IOException {
    if (Files.isSymbolicLink(file)) {
      throw new IOException("the token file is a symbolic link, which is refused: " + file);
    }
    if (!Files.isDirectory(directory)) return false;
    UserPrincipal me = currentUser();
    if (!me.equals(Files.getOwner(directory))) {
      throw new IOException(
          "the token file's directory is not owned by the current user, which is refused: "
              + directory);
    }
    if (posix) {
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(directory);
      if (mode.contains(PosixFilePermission.GROUP_WRITE)
          || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
        // Others could replace the lock file or the token file's name under this store.
        throw new IOException(
            "the token file's directory is writable by others ("
                + PosixFilePermissions.toString(mode)
                + "), which is refused: "
                + directory
                + " (chmod go-w it, or keep the file in a directory only you can write to)");
      }
    }
    if (!Files.exists(file, NO_FOLLOW)) return false;
    if (!me.equals(Files.getOwner(file, NO_FOLLOW))) {
      throw new IOException(
          "the token file is not owned by the current user, which is refused: " + file);
    }
    return true;
  }

  private UserPrincipal currentUser() throws IOException {
    UserPrincipal result = currentUser;
    if (result == null) {
      result = ownerOfNewFile();
      currentUser = result;
    }
    return result;
  }

  private UserPrincipal ownerOfNewFile() throws IOException {
    Path probe;
    try {
      probe = createProbe();
    } catch (IOException e) {
      // A read-only directory: nothing can be saved there, but a token file may still be read.
      String user = System.getProperty("user.name");
      if (user == null) throw e;
      try {
        return directory
            .getFileSystem()
            .getUserPrincipalLookupService()
            .lookupPrincipalByName(user);
      } catch (IOException | UnsupportedOperationException lookup) {
        e.addSuppressed(lookup);
        throw e;
      }
    }
    try {
      return Files.getOwner(probe, NO_FOLLOW);
    } finally {
      discard(probe);
    }
  }

  /** Returns the time on the file system's clock, which on a file server may differ from ours. */
  private long fileSystemNow() throws IOException {
    Path probe = createProbe();
    try {
      return Files.getLastModifiedTime(probe, NO_FOLLOW).toMillis();
    } finally {
      discard(probe);
    }
  }

  /**
   * Creates an empty file that is deleted again at once. It holds nothing, but is owner-only where
   * that needs no owner yet, like every other file the store creates.
   */
  private Path createProbe() throws IOException {
    Path probe = directory.resolve(FileStoreOps.temporaryName(name, random()));
    FileAttribute<?>[] attributes = posix ? new FileAttribute<?>[] {OWNER_ONLY_MODE} : NONE;
    Files.newByteChannel(probe, CREATE_NEW, attributes).close();
    return probe;
  }

  private static long random() {
    return ThreadLocalRandom.current().nextLong();
  }

  @Override
  public String toString() {
    return file.toString();
  }
}
