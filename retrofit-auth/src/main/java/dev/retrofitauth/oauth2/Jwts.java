package dev.retrofitauth.oauth2;

import com.squareup.moshi.JsonReader;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import okio.Buffer;
import okio.ByteString;

/** Reads claims from a JWT access token, without verifying its signature. */
public final class Jwts {
  private Jwts() {}

  /**
   * Returns the {@code exp} claim of {@code jwt} in milliseconds since the epoch, or {@link
   * Tokens#NO_EXPIRY} if {@code jwt} is not a JWT or has no valid {@code exp}. It never throws for
   * malformed input.
   *
   * <p>The signature is not verified: that is the resource server's job, and a client only uses the
   * expiry to refresh a little early. {@code exp} is in the server's clock; {@link
   * OAuth2RefreshApi} corrects it for the device's clock with the token response's {@code Date}.
   */
  public static long expiresAtMillis(String jwt) {
    if (jwt == null) throw new NullPointerException("jwt == null");
    int firstDot = jwt.indexOf('.');
    int secondDot = firstDot == -1 ? -1 : jwt.indexOf('.', firstDot + 1);
    if (secondDot == -1) return Tokens.NO_EXPIRY;
    ByteString payload = ByteString.decodeBase64(jwt.substring(firstDot + 1, secondDot));
    if (payload == null) return Tokens.NO_EXPIRY;
    try {
      JsonReader reader = JsonReader.of(new Buffer().write(payload));
      long exp = Tokens.NO_EXPIRY;
      reader.beginObject();
      while (reader.hasNext()) {
        if (reader.nextName().equals("exp") && reader.peek() == JsonReader.Token.NUMBER) {
          double seconds = reader.nextDouble();
          if (seconds >= 0 && seconds < Long.MAX_VALUE / 1000) exp = (long) (seconds * 1000);
        } else {
          reader.skipValue();
        }
      }
      reader.endObject();
      return exp;
    } catch (IOException | RuntimeException e) {
      return Tokens.NO_EXPIRY; // Malformed: no expiry known.
    }
  }
}
