package dev.retrofitauth;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonEncodingException;
import com.squareup.moshi.JsonReader;
import com.squareup.moshi.JsonWriter;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * Keeps tokens in one JSON file. Each save writes a new file that only its owner may read, then
 * renames it over the old one, so that a crash leaves either the old tokens or the new ones, never
 * half of either. It refuses a token file that is a symbolic link or that belongs to another user.
 *
 * <p>The file system work is in {@link FileStoreIo}; this class owns the format and the lock.
 */
final class FileTokenStore implements TokenStore {
  private static final int VERSION = 1;

  private final FileStoreIo<?> io;

  FileTokenStore(FileStoreIo<?> io) {
    this.io = io;
  }

  /** Uses {@code java.nio.file} where it exists, so Android 21 to 25 never load it. */
  static FileTokenStore create(File file) {
    if (FileStoreNio.isAvailable()) return new FileTokenStore(FileStoreNio.create(file));
    return new FileTokenStore(new FileStoreLegacy(file));
  }

  @Override
  public synchronized @Nullable Tokens load() throws IOException {
    io.deleteLeftovers(false);
    byte[] bytes = io.read();
    if (bytes == null) return null;
    try {
      return read(JsonReader.of(new Buffer().write(bytes)));
    } catch (JsonDataException
        | JsonEncodingException
        | EOFException
        | IllegalArgumentException e) {
      // No cause: a parser's message may quote the file, and the file holds tokens.
      throw new IOException(
          "the token file is corrupt or truncated and reads as no tokens until the next save: "
              + io
              + " ("
              + e.getClass().getSimpleName()
              + ")");
    }
  }

  private static @Nullable Tokens read(JsonReader reader) throws IOException {
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
  public synchronized void save(Tokens tokens) throws IOException {
    if (tokens == null) throw new NullPointerException("tokens == null");
    Buffer json = new Buffer();
    write(JsonWriter.of(json), tokens);
    save(io, json.readByteArray());
  }

  private static <T> void save(FileStoreIo<T> io, byte[] json) throws IOException {
    T temporary = io.createTemporary();
    try {
      io.write(temporary, json);
      io.replace(temporary);
    } finally {
      io.discard(temporary);
    }
  }

  private static void write(JsonWriter writer, Tokens tokens) throws IOException {
    writer.beginObject();
    writer.name("version").value(VERSION);
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
  public synchronized void clear() throws IOException {
    io.delete();
    // A crash before a rename leaves the newest tokens in a temporary file: signed out means gone.
    io.deleteLeftovers(true);
  }

  @Override
  public String toString() {
    return "TokenStore.file(" + io + ")";
  }
}
