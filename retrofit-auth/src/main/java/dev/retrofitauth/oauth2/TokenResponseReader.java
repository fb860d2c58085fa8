package dev.retrofitauth.oauth2;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonEncodingException;
import com.squareup.moshi.JsonReader;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.io.EOFException;
import java.io.IOException;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import okhttp3.Response;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * Reads a successful token response (RFC 6749 §5.1) into {@link Tokens}. Immutable and thread-safe.
 */
final class TokenResponseReader {
  private final RefreshManager.Clock clock;

  TokenResponseReader(RefreshManager.Clock clock) {
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
      throw new IOException(
          "the token endpoint returned a malformed token response ("
              + e.getClass().getSimpleName()
              + ")");
    }
    if (access == null || access.isEmpty()) {
      throw new IOException("the token response has no access_token");
    }
    if (tokenType != null && !tokenType.equalsIgnoreCase("bearer")) {
      throw RefreshFailedException.permanent(
          "the token endpoint issued a token of an unsupported type: " + tokenType);
    }
    if (refresh != null && refresh.isEmpty()) refresh = null;
    long expiresAt;
    if (expiresIn >= 0L) {
      // Relative, so the device clock's error cancels out. Counted from when the request left,
      // which errs on the early side by one round trip.
      expiresAt = sentAt + TimeUnit.SECONDS.toMillis(expiresIn);
    } else {
      long exp = Jwts.expiresAtMillis(access);
      expiresAt =
          exp == Tokens.NO_EXPIRY ? Tokens.NO_EXPIRY : exp + clockSkew(response, receivedAt);
      if (expiresAt < 0L) expiresAt = Tokens.NO_EXPIRY;
    }
    try {
      return Tokens.of(access, refresh, expiresAt);
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

  /** Reads {@code expires_in}, which some servers send as a string. */
  private static long nextSecondsOrMinusOne(JsonReader reader) throws IOException {
    JsonReader.Token token = reader.peek();
    if (token == JsonReader.Token.NULL) {
      reader.nextNull();
      return -1L;
    }
    if (token != JsonReader.Token.NUMBER && token != JsonReader.Token.STRING) {
      throw new JsonDataException("expected a number");
    }
    try {
      long seconds = reader.nextLong();
      return seconds >= 0 ? seconds : -1L;
    } catch (NumberFormatException | JsonDataException e) {
      throw new JsonDataException("expected a number");
    }
  }
}
