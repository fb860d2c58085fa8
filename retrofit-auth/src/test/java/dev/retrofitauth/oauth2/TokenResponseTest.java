package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reading a 200 token response: once the server rotated, the tokens come back. */
final class TokenResponseTest {
  private static final Tokens CURRENT = Tokens.of("access-1", "refresh-1");

  private final MockWebServer server = new MockWebServer();
  private final AtomicLong now = new AtomicLong(1_000_000_000_000L);

  @BeforeEach
  void setUp() throws IOException {
    server.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
  }

  private Tokens refreshWith(String body) throws IOException {
    server.enqueue(json(200, body));
    return OAuth2RefreshApi.builder()
        .tokenEndpoint(server.url("/oauth/token").toString())
        .clientId("app")
        .clock(now::get)
        .build()
        .refresh(CURRENT);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "99999999999999999999",
        "9223372036854775807",
        "9223372036854775",
        "\"99999999999999999999\"",
        "1e300"
      })
  void hugeExpiresInSaturatesInsteadOfOverflowing(String expiresIn) throws IOException {
    Tokens tokens =
        refreshWith(
            "{\"access_token\":\"access-2\",\"refresh_token\":\"refresh-2\",\"expires_in\":"
                + expiresIn
                + "}");

    assertEquals(Tokens.of("access-2", "refresh-2", Long.MAX_VALUE), tokens);
  }

  @Test
  void fractionalExpiresInTakesWholeSeconds() throws IOException {
    Tokens tokens = refreshWith("{\"access_token\":\"access-2\",\"expires_in\":3600.5}");

    assertEquals(now.get() + 3_600_000L, tokens.expiresAtMillis());
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"3600s\"", "true", "{\"seconds\":3600}", "[3600]", "\"\"", "-5"})
  void expiresInThatDoesNotParseIsIgnored(String expiresIn) throws IOException {
    Tokens tokens =
        refreshWith(
            "{\"access_token\":\"access-2\",\"expires_in\":"
                + expiresIn
                + ",\"refresh_token\":\"refresh-2\"}");

    assertEquals(Tokens.of("access-2", "refresh-2"), tokens);
    assertFalse(tokens.hasExpiry());
  }

  @Test
  void expiresInThatDoesNotParseFallsBackToJwtExp() throws IOException {
    String jwt = JwtsTest.jwt("{\"exp\":" + (now.get() / 1000 + 300) + "}");

    Tokens tokens = refreshWith("{\"access_token\":\"" + jwt + "\",\"expires_in\":\"5 minutes\"}");

    assertEquals(now.get() + 300_000L, tokens.expiresAtMillis());
  }

  @ParameterizedTest
  @ValueSource(strings = {"{}", "{\"access_token\":42}", "{\"access_token\":null}"})
  void missingOrInvalidAccessTokenStillFails(String body) {
    IOException e = assertThrows(IOException.class, () -> refreshWith(body));

    assertFalse(e instanceof RefreshFailedException);
  }

  @Test
  void serverTextInMessageIsTruncatedAndEscaped() {
    // 10,000 characters with CR, LF and LINE SEPARATOR, written as JSON escapes.
    StringBuilder tokenType = new StringBuilder("mac\\r\\nX-Injected: yes\\u2028");
    for (int decoded = 21; decoded < 10_000; decoded += 2) tokenType.append("y\\n");

    RefreshFailedException e =
        assertThrows(
            RefreshFailedException.class,
            () -> refreshWith("{\"access_token\":\"a\",\"token_type\":\"" + tokenType + "\"}"));

    assertTrue(e.isPermanent());
    assertEquals(
        "the token endpoint issued a token of an unsupported type: "
            + "mac\\r\\nX-Injected: yes\\u2028"
            + "y\\ny\\ny\\ny\\ny\\ny\\ny\\ny\\ny\\ny\\ny\\ny\\n...",
        e.getMessage());
  }
}
