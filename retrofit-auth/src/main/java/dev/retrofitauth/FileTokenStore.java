package dev.retrofitauth;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonEncodingException;
import com.squareup.moshi.JsonReader;
import com.squareup.moshi.JsonWriter;
import java.io.EOFException;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import okio.Buffer;
import okio.BufferedSource;
import okio.Okio;
import org.jspecify.annotations.Nullable;

/**
 * Keeps tokens in one JSON file. Each save writes a new file that only its owner may read, then
 * renames it over the old one, so that a crash leaves either the old tokens or the new ones, never
 * half of either. It refuses to read or write through a symbolic link.
 */
final class FileTokenStore implements TokenStore {
  private static final int VERSION = 1;

  private final File file;

  /** Runs between writing the temporary file and renaming it; tests use it to crash there. */
  Runnable beforeRename = () -> {};

  FileTokenStore(File file) {
    this.file = file.getAbsoluteFile();
  }

  @Override
  public synchronized @Nullable Tokens load() throws IOException {
    checkNotSymlink();
    if (!file.exists()) return null;
    try (BufferedSource source = Okio.buffer(Okio.source(file))) {
      return read(JsonReader.of(source));
    } catch (JsonDataException
        | JsonEncodingException
        | EOFException
        | IllegalArgumentException e) {
      // No cause: a parser's message may quote the file, and the file holds tokens.
      throw new IOException(
          "the token file is corrupt or truncated and reads as no tokens until the next save: "
              + file
              + " ("
              + e.getClass().getSimpleName()
              + ")");
    }
  }

  private static @Nullable Tokens read(JsonReader reader) throws IOException {
    String access = null;
    String refresh = null;
    long expiresAt = Tokens.NO_EXPIRY;
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
        default:
          reader.skipValue();
      }
    }
    reader.endObject();
    if (reader.peek() != JsonReader.Token.END_DOCUMENT)
      throw new JsonDataException("trailing data");
    if (version != VERSION) throw new JsonDataException("unknown version");
    if (access == null) throw new JsonDataException("no access_token");
    return Tokens.of(access, refresh, expiresAt);
  }

  @Override
  public synchronized void save(Tokens tokens) throws IOException {
    if (tokens == null) throw new NullPointerException("tokens == null");
    checkNotSymlink();
    File directory = file.getParentFile();
    if (directory == null || !directory.isDirectory()) {
      throw new IOException("the token file's directory does not exist: " + directory);
    }
    File temporary = File.createTempFile(file.getName() + ".", ".tmp", directory);
    try {
      // Owner-only before a single byte of a token is written.
      if (!restrictToOwner(temporary)) {
        throw new IOException(
            "could not make the token file readable by its owner only: " + temporary);
      }
      Buffer json = new Buffer();
      write(JsonWriter.of(json), tokens);
      try (FileOutputStream out = new FileOutputStream(temporary)) {
        json.writeTo(out);
        out.getFD().sync();
      }
      beforeRename.run();
      if (!temporary.renameTo(file)) {
        throw new IOException("could not replace the token file: " + file);
      }
    } finally {
      if (temporary.exists() && !temporary.delete()) temporary.deleteOnExit();
    }
  }

  private static void write(JsonWriter writer, Tokens tokens) throws IOException {
    writer.beginObject();
    writer.name("version").value(VERSION);
    writer.name("access_token").value(tokens.accessToken());
    String refresh = tokens.refreshToken();
    if (refresh != null) writer.name("refresh_token").value(refresh);
    if (tokens.hasExpiry()) writer.name("expires_at").value(tokens.expiresAtMillis());
    writer.endObject();
    writer.close();
  }

  @Override
  public synchronized void clear() throws IOException {
    checkNotSymlink();
    if (file.exists() && !file.delete()) {
      throw new IOException("could not delete the token file: " + file);
    }
  }

  private static boolean restrictToOwner(File file) {
    return file.setReadable(false, false)
        && file.setReadable(true, true)
        && file.setWritable(false, false)
        && file.setWritable(true, true)
        && file.setExecutable(false, false);
  }

  /** Fails if the token file is a symbolic link. java.nio.file is not on Android 21. */
  private void checkNotSymlink() throws IOException {
    File parent = file.getParentFile();
    if (parent == null) return;
    File inCanonicalParent = new File(parent.getCanonicalFile(), file.getName());
    if (!inCanonicalParent.getCanonicalFile().equals(inCanonicalParent)) {
      throw new IOException("the token file is a symbolic link, which is refused: " + file);
    }
  }

  @Override
  public String toString() {
    return "TokenStore.file(" + file + ")";
  }
}
