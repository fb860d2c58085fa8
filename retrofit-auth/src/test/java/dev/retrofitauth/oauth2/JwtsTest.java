package dev.retrofitauth.oauth2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.retrofitauth.Tokens;
import java.nio.charset.StandardCharsets;
import okio.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class JwtsTest {
  /** Returns an unsigned JWT with {@code payload}, base64url without padding as JWTs use. */
  static String jwt(String payload) {
    return base64Url("{\"alg\":\"none\"}") + "." + base64Url(payload) + ".sig";
  }

  private static String base64Url(String s) {
    return ByteString.encodeString(s, StandardCharsets.UTF_8).base64Url().replace("=", "");
  }

  @Test
  void readsExp() {
    assertEquals(
        1_700_000_123_000L, Jwts.expiresAtMillis(jwt("{\"sub\":\"a\",\"exp\":1700000123}")));
  }

  @Test
  void readsUrlSafeCharacters() {
    // "~~~" encodes to characters that differ between base64 and base64url.
    assertEquals(5_000L, Jwts.expiresAtMillis(jwt("{\"n\":\"~~~???\",\"exp\":5}")));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "opaque-token",
        "a.b",
        "a.!!!.c",
        "a..c",
      })
  void malformedTokensHaveNoExpiry(String token) {
    assertEquals(Tokens.NO_EXPIRY, Jwts.expiresAtMillis(token));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"sub\":\"a\"}",
        "{\"exp\":\"soon\"}",
        "{\"exp\":-5}",
        "[1,2]",
        "{\"exp\":1e300}",
        "{\"exp\":",
        "not json",
      })
  void payloadsWithoutUsableExpHaveNoExpiry(String payload) {
    assertEquals(Tokens.NO_EXPIRY, Jwts.expiresAtMillis(jwt(payload)));
  }
}
