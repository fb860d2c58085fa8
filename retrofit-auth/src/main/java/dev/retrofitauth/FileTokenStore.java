package dev.retrofitauth;

import dev.retrofitauth.internal.TokenCodec;
import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKey;
import okio.ByteString;
import org.jspecify.annotations.Nullable;

/**
 * Keeps tokens in one JSON file. Each save writes a new file that only its owner may read, then
 * renames it over the old one, so that a crash leaves either the old tokens or the new ones, never
 * half of either. It refuses a token file that is a symbolic link or that belongs to another user.
 *
 * <p>The file system work is in {@link FileStoreOps}, the lease in {@link FileLease}; this class
 * owns the format and the revision, which each write increments and a lease's save checks.
 */
final class FileTokenStore implements SharedTokenStore {
  /** The revision of a lease that has not loaded yet. */
  static final long NOT_LOADED = Long.MIN_VALUE;

  /** The revision of a file that does not parse: a lease that loaded it may overwrite it. */
  private static final long CORRUPT = -1L;

  /** How long a save outside a lease waits for another process's refresh to end. */
  private static final long WRITE_WAIT_MILLIS = TimeUnit.SECONDS.toMillis(30);

  private final FileStoreOps<?> io;
  private final FileLease.Guard guard;
  private final TokenCodec codec;

  /** What the file holds: tokens and the revision that each write increments. */
  static final class Stored {
    final @Nullable Tokens tokens;
    final long revision;
    final @Nullable IOException corrupt;

    Stored(@Nullable Tokens tokens, long revision, @Nullable IOException corrupt) {
      this.tokens = tokens;
      this.revision = revision;
      this.corrupt = corrupt;
    }
  }

  FileTokenStore(FileStoreOps<?> io) {
    this(io, null, null);
  }

  FileTokenStore(FileStoreOps<?> io, @Nullable String keyId, @Nullable SecretKey key) {
    this.io = io;
    this.guard = FileLease.guard(io.identity());
    // The file's name is bound to each encrypted value: a value copied to another file fails.
    this.codec =
        new TokenCodec(
            "the token file " + io,
            "TokenStore.file(file, keyId, key)",
            ByteString.encodeUtf8(io.name()).toByteArray(),
            keyId,
            key);
  }

  /**
   * Uses {@code java.nio.file} where it exists, so Android 21 to 25 never load it; encrypts with
   * {@code key} if it is not null.
   */
  static FileTokenStore create(File file, @Nullable String keyId, @Nullable SecretKey key) {
    if (FileStoreNio.isAvailable()) {
      return new FileTokenStore(FileStoreNio.create(file), keyId, key);
    }
    return new FileTokenStore(new FileStoreJavaIo(file), keyId, key);
  }

  /** Returns {@code <directory>/tokens-<hash>.json}, after checking the key and the directory. */
  static File fileIn(File directory, String sessionKey) {
    if (sessionKey.isEmpty()) throw new IllegalArgumentException("sessionKey is empty");
    for (int i = 0; i < sessionKey.length(); i++) {
      char c = sessionKey.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < sessionKey.length()
          && Character.isLowSurrogate(sessionKey.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        // UTF-8 encoding turns every lone surrogate into '?': two users into one file.
        throw new IllegalArgumentException(
            "sessionKey has a lone surrogate, which has no UTF-8 encoding, at index " + i);
      }
    }
    File absolute = directory.getAbsoluteFile();
    if (!absolute.exists()) {
      throw new IllegalArgumentException(
          "the token directory does not exist: "
              + absolute
              + " (create it first, readable and writable by you alone)");
    }
    if (!absolute.isDirectory()) {
      throw new IllegalArgumentException(
          "the token directory is not a directory: "
              + absolute
              + " (name the directory that holds the token files, not a file in it)");
    }
    // A hash, not the key: no key can leave the directory, and no name reveals a user.
    String hash = ByteString.encodeUtf8(sessionKey).sha256().hex().substring(0, 32);
    File file = new File(absolute, "tokens-" + hash + ".json");
    FileTokenStore.checkFile(file); // A directory by that name.
    return file;
  }

