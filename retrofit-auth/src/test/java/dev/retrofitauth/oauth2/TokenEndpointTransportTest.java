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

/** How the helper talks to the token endpoint: redirects, body size, interrupts, client bugs. */
final class TokenEndpointTransportTest {
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

  private OAuth2RefreshApi.Builder builder() {
    return OAuth2RefreshApi.builder()
        .tokenEndpoint(server.url("/oauth/token").toString())
        .clientId("app")
        .clientSecret("app-secret");
  }

  @Test
  void redirectIsNotFollowedSoSecretsGoOnlyToTheConfiguredEndpoint() throws IOException {
    MockWebServer elsewhere = new MockWebServer();
    elsewhere.start();
    try {
      elsewhere.enqueue(json(200, "{\"access_token\":\"a\",\"refresh_token\":\"r\"}"));
      server.enqueue(
          new MockResponse()
              .setResponseCode(307)
              .setHeader("Location", elsewhere.url("/oauth/token").toString()));

      IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

      assertFalse(e instanceof RefreshFailedException);
      assertFalse(e instanceof RefreshRejectedException);
      assertEquals(
          "the token endpoint redirected (HTTP 307): this helper does not follow redirects, so"
              + " that the refresh token and client secret go only to the configured endpoint;"
              + " configure the final URL",
          e.getMessage());
      assertEquals(1, server.getRequestCount());
      assertEquals(0, elsewhere.getRequestCount());
    } finally {
      elsewhere.shutdown();
    }
  }

  /** OkHttp's own 503 handling parses {@code Retry-After} as an int and throws past execute(). */
  @Test
  void runtimeExceptionFromHttpClientIsTransientIoException() {
    server.enqueue(new MockResponse().setResponseCode(503).setHeader("Retry-After", "99999999999"));

    IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

    assertFalse(e instanceof RefreshFailedException);
    assertEquals(
        "the call to the token endpoint failed inside the HTTP client (NumberFormatException)",
        e.getMessage());
    assertInstanceOf(NumberFormatException.class, e.getCause());
  }
}
