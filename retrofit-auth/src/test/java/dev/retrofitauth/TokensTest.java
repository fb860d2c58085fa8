package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

final class TokensTest {
  @Test
  void toStringShowsNoToken() {
    Tokens tokens = Tokens.of("canary-access", "canary-refresh", 42L);

    assertEquals(
        "Tokens{accessToken=<redacted>, refreshToken=<redacted>, expiresAtMillis=42}",
        tokens.toString());
    assertEquals(
        "Tokens{accessToken=<redacted>, refreshToken=none, expiresAtMillis=unknown}",
        Tokens.of("canary-access").toString());
  }

  @Test
  void valueSemantics() {
    assertEquals(Tokens.of("a", "r", 1L), Tokens.of("a", "r", 1L));
    assertEquals(Tokens.of("a", "r", 1L).hashCode(), Tokens.of("a", "r", 1L).hashCode());
    assertNotEquals(Tokens.of("a", "r", 1L), Tokens.of("a", "r", 2L));
    assertNotEquals(Tokens.of("a", "r"), Tokens.of("a"));
    assertEquals(Tokens.of("a", "r2", 5L), Tokens.of("a", "r", 5L).withRefreshToken("r2"));
    assertEquals(Tokens.of("a", "r", 7L), Tokens.of("a", "r").withExpiresAtMillis(7L));
    assertTrue(Tokens.of("a", null, 0L).hasExpiry());
    assertFalse(Tokens.of("a").hasExpiry());
  }

  @Test
  void instantOverload() {
    assertEquals(Tokens.of("a", "r", 1_500L), Tokens.of("a", "r", Instant.ofEpochMilli(1_500L)));
    assertEquals(Tokens.of("a", "r"), Tokens.of("a", "r", (Instant) null));
  }

  @Test
  void badInputFailsWithRuleAndNoToken() {
    assertEquals(
        "accessToken == null",
        assertThrows(NullPointerException.class, () -> Tokens.of(null)).getMessage());
    assertEquals(
        "accessToken is empty",
        assertThrows(IllegalArgumentException.class, () -> Tokens.of("")).getMessage());
    assertEquals(
        "refreshToken is empty (pass null when there is none)",
        assertThrows(IllegalArgumentException.class, () -> Tokens.of("a", "")).getMessage());
    assertEquals(
        "accessToken has a character that is not printable ASCII at index 6",
        assertThrows(IllegalArgumentException.class, () -> Tokens.of("secret\nX-Injected: 1"))
            .getMessage());
    assertEquals(
        "refreshToken has a character that is not printable ASCII at index 3",
        assertThrows(IllegalArgumentException.class, () -> Tokens.of("a", "sec ret")).getMessage());
    assertEquals(
        "expiresAtMillis < 0: -5 (use Tokens.NO_EXPIRY when unknown)",
        assertThrows(IllegalArgumentException.class, () -> Tokens.of("a", "r", -5L)).getMessage());
  }
}
