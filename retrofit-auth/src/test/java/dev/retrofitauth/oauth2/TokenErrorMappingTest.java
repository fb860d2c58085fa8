package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Which failures are permanent: only the RFC 6749 §5.2 codes that say this client or grant will
 * never work. Everything else is transient, so the manager backs off and tries again.
 */
final class TokenErrorMappingTest {
  private static final Tokens CURRENT = Tokens.of("access-1", "refresh-1");

  private final MockWebServer server = new MockWebServer();

  @BeforeEach
  void setUp() throws IOException {
    server.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
  }

  private IOException refreshFails(MockResponse response) {
    server.enqueue(response);
    OAuth2RefreshApi api =
        OAuth2RefreshApi.builder()
            .tokenEndpoint(server.url("/oauth/token").toString())
            .clientId("app")
            .build();
    return assertThrows(IOException.class, () -> api.refresh(CURRENT));
  }

  private static void assertTransient(IOException e) {
    assertFalse(e instanceof RefreshFailedException, e.toString());
    assertFalse(e instanceof RefreshRejectedException, e.toString());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "400 | {\"error\":\"invalid_request\"}    | HTTP 400, invalid_request",
        "400 | {\"error\":\"server_overloaded\"}  | HTTP 400, server_overloaded",
        "401 | {\"error\":\"invalid_request\"}    | HTTP 401, invalid_request",
      })
  void errorCodesOtherThanClientErrorsAreTransient(int code, String body, String detail) {
    IOException e = refreshFails(json(code, body));

    assertTransient(e);
    assertEquals("the token endpoint answered " + detail, e.getMessage());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "403 | <html><body>Forbidden by proxy</body></html>",
        "404 | ''",
        "400 | {}",
        "401 | ''",
        "418 | {\"error\":42}",
      })
  void clientErrorWithoutOAuthErrorIsTransient(int code, String body) {
    IOException e = refreshFails(new MockResponse().setResponseCode(code).setBody(body));

    assertTransient(e);
    assertEquals("the token endpoint answered HTTP " + code, e.getMessage());
  }

  @Test
  void errorCodeInMessageIsEscaped() {
    IOException e = refreshFails(json(400, "{\"error\":\"bad\\r\\nINFO forged log line\"}"));

    assertTransient(e);
    assertEquals(
        "the token endpoint answered HTTP 400, bad\\r\\nINFO forged log line", e.getMessage());
  }

  @Test
  void retryAfterBeyondLongSaturates() {
    IOException e =
        refreshFails(
            new MockResponse()
                .setResponseCode(429)
                .setHeader("Retry-After", "99999999999999999999"));

    RefreshFailedException failed = assertInstanceOf(RefreshFailedException.class, e);
    assertFalse(failed.isPermanent());
    assertEquals(Long.MAX_VALUE, failed.retryAfterMillis());
    assertEquals(
        "the token endpoint answered HTTP 429, retry after 9223372036854775807 ms", e.getMessage());
  }

  @Test
  void retryAfterOfManySecondsIsPassedOn() {
    IOException e =
        refreshFails(
            new MockResponse().setResponseCode(429).setHeader("Retry-After", "99999999999"));

    assertEquals(
        99_999_999_999_000L, assertInstanceOf(RefreshFailedException.class, e).retryAfterMillis());
  }
}
