package dev.retrofitauth.oauth2;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonEncodingException;
import com.squareup.moshi.JsonReader;
import dev.retrofitauth.Clock;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.Tokens;
import java.io.EOFException;
import java.io.IOException;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import okhttp3.Response;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * Reads a successful token response (RFC 6749 §5.1) into {@link Tokens}, of type Bearer or DPoP
 * (RFC 9449 §5). Immutable and thread-safe.
 */
final class TokenResponseReader {
  /** A JSON number (RFC 8259 §6), leading zeros allowed; not Java's NaN, Infinity or hex forms. */
  private static final Pattern JSON_NUMBER =
      Pattern.compile("-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?");

  private final Clock clock;

  TokenResponseReader(Clock clock) {
    this.clock = clock;
  }

  /**
   * Returns the tokens in {@code response}, a 2xx answer to a request sent at {@code sentAt}.
   *
   * @throws IOException if the body is not a usable token response, or reading it failed.
   */
  Tokens read(Response response, long sentAt) throws IOException {
    long receivedAt = clock.currentTimeMillis();
    String access = null;
    String refresh = null;
    String tokenType = null;
    long expiresIn = -1L;
    Buffer body = TokenEndpointClient.readBody(response);
    if (body == null) {
      throw new IOException(
          "the token response is larger than 1 MiB ("
              + TokenEndpointClient.MAX_BODY_BYTES
              + " bytes), the most this helper reads");
    }
    try {
      JsonReader reader = JsonReader.of(body);
      reader.beginObject();
      while (reader.hasNext()) {
        switch (reader.nextName()) {
          case "access_token":
            access = nextStringOrNull(reader);
            break;
          case "refresh_token":
            refresh = nextStringOrNull(reader);
            break;
          case "token_type":
            tokenType = nextStringOrNull(reader);
            break;
          case "expires_in":
            expiresIn = nextSecondsOrMinusOne(reader);
            break;
          default:
            reader.skipValue();
        }
      }
      reader.endObject();
    } catch (JsonDataException | JsonEncodingException | EOFException e) {
      // The parser's message is left out: it may quote the body, which holds tokens.
      String type = response.header("Content-Type");
      if (type != null && !type.toLowerCase(java.util.Locale.ROOT).contains("json")) {
        // A login page, a proxy's error page: say so, rather than what the JSON parser thought.
        String mediaType = type.split(";", 2)[0].trim();
        throw new IOException(
            "the token endpoint answered "
                + ServerText.sanitize(mediaType)
                + ", not JSON (HTTP "
                + response.code()
                + "): check the token endpoint's URL");
      }
      throw new IOException(
          "the token endpoint returned a malformed token response ("
              + e.getClass().getSimpleName()
              + ")");
    }
    if (access == null || access.isEmpty()) {
      throw new IOException("the token response has no access_token");
    }
    // RFC 6749 §5.1 and RFC 9449 §5: the type is case-insensitive. Absent, it is taken as Bearer.
    String type = Tokens.BEARER;
    if (tokenType != null && tokenType.equalsIgnoreCase(Tokens.DPOP)) {
      type = Tokens.DPOP;
    } else if (tokenType != null && !tokenType.equalsIgnoreCase(Tokens.BEARER)) {
      throw RefreshFailedException.permanent(
          "the token endpoint issued a token of an unsupported type: "
              + ServerText.sanitize(tokenType));
    }
    if (refresh != null && refresh.isEmpty()) refresh = null;
    long expiresAt;
    if (expiresIn >= 0L) {
      // Relative, so the device clock's error cancels out. Counted from when the request left,
      // which errs on the early side by one round trip. Both steps saturate: a huge expires_in
      // means "no expiry soon", never an expiry in the past.
      expiresAt = saturatedAdd(sentAt, TimeUnit.SECONDS.toMillis(expiresIn));
    } else {
      long exp = Jwts.expiresAtMillis(access);
      expiresAt =
          exp == Tokens.NO_EXPIRY
              ? Tokens.NO_EXPIRY
              : saturatedAdd(exp, clockSkew(response, receivedAt));
      if (expiresAt < 0L) expiresAt = Tokens.NO_EXPIRY;
    }
    try {
      return Tokens.of(access, refresh, expiresAt).withTokenType(type);
    } catch (IllegalArgumentException e) {
      throw new IOException(
          "the token response has a token that cannot be sent: " + e.getMessage());
    }
  }

  /**
   * Returns how far the device clock is ahead of the server's, from the response's {@code Date}, so
   * that the server's absolute times can be read in device time; 0 if there is no date.
   */
  private static long clockSkew(Response response, long receivedAt) {
    Date serverDate = response.headers().getDate("Date");
    return serverDate != null ? receivedAt - serverDate.getTime() : 0L;
  }

  private static @Nullable String nextStringOrNull(JsonReader reader) throws IOException {
    if (reader.peek() == JsonReader.Token.NULL) return reader.nextNull();
    if (reader.peek() != JsonReader.Token.STRING) throw new JsonDataException("expected a string");
    return reader.nextString();
  }

  /**
   * Reads {@code expires_in} in whole seconds, saturating at {@link Long#MAX_VALUE}; -1 if it is
   * null, negative or not a number. Some servers send a string, or a fraction. A value that does
   * not parse is ignored, not a failure: the server has already rotated the refresh token, and the
   * new one must reach the store.
   */
  private static long nextSecondsOrMinusOne(JsonReader reader) throws IOException {
    JsonReader.Token token = reader.peek();
    if (token != JsonReader.Token.NUMBER && token != JsonReader.Token.STRING) {
      reader.skipValue();
      return -1L;
    }
    String value = reader.nextString(); // A number's literal text, as the server wrote it.
    if (!JSON_NUMBER.matcher(value).matches()) return -1L;
    double seconds = Double.parseDouble(value);
    // The cast drops the fraction and saturates at Long.MAX_VALUE (JLS §5.1.3).
    return seconds >= 0 ? (long) seconds : -1L;
  }

  /** Returns {@code a + b}, or the nearest long if that overflows. */
  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    // Overflow if a and b have the same sign and the sum has the other one (Hacker's Delight 2-13).
    if (((a ^ sum) & (b ^ sum)) < 0) return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    return sum;
  }
}
