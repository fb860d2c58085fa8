package dev.retrofitauth;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.Random;
import java.util.regex.Pattern;
import okio.BufferedSource;
import okio.Okio;
import org.jspecify.annotations.Nullable;

/**
 * The token file on {@code java.io}, for Android 21 to 25, which have no {@code java.nio.file}.
 *
 * <p>{@code java.io} can only change a file's mode after creating it. So each save first creates a
 * private directory next to the token file and makes it 0700 while it is still empty, then writes
 * the temporary file inside it, makes that 0600, and renames it over the token file. No other user
 * can open the temporary file, whatever its mode for a moment.
 *
 * <p>{@code java.io} cannot read a file's owner, so the ownership checks of {@link FileStoreNio}
 * are not made here; an app's own directories on Android belong to the app's user.
 */
final class FileStoreJavaIo implements FileStoreOps<File> {
  private final File file;
  private final File directory;
  private final Pattern leftover;
  private final Random random = new Random();

  FileStoreJavaIo(File file) {
    this.file = file.getAbsoluteFile();
    File parent = this.file.getParentFile();
    if (parent == null) throw new IllegalArgumentException("not a file: " + file);
    this.directory = parent;
    this.leftover = FileStoreOps.leftoverPattern(this.file.getName());
  }

  @Override
  public byte @Nullable [] read() throws IOException {
    checkNotSymlink();
    if (!file.exists()) return null;
    try (BufferedSource source = Okio.buffer(Okio.source(file))) {
      return source.readByteArray();
    }
  }

  @Override
  public File createTemporary() throws IOException {
    if (!directory.isDirectory()) {
      throw new IOException("the token file's directory does not exist: " + directory);
    }
    checkNotSymlink();
    File privateDirectory = new File(directory, nextName() + "dir");
    if (!privateDirectory.mkdir()) {
      throw new IOException("could not create a directory next to the token file: " + file);
    }
    File temporary = new File(privateDirectory, nextName());
    try {
      if (!restrictToOwner(privateDirectory, true)) {
        throw new IOException("could not make a directory private: " + privateDirectory);
      }
      if (!temporary.createNewFile() || !restrictToOwner(temporary, false)) {
        throw new IOException("could not make the token file readable by its owner only: " + file);
      }
    } catch (IOException e) {
      discard(temporary);
      throw e;
    }
    return temporary;
  }

  private String nextName() {
    return FileStoreOps.temporaryName(file.getName(), random.nextLong());
  }

  private static boolean restrictToOwner(File file, boolean directory) {
    return file.setReadable(false, false)
        && file.setReadable(true, true)
        && file.setWritable(false, false)
        && file.setWritable(true, true)
        && file.setExecutable(false, false)
        && (!directory || file.setExecutable(true, true));
  }

  @Override
  public void write(File temporary, byte[] bytes) throws IOException {
    try (FileOutputStream out = new FileOutputStream(temporary)) {
      out.write(bytes);
      out.getFD().sync();
    }
  }

  @Override
  public void replace(File temporary) throws IOException {
    checkNotSymlink();
    // On Android (Linux) a rename replaces the target atomically.
    if (!temporary.renameTo(file)) {
      throw new IOException("could not replace the token file: " + file);
    }
    discard(temporary);
  }

  @Override
  public void discard(File temporary) {
    File privateDirectory = temporary.getParentFile();
    temporary.delete();
    if (privateDirectory != null) privateDirectory.delete();
  }

  @Override
  public FileChannel openLockFile() throws IOException {
    if (!directory.isDirectory()) {
      throw new IOException("the token file's directory does not exist: " + directory);
    }
    checkNotSymlink();
    File lockFile = new File(directory, file.getName() + ".lock");
    if (isSymlink(lockFile)) {
      throw new IOException(
          "the token file's lock file is a symbolic link, which is refused: " + lockFile);
    }
    if (lockFile.createNewFile()) restrictToOwner(lockFile, false);
    return new RandomAccessFile(lockFile, "rw").getChannel();
  }

  @Override
  public String name() {
    return file.getName();
  }

  @Override
  public String identity() {
    try {
      // One name for every spelling of the directory (/data/data/pkg and /data/user/0/pkg).
      return new File(directory.getCanonicalFile(), file.getName()).getPath();
    } catch (IOException | SecurityException e) {
      return file.getPath(); // No directory yet.
    }
  }

  @Override
  public void delete() throws IOException {
    checkNotSymlink();
    if (file.exists() && !file.delete()) {
      throw new IOException("could not delete the token file: " + file);
    }
  }

  @Override
  public void deleteLeftovers(boolean all) throws IOException {
    long keepAfter = all ? Long.MAX_VALUE : keepAfter();
    String[] names = directory.list();
    if (names == null) return;
    for (String name : names) {
      if (!leftover.matcher(name).matches()) continue;
      File entry = new File(directory, name);
      if (entry.lastModified() > keepAfter) continue;
      if (entry.isDirectory() && !isSymlink(entry)) {
        String[] children = entry.list();
        if (children != null) {
          for (String child : children) new File(entry, child).delete();
        }
      }
      if (!entry.delete() && entry.exists()) {
        throw new IOException("could not delete a leftover temporary file: " + entry);
      }
    }
  }

  /**
   * Returns the time before which a temporary file is a leftover, on the file system's clock, which
   * on a file server may differ from ours; MIN_VALUE if nothing can be created here.
   */
  private long keepAfter() {
    File probe = new File(directory, nextName());
    try {
      if (!probe.createNewFile()) return Long.MIN_VALUE;
    } catch (IOException readOnly) {
      return Long.MIN_VALUE; // Nothing could be deleted here anyway.
    }
    try {
      return probe.lastModified() - FileStoreOps.LEFTOVER_AGE_MILLIS;
    } finally {
      probe.delete();
    }
  }

  private void checkNotSymlink() throws IOException {
    if (isSymlink(file)) {
      throw new IOException("the token file is a symbolic link, which is refused: " + file);
    }
  }

  /**
   * An lstat on {@code java.io}: a name that the directory lists but that does not exist is a link
   * to nothing (or a loop), and an existing one whose canonical path differs is a link.
   */
  private static boolean isSymlink(File file) throws IOException {
    File parent = file.getParentFile();
    if (parent == null) return false;
    if (!file.exists()) {
      String[] names = parent.list();
      return names != null && Arrays.asList(names).contains(file.getName());
    }
    File inCanonicalParent = new File(parent.getCanonicalFile(), file.getName());
    return !inCanonicalParent.getCanonicalFile().equals(inCanonicalParent);
  }

  @Override
  public String toString() {
    return file.toString();
  }
}