  /**
   * Fails now, rather than on every save with nobody told, for a path that can never hold the
   * tokens: a directory, or a file in a directory that does not exist.
   */
  static void checkFile(File file) {
    File absolute = file.getAbsoluteFile();
    if (absolute.isDirectory()) {
      throw new IllegalArgumentException(
          "the token file is a directory: " + absolute + " (name a file in it, as tokens.json)");
    }
    File directory = absolute.getParentFile();
    if (directory == null || !directory.isDirectory()) {
      throw new IllegalArgumentException(
          "the token file's directory does not exist: "
              + directory
              + " (create it first, readable and writable by you alone)");
    }
  }

  @Override
  public @Nullable Tokens load() throws IOException {
    Stored stored = readStored();
    if (stored.corrupt != null) throw stored.corrupt;
    return stored.tokens;
  }

  /**
   * Reads the file. One that does not parse is returned as corrupt, not thrown, and may be
   * overwritten by a lease that loaded it; one that parses but cannot be decrypted keeps its
   * revision, and is unreadable until the next save outside a lease (a sign-in).
   */
  synchronized Stored readStored() throws IOException {
    io.deleteLeftovers(false);
    byte[] bytes = io.read();
    if (bytes == null) return new Stored(null, 0L, null);
    String value = ByteString.of(bytes).utf8();
    long revision;
    try {
      revision = codec.revision(value);
    } catch (IOException corrupt) {
      return new Stored(null, CORRUPT, corrupt);
    }
    try {
      return new Stored(codec.decode(value), revision, null);
    } catch (IOException unreadable) {
      return new Stored(null, revision, unreadable);
    }
  }

  @Override
  public void save(Tokens tokens) throws IOException {
    if (tokens == null) throw new NullPointerException("tokens == null");
    writeOutsideLease(tokens);
  }

  /**
   * Deletes the token file at once, without waiting for the lease: a process that holds it (or is
   * frozen holding it) must not keep tokens on disk after a sign-out. A refresh that holds the
   * lease meanwhile has its save refused by the revision check (in this process the two are
   * serialized on this store). It does not delete again under the lease afterwards: by then the
   * file may hold a later session's tokens (found by StateMachineStressTest).
   */
  @Override
  public void clear() throws IOException {
    write(null, 0L);
  }

  @Override
  public SharedTokenStore.Lease lease(long timeoutMillis) throws IOException {
    if (timeoutMillis < 0L) throw new IllegalArgumentException("timeoutMillis < 0");
    return FileLease.take(this, guard, timeoutMillis);
  }

  synchronized FileChannel openLockFile() throws IOException {
    return io.openLockFile();
  }

  /**
   * A save or clear takes the lease for as long as it writes, so that it lands between two
   * refreshes, never inside one. On the thread of a refresh that holds the lease, it writes at once
   * (a {@link RefreshApi} that signs out); the refresh's own save is then refused.
   */
  private void writeOutsideLease(@Nullable Tokens tokens) throws IOException {
    if (guard.heldByCurrentThread()) {
      write(tokens, revisionNow() + 1L);
      return;
    }
    SharedTokenStore.Lease lease = FileLease.take(this, guard, WRITE_WAIT_MILLIS);
    try {
      write(tokens, revisionNow() + 1L);
    } finally {
      lease.close();
    }
  }

  /** Writes {@code tokens} (or clears, for null) if the file is still at {@code revision}. */
  synchronized boolean writeIfRevision(@Nullable Tokens tokens, long revision) throws IOException {
    Stored now = readStored();
    if (now.revision != revision) return false;
    write(tokens, Math.max(now.revision, 0L) + 1L);
    return true;
  }

  private synchronized long revisionNow() throws IOException {
    return Math.max(readStored().revision, 0L);
  }

  private synchronized void write(@Nullable Tokens tokens, long revision) throws IOException {
    if (tokens == null) {
      io.delete();
      // A crash before a rename leaves the newest tokens in a temporary file: signed out means
      // gone.
      io.deleteLeftovers(true);
      return;
    }
    save(io, ByteString.encodeUtf8(codec.encode(tokens, revision)).toByteArray());
  }

  private static <T> void save(FileStoreOps<T> io, byte[] json) throws IOException {
    T temporary = io.createTemporary();
    try {
      io.write(temporary, json);
      io.replace(temporary);
    } finally {
      io.discard(temporary);
    }
  }

  @Override
  public String toString() {
    return "TokenStore.file(" + io + ")";
  }
}
