package dev.retrofitauth;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The file system work of a {@link FileTokenStore}: {@link FileStoreNio} on {@code java.nio.file}
 * (Java 7+, Android 26+) and {@link FileStoreJavaIo} on {@code java.io} (Android 21 to 25).
 *
 * <p>Every method refuses a token file that is a symbolic link or, where the file system tells
 * owners apart, a token file or directory that the current user does not own. Implementations are
 * not thread-safe: the store calls them under its own lock.
 *
 * @param <T> a temporary file
 */
interface FileStoreOps<T> {
  /** Returns the token file's contents, or null if there is no token file. */
  byte @Nullable [] read() throws IOException;

  /** Creates a new, empty temporary file that only its owner may read and write. */
  T createTemporary() throws IOException;

  /** Writes {@code bytes} to {@code temporary} and syncs them to the disk. */
  void write(T temporary, byte[] bytes) throws IOException;

  /** Renames {@code temporary} over the token file in one atomic step. */
  void replace(T temporary) throws IOException;

  /** Deletes {@code temporary} if it is still there; never throws. */
  void discard(T temporary);

  /** Deletes the token file if there is one. */
  void delete() throws IOException;

  /**
   * Deletes the temporary files that earlier saves of this token file left behind, for example by
   * crashing before the rename. Unless {@code all}, a temporary file written in the last minute is
   * kept: another process may be saving into it right now.
   */
  void deleteLeftovers(boolean all) throws IOException;

  /**
   * Opens {@code <name>.lock} next to the token file for writing, creating it readable by its owner
   * only. Its {@link FileChannel#tryLock() lock} is the lease that processes sharing the token file
   * take; it never holds tokens and is never deleted, since deleting a lock file that another
   * process has open would give two processes the lease.
   */
  FileChannel openLockFile() throws IOException;

  /**
   * Names the token file the same way in every store of this process that uses it, whatever path
   * leads there, so that they share one guard: a second lock from this process on the same file
   * fails instead of waiting, and closing its channel could release the first one's lock. Resolves
   * the directory's real path if it exists.
   */
  String identity();

  /** The token file's name, without its directory. */
  String name();

  /** Temporary files are {@code <name>.<digits>.tmp}, as {@code File.createTempFile} named them. */
  static String temporaryName(String name, long random) {
    return name + "." + (random & Long.MAX_VALUE) + ".tmp";
  }

  /** Private directories of the {@code java.io} fallback are {@code <name>.<digits>.tmpdir}. */
  static Pattern leftoverPattern(String name) {
    return Pattern.compile(Pattern.quote(name) + "\\.[0-9]+\\.tmp(dir)?");
  }

  /** How old a temporary file must be before a load takes it for a leftover. */
  long LEFTOVER_AGE_MILLIS = 60_000L;
}
