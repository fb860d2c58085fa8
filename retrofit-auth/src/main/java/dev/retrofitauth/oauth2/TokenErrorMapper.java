package dev.retrofitauth.oauth2;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonReader;
import dev.retrofitauth.Clock;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.oauth2.TokenRequests.Grant;
import java.io.IOException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import okhttp3.Response;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * Maps a token endpoint's error response (RFC 6749 §5.2) to the exception that tells the manager
 * what to do next. Immutable and thread-safe.
 */
final class TokenErrorMapper {
  /**
   * The RFC 6749 §5.2 codes that say this client or this grant type will never work, whatever the
   * refresh token: retrying cannot help until the app's configuration changes. {@code
   * invalid_request} is not one: a proxy or a server having a bad day can cause it.
   */
  private static final Set<String> CONFIGURATION_ERRORS =
      Collections.unmodifiableSet(
          new HashSet<>(
              Arrays.asList(
                  "invalid_client",
                  "unauthorized_client",
                  "unsupported_grant_type",
                  "invalid_scope")));

  private final Clock clock;

  TokenErrorMapper(Clock clock) {
    this.clock = clock;
  }

  /**
   * Returns the exception for {@code response}, which is not a 2xx, to a request of {@code grant}.
   * {@code invalid_grant} depends on the grant: a rejected refresh token ends the session, and a
   * rejected JWT bearer assertion will not get better when it is signed again; for {@code
   * client_credentials}, which has no grant to reject, it is only an odd server. A token exchange
   * (RFC 8693) whose subject token, actor token or target the server refuses will not get better
   * either: {@code invalid_grant}, {@code invalid_request} and {@code invalid_target} are
   * permanent.
   *
   * @param error the {@code error} of the body, which the caller has read with {@link
   *     #readErrorCode}, or null.
   */
  IOException toException(Response response, Grant grant, @Nullable String error) {
    int code = response.code();
    if ("invalid_grant".equals(error) && grant == Grant.REFRESH_TOKEN) {
      return new RefreshRejectedException(
          "the token endpoint rejected the refresh token (HTTP " + code + ", invalid_grant)");
    }
    if ("invalid_grant".equals(error) && grant == Grant.JWT_BEARER) {
      return RefreshFailedException.permanent(
          "the token endpoint rejected the assertion (HTTP "
              + code
              + ", invalid_grant): check its issuer, subject, audience, key id and key, and the"
              + " clock");
    }
    if ("invalid_grant".equals(error) && grant == Grant.TOKEN_EXCHANGE) {
      return RefreshFailedException.permanent(
          "the token endpoint rejected the subject token (HTTP "
              + code
              + ", invalid_grant): check that it is valid, of its configured type, and"
              + " accepted for this exchange");
    }
    String message = "the token endpoint answered HTTP " + code;
    if (code == 408 || code == 429 || code >= 500) {
      long retryAfter = retryAfterMillis(response);
      if (retryAfter > 0L) {
        return RefreshFailedException.retryAfter(
            message + ", retry after " + retryAfter + " ms", retryAfter, TimeUnit.MILLISECONDS);
      }
      return new IOException(message);
    }
    String detail = "HTTP " + code + (error != null ? ", " + ServerText.sanitize(error) : "");
    if (error != null && CONFIGURATION_ERRORS.contains(error)) {
      return RefreshFailedException.permanent(
          "the token endpoint refused the client's request ("
              + detail
              + "): check the client id, secret, authentication method, grant type and scope");
    }
    if (grant == Grant.TOKEN_EXCHANGE
        && ("invalid_request".equals(error) || "invalid_target".equals(error))) {
      // RFC 8693 §2.2.2: a subject or actor token the server will not accept, or an audience or
      // resource it will not issue for. Asking again with the same tokens and targets cannot help.
      return RefreshFailedException.permanent(
          "the token endpoint refused the token exchange ("
              + detail
              + "): check the subject and actor tokens and their types, the audiences, resources"
              + " and requested token type");
    }
    // Anything else may pass: invalid_request, a proxy's HTML 403, a 404 while the server is
    // redeployed. The manager backs off and tries again.
    return new IOException("the token endpoint answered " + detail);
  }

  /**
   * Returns the delay the server asked for, in milliseconds, or 0. A delay too large for a {@code
   * long} saturates to {@link Long#MAX_VALUE}: passing it on is safe, because the manager caps it.
   */
  private long retryAfterMillis(Response response) {
    String value = response.header("Retry-After");
    if (value == null) return 0L;
    long seconds = parseSeconds(value.trim());
    if (seconds >= 0L) return TimeUnit.SECONDS.toMillis(seconds); // Saturates.
    Date date = response.headers().getDate("Retry-After");
    if (date == null) return 0L;
    // An HTTP date is in the server's clock: measure it from the server's Date when it has one.
    Date serverNow = response.headers().getDate("Date");
    long now = serverNow != null ? serverNow.getTime() : clock.currentTimeMillis();
    return Math.max(0L, date.getTime() - now);
  }

  /** Parses RFC 9110's {@code delay-seconds}, saturating at {@link Long#MAX_VALUE}; -1 if not. */
  private static long parseSeconds(String value) {
    if (value.isEmpty()) return -1L;
    long seconds = 0L;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') return -1L;
      int digit = c - '0';
      // Once saturated it stays so, and the loop goes on to check that the rest are digits.
      seconds = seconds > (Long.MAX_VALUE - digit) / 10 ? Long.MAX_VALUE : seconds * 10 + digit;
    }
    return seconds;
  }

  /** Returns the {@code error} of an error response's JSON body, or null. */
  static @Nullable String readErrorCode(Response response) throws IOException {
    Buffer body = TokenEndpointClient.readBody(response);
    if (body == null) return null; // Too large to be an OAuth error: go by the status code.
    try {
      JsonReader reader = JsonReader.of(body);
      String error = null;
      reader.beginObject();
      while (reader.hasNext()) {
        if (reader.nextName().equals("error") && reader.peek() == JsonReader.Token.STRING) {
          error = reader.nextString();
        } else {
          reader.skipValue();
        }
      }
      reader.endObject();
      return error;
    } catch (IOException | JsonDataException notJson) {
      // Only a parse error: the body is in memory, so the I/O is over.
      return null;
    }
  }
}
