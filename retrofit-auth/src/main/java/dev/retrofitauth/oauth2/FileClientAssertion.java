package dev.retrofitauth.oauth2;

import com.squareup.moshi.JsonReader;
import dev.retrofitauth.Clock;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.Locale;
import java.util.TimeZone;
import okio.Buffer;
import okio.ByteString;

/**
 * A client assertion in a file that the platform rotates: read on every use, its {@code exp}
 * checked against the clock, never sent once expired. Messages name the file, never its content.
 * Immutable and thread-safe.
 */
final class FileClientAssertion implements ClientAssertionSource {
  /** Platform tokens are a few kilobytes; more is not one. */
  private static final int MAX_BYTES = 64 * 1024;

  /** An assertion that expires sooner than this may expire on its way: it is not sent. */
  static final long MIN_REMAINING_MILLIS = 30_000L;

  private final File file;
  private final Clock clock;

  FileClientAssertion(File file, Clock clock) {
    this.file = file;
    this.clock = clock;
  }

  @Override
  public String assertion() throws IOException {
    String jwt = read().trim();
    if (jwt.isEmpty()) throw new IOException("the client assertion file " + file + " is empty");
    long expiresAt = expiresAtMillis(jwt);
    long now = clock.currentTimeMillis();
    if (expiresAt <= now + MIN_REMAINING_MILLIS) {
      throw new IOException(
          "the client assertion in "
              + file
              + " expires at "
              + utc(expiresAt)
              + ", in less than 30 s, and was not sent; the platform should have written a new one"
              + " by now");
    }
    return jwt;
  }

  private String read() throws IOException {
    // A FIFO or a device would block the refresh thread, or never end.
    if (file.exists() && !file.isFile()) {
      throw new IOException("the client assertion file " + file + " is not a regular file");
    }
    Buffer content = new Buffer();
    try (InputStream in = new FileInputStream(file)) {
      byte[] chunk = new byte[8192];
      for (int n; (n = in.read(chunk)) != -1; ) {
        content.write(chunk, 0, n);
        if (content.size() > MAX_BYTES) {
          throw new IOException(
              "the client assertion file " + file + " is larger than " + MAX_BYTES + " bytes");
        }
      }
    } catch (FileNotFoundException e) {
      throw new IOException(
          "no client assertion file at "
              + file
              + " (missing, or not readable): the platform writes it, check its configuration",
          e);
    }
    return content.readUtf8();
  }

  /** The JWT's {@code exp} in milliseconds; the signature is the server's to check. */
  private long expiresAtMillis(String jwt) throws IOException {
    String[] parts = jwt.split("\\.", -1);
    ByteString payload = parts.length == 3 ? ByteString.decodeBase64(parts[1]) : null;
    if (payload == null) throw notAJwt();
    try (JsonReader reader = JsonReader.of(new Buffer().write(payload))) {
      reader.beginObject();
      while (reader.hasNext()) {
        if (reader.nextName().equals("exp") && reader.peek() == JsonReader.Token.NUMBER) {
          return (long) (reader.nextDouble() * 1000L);
        }
        reader.skipValue();
      }
    } catch (IOException | RuntimeException e) {
      throw notAJwt();
    }
    throw new IOException(
        "the client assertion in " + file + " has no exp claim, so its expiry cannot be checked");
  }

  private IOException notAJwt() {
    return new IOException("the client assertion file " + file + " does not hold a JWT");
  }

  private static String utc(long millis) {
    SimpleDateFormat format = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss'Z'", Locale.ROOT);
    format.setTimeZone(TimeZone.getTimeZone("UTC"));
    return format.format(new Date(millis));
  }

  @Override
  public String toString() {
    return "ClientAssertionSource.fromFile(" + file + ")";
  }
}
