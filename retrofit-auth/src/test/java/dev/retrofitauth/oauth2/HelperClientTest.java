package dev.retrofitauth.oauth2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.AuthListener;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;

/**
 * The client the OAuth 2 helpers send with: the app's, with a bound on each call's total time, so
 * that an endpoint that sends its answer one byte every two seconds cannot hold a refresh or a
 * revocation for ever (OkHttp's read timeout never trips on it). From the security review: after 60
 * s such a revocation still ran, and {@code onRevokeFailed} never came.
 */
final class HelperClientTest {
  @Test
  void helpersCallsHaveATotalTimeLimitByDefault() {
    OkHttpClient derived = new TokenEndpointClient(new OkHttpClient()).client();
    assertEquals(TimeUnit.SECONDS.toMillis(30), derived.callTimeoutMillis());
    assertFalse(derived.followRedirects());
  }

  @Test
  void anAppsShorterCallTimeoutIsKeptAndALongerOneIsCut() {
    OkHttpClient shorter = new OkHttpClient.Builder().callTimeout(2, TimeUnit.SECONDS).build();
    assertEquals(2_000, new TokenEndpointClient(shorter).client().callTimeoutMillis());
    OkHttpClient longer = new OkHttpClient.Builder().callTimeout(5, TimeUnit.MINUTES).build();
    assertEquals(30_000, new TokenEndpointClient(longer).client().callTimeoutMillis());
  }

  @Test
  void aRevocationEndpointThatDribblesItsAnswerFailsWithinTheCallTimeout() throws Exception {
    try (MockWebServer server = new MockWebServer()) {
      server.enqueue(
          new MockResponse()
              .setResponseCode(400)
              .setBody("{\"error\":\"invalid_request\"}")
              .throttleBody(1, 2, TimeUnit.SECONDS));
      server.start();
      CompletableFuture<IOException> failed = new CompletableFuture<>();
      RefreshManager auth =
          RefreshManager.builder()
              .revokeOnSignOut(
                  OAuth2Revoker.builder()
                      .revocationEndpoint(server.url("/revoke").toString())
                      .clientId("app")
                      .client(new OkHttpClient.Builder().callTimeout(1, TimeUnit.SECONDS).build())
                      .build())
              .addListener(
                  new AuthListener() {
                    @Override
                    public void onRevokeFailed(IOException cause) {
                      failed.complete(cause);
                    }
                  })
              .build();
      auth.signIn(Tokens.of("a", "r"));
      auth.signOut();

      IOException cause = failed.get(20, TimeUnit.SECONDS);
      assertTrue(
          cause instanceof InterruptedIOException
              || cause.getCause() instanceof InterruptedIOException,
          String.valueOf(cause));
    }
  }
}
