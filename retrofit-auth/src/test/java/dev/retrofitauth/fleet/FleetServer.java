package dev.retrofitauth.fleet;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.HttpUrl;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;

/**
 * One real HTTP server for a fleet of worker processes: an OAuth 2 token endpoint that rotates
 * refresh tokens and ends the session when one is presented twice (as Keycloak, Auth0 and Okta do),
 * and an API that answers 200 to the current access token only.
 *
 * <p>mock-oauth2-server rotates refresh tokens but keeps accepting the old ones, so it cannot show
 * a refresh token presented twice; this server counts every presentation.
 */
public final class FleetServer implements AutoCloseable {
  private final MockWebServer server = new MockWebServer();

  // Guarded by this.
  private String accessToken;
  private String refreshToken;
  private final Set<String> usedRefreshTokens = new HashSet<>();
  private boolean sessionEnded;
  private int issued;
  private int refreshes;
  private int reusedRefreshTokens;
  private int clientCredentialsGrants;
  private int apiFailures;
  private CountDownLatch hold = new CountDownLatch(0);
  private boolean holdNext;
  private final CountDownLatch held = new CountDownLatch(1);
  private String heldWorker;

  public FleetServer(String accessToken, String refreshToken) throws IOException {
    this.accessToken = accessToken;
    this.refreshToken = refreshToken;
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            String path = request.getPath() == null ? "" : request.getPath();
            if (path.startsWith("/token")) return token(request);
            return api(request.getHeader("Authorization"));
          }
        });
    server.start();
  }

  public HttpUrl url(String path) {
    return server.url(path);
  }

  /** The current access token stops working: the next call of every worker gets a 401. */
  public synchronized void expireAccessToken() {
    accessToken = "expired-" + issued;
  }

  /**
   * Holds the next refresh request open, unanswered, until {@link #releaseHeld()}; it then fails
   * with a 503 and changes nothing, as if its client had gone away before the server processed it.
   */
  public synchronized void holdNextRefresh() {
    holdNext = true;
    hold = new CountDownLatch(1);
  }

  /** Waits for the held refresh request; returns the worker that sent it. */
  public String awaitHeld() throws InterruptedException {
    if (!held.await(60, TimeUnit.SECONDS)) throw new AssertionError("no refresh was held");
    synchronized (this) {
      return heldWorker;
    }
  }

  public void releaseHeld() {
    CountDownLatch latch;
    synchronized (this) {
      latch = hold;
    }
    latch.countDown();
  }

  public synchronized int refreshes() {
    return refreshes;
  }

  public synchronized int reusedRefreshTokens() {
    return reusedRefreshTokens;
  }

  public synchronized int clientCredentialsGrants() {
    return clientCredentialsGrants;
  }

  public synchronized boolean sessionEnded() {
    return sessionEnded;
  }

  public synchronized int apiFailures() {
    return apiFailures;
  }

  private MockResponse token(RecordedRequest request) throws InterruptedException {
    String form = request.getBody().readUtf8();
    CountDownLatch wait = null;
    synchronized (this) {
      if (holdNext && form.contains("grant_type=refresh_token")) {
        holdNext = false;
        wait = hold;
        heldWorker = request.getHeader("X-Fleet-Worker");
        held.countDown();
      }
    }
    if (wait != null) {
      if (!wait.await(60, TimeUnit.SECONDS))
        throw new AssertionError("held refresh never released");
      return new MockResponse().setResponseCode(503); // Its client is gone; nothing changed.
    }
    synchronized (this) {
      if (form.contains("grant_type=client_credentials")) {
        clientCredentialsGrants++;
        accessToken = "machine-" + ++issued;
        return tokenResponse(accessToken, null);
      }
      String presented = formValue(form, "refresh_token");
      if (sessionEnded || presented == null) return invalidGrant();
      if (usedRefreshTokens.contains(presented)) {
        reusedRefreshTokens++;
        sessionEnded = true; // Reuse detection: the whole session ends.
        accessToken = "ended";
        return invalidGrant();
      }
      if (!presented.equals(refreshToken)) return invalidGrant();
      usedRefreshTokens.add(presented);
      refreshes++;
      issued++;
      accessToken = "access-" + issued;
      refreshToken = "refresh-" + issued;
      return tokenResponse(accessToken, refreshToken);
    }
  }

  private synchronized MockResponse api(String authorization) {
    if (("Bearer " + accessToken).equals(authorization)) {
      return new MockResponse().setBody("ok");
    }
    if (sessionEnded) apiFailures++;
    return new MockResponse().setResponseCode(401);
  }

  private static MockResponse tokenResponse(String access, String refresh) {
    String json =
        "{\"access_token\":\""
            + access
            + "\",\"token_type\":\"Bearer\",\"expires_in\":3600"
            + (refresh != null ? ",\"refresh_token\":\"" + refresh + "\"" : "")
            + "}";
    return new MockResponse().setHeader("Content-Type", "application/json").setBody(json);
  }

  private static MockResponse invalidGrant() {
    return new MockResponse()
        .setResponseCode(400)
        .setHeader("Content-Type", "application/json")
        .setBody("{\"error\":\"invalid_grant\"}");
  }

  private static String formValue(String form, String name) {
    for (String pair : form.split("&")) {
      int equals = pair.indexOf('=');
      if (equals > 0 && pair.substring(0, equals).equals(name)) {
        return java.net.URLDecoder.decode(
            pair.substring(equals + 1), java.nio.charset.StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    releaseHeld();
    server.shutdown();
  }
}
