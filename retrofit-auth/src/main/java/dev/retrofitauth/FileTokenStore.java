package dev.retrofitauth;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonEncodingException;
import com.squareup.moshi.JsonReader;
import com.squareup.moshi.JsonWriter;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.TimeUnit;
import okio.Buffer;
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
  private static final int VERSION = 1;

  /** The revision of a lease that has not loaded yet. */
  static final long NOT_LOADED = Long.MIN_VALUE;

  /** The revision of a file that does not parse: a lease that loaded it may overwrite it. */
  private static final long CORRUPT = -1L;

  /** How long a save or clear outside a lease waits for another process's refresh to end. */
  private static final long WRITE_WAIT_MILLIS = TimeUnit.SECONDS.toMillis(30);

  private final FileStoreOps<?> io;
  private final FileLease.Guard guard;

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
    this.io = io;
    this.guard = FileLease.guard(io.identity());
  }

  /** Uses {@code java.nio.file} where it exists, so Android 21 to 25 never load it. */
  static FileTokenStore create(File file) {
    if (FileStoreNio.isAvailable()) return new FileTokenStore(FileStoreNio.create(file));
    return new FileTokenStore(new FileStoreJavaIo(file));
  }

  @Override
  public @Nullable Tokens load() throws IOException {
    Stored stored = readStored();
    if (stored.corrupt != null) throw stored.corrupt;
    return stored.tokens;
  }

  /** Reads the file; one that does not parse is returned as corrupt, not thrown. */
  synchronized Stored readStored() throws IOException {
    io.deleteLeftovers(false);
    byte[] bytes = io.read();
    if (bytes == null) return new Stored(null, 0L, null);
    long[] revision = {0L};
    try {
      return new Stored(
          read(JsonReader.of(new Buffer().write(bytes)), revision), revision[0], null);
    } catch (JsonDataException
        | JsonEncodingException
        | EOFException
        | IllegalArgumentException e) {
      // No cause: a parser's message may quote the file, and the file holds tokens.
      IOException corrupt =
          new IOException(
              "the token file is corrupt or truncated and reads as no tokens until the next save: "
                  + io
                  + " ("
                  + e.getClass().getSimpleName()
                  + ")");
      return new Stored(null, CORRUPT, corrupt);
    }
  }

  private static Tokens read(JsonReader reader, long[] revision) throws IOException {
    String access = null;
    String refresh = null;
    long expiresAt = Tokens.NO_EXPIRY;
    String tokenType = Tokens.BEARER;
    int version = -1;
    reader.beginObject();
    while (reader.hasNext()) {
      switch (reader.nextName()) {
        case "version":
          version = reader.nextInt();
          break;
        case "revision":
          revision[0] = reader.nextLong();
          break;
        case "access_token":
          access = reader.nextString();
          break;
        case "refresh_token":
          refresh =
              reader.peek() == JsonReader.Token.NULL
                  ? reader.<String>nextNull()
                  : reader.nextString();
          break;
        case "expires_at":
          expiresAt = reader.nextLong();
          break;
        case "token_type":
          tokenType = reader.nextString();
          break;
        default:
          reader.skipValue();
      }
    }
    reader.endObject();
    if (reader.peek() != JsonReader.Token.END_DOCUMENT)
      throw new JsonDataException("trailing data");
    if (version != VERSION) throw new JsonDataException("unknown version");
    if (access == null) throw new JsonDataException("no access_token");
    return Tokens.of(access, refresh, expiresAt).withTokenType(tokenType);
  }

  @Override
  public void save(Tokens tokens) throws IOException {
    if (tokens == null) throw new NullPointerException("tokens == null");
    writeOutsideLease(tokens);
  }

  @Override
  public void clear() throws IOException {
    writeOutsideLease(null);
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
    Buffer json = new Buffer();
    write(JsonWriter.of(json), tokens, revision);
    save(io, json.readByteArray());
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

  private static void write(JsonWriter writer, Tokens tokens, long revision) throws IOException {
    writer.beginObject();
    writer.name("version").value(VERSION);
    writer.name("revision").value(revision);
    writer.name("access_token").value(tokens.accessToken());
    String refresh = tokens.refreshToken();
    if (refresh != null) writer.name("refresh_token").value(refresh);
    if (tokens.hasExpiry()) writer.name("expires_at").value(tokens.expiresAtMillis());
    // Only when it is not the default, so that files stay readable by older versions.
    if (!tokens.tokenType().equals(Tokens.BEARER)) {
      writer.name("token_type").value(tokens.tokenType());
    }
    writer.endObject();
    writer.close();
  }

  @Override
  public String toString() {
    return "TokenStore.file(" + io + ")";
  }
}
