package dev.retrofitauth.sample;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import okhttp3.HttpUrl;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;

/**
 * The demo API, on a free loopback port. It behaves like a real OAuth 2 resource and token server:
 * access tokens live a few seconds, refresh tokens rotate, and a refresh token presented twice is
 * rejected with {@code invalid_grant}.
 */
final class DemoServer implements AutoCloseable {
  static final long ACCESS_TOKEN_SECONDS = 5;

  private final MockWebServer server = new MockWebServer();
  private final Set<String> liveAccessTokens = ConcurrentHashMap.newKeySet();
  private final Set<String> liveRefreshTokens = ConcurrentHashMap.newKeySet();
  private final Set<String> usedRefreshTokens = ConcurrentHashMap.newKeySet();

  final AtomicInteger apiCalls = new AtomicInteger();
  final AtomicInteger unauthorized = new AtomicInteger();
  final AtomicInteger refreshes = new AtomicInteger();
  final AtomicInteger refreshTokensPresentedTwice = new AtomicInteger();

  /** Tokens issued to machine clients ({@code client_credentials}). */
  final AtomicInteger serviceTokens = new AtomicInteger();

  /** 401s that asked for a new DPoP nonce. */
  final AtomicInteger nonceChallenges = new AtomicInteger();

  private final Set<String> dpopTokens = ConcurrentHashMap.newKeySet();

  /** The DPoP nonce proofs must carry, or null when none is required. */
  volatile String dpopNonce;

  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger maxInFlight = new AtomicInteger();

  /** How long each API call takes on the server, to make concurrency visible. */
  volatile long apiLatencyMillis;

  private volatile CountDownLatch tokenEndpointGate = new CountDownLatch(0);

  /** The paths of API calls that succeeded, in the order they reached the server. */
  final List<String> served = new CopyOnWriteArrayList<>();

  DemoServer() throws IOException {
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            if (path.equals("/login")) return issueTokens();
            if (path.equals("/oauth/token")) {
              awaitQuietly(tokenEndpointGate);
              return refresh(request);
            }
            return api(request);
          }
        });
    server.start(InetAddress.getLoopbackAddress(), 0);
  }

  HttpUrl url() {
    return server.url("/");
  }

  /** Expires every access token now, as if their lifetime had passed. */
  void expireAccessTokens() {
    liveAccessTokens.clear();
  }

  /** Revokes every refresh token, as a server does when the user signs out elsewhere. */
  void revokeRefreshTokens() {
    liveRefreshTokens.clear();
  }

  /** Makes the token endpoint slow: it answers only after {@link #openTokenEndpoint()}. */
  void holdTokenEndpoint() {
    tokenEndpointGate = new CountDownLatch(1);
  }

  void openTokenEndpoint() {
    tokenEndpointGate.countDown();
  }

  void resetCounters() {
    apiCalls.set(0);
    unauthorized.set(0);
    refreshes.set(0);
    serviceTokens.set(0);
    nonceChallenges.set(0);
    maxInFlight.set(0);
    served.clear();
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private MockResponse issueTokens() {
    String access = "at-" + UUID.randomUUID();
    String refresh = "rt-" + UUID.randomUUID();
    liveAccessTokens.add(access);
    liveRefreshTokens.add(refresh);
    return json(
        200,
        "{\"access_token\":\""
            + access
            + "\",\"token_type\":\"Bearer\",\"expires_in\":"
            + ACCESS_TOKEN_SECONDS
            + ",\"refresh_token\":\""
            + refresh
            + "\"}");
  }

  private MockResponse refresh(RecordedRequest request) {
    String body = request.getBody().readUtf8();
    HttpUrl form = HttpUrl.get("http://x/?" + body);
    if ("client_credentials".equals(form.queryParameter("grant_type"))) {
      return serviceToken(request.getHeader("Authorization"), request.getHeader("DPoP") != null);
    }
    String presented = form.queryParameter("refresh_token");
    if (presented == null) return json(400, "{\"error\":\"invalid_request\"}");
    if (!usedRefreshTokens.add(presented)) refreshTokensPresentedTwice.incrementAndGet();
    if (!liveRefreshTokens.remove(presented)) return json(400, "{\"error\":\"invalid_grant\"}");
    refreshes.incrementAndGet();
    return issueTokens();
  }

  /** A machine token: no refresh token, for the one client this demo knows. */
  private MockResponse serviceToken(String authorization, boolean dpop) {
    if (!okhttp3.Credentials.basic("worker", "s3cret").equals(authorization)) {
      return json(401, "{\"error\":\"invalid_client\"}");
    }
    serviceTokens.incrementAndGet();
    String access = "st-" + UUID.randomUUID();
    liveAccessTokens.add(access);
    if (dpop) dpopTokens.add(access); // Bound to the key that signed the proof.
    return json(
        200,
        "{\"access_token\":\""
            + access
            + "\",\"token_type\":\""
            + (dpop ? "DPoP" : "Bearer")
            + "\",\"expires_in\":"
            + ACCESS_TOKEN_SECONDS
            + "}");
  }

  private MockResponse api(RecordedRequest request) {
    apiCalls.incrementAndGet();
    String authorization = request.getHeader("Authorization");
    if (authorization != null && authorization.startsWith("DPoP ")) return dpopApi(request);
    if (authorization == null
        || !authorization.startsWith("Bearer ")
        || !liveAccessTokens.contains(authorization.substring("Bearer ".length()))) {
      unauthorized.incrementAndGet();
      return json(401, "{\"error\":\"invalid_token\"}")
          .setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    }
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    try {
      // Simulated server work, so that calls overlap as they would on a real network.
      if (apiLatencyMillis > 0)
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(apiLatencyMillis));
      served.add(request.getPath());
    } finally {
      inFlight.decrementAndGet();
    }
    return json(200, "{\"path\":\"" + request.getPath() + "\"}");
  }

  /**
   * A DPoP-bound token must come with a proof that carries the current nonce. (A real server also
   * checks the proof's signature against its key; the library's tests do that with a JOSE library.)
   */
  private MockResponse dpopApi(RecordedRequest request) {
    String token = request.getHeader("Authorization").substring("DPoP ".length());
    String proof = request.getHeader("DPoP");
    if (proof == null || !dpopTokens.contains(token) || !liveAccessTokens.contains(token)) {
      unauthorized.incrementAndGet();
      return json(401, "{\"error\":\"invalid_token\"}")
          .setHeader("WWW-Authenticate", "DPoP error=\"invalid_token\"");
    }
    String nonce = dpopNonce;
    if (nonce != null && !proofPayload(proof).contains("\"nonce\":\"" + nonce + "\"")) {
      nonceChallenges.incrementAndGet();
      return json(401, "{\"error\":\"use_dpop_nonce\"}")
          .setHeader("WWW-Authenticate", "DPoP error=\"use_dpop_nonce\"")
          .setHeader("DPoP-Nonce", nonce);
    }
    served.add(request.getPath());
    return json(200, "{\"path\":\"" + request.getPath() + "\"}");
  }

  private static String proofPayload(String proof) {
    String[] parts = proof.split("\\.");
    if (parts.length != 3) return "";
    okio.ByteString payload = okio.ByteString.decodeBase64(parts[1]);
    return payload != null ? payload.utf8() : "";
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse()
        .setResponseCode(code)
        .setHeader("Content-Type", "application/json")
        .setBody(body);
  }

  @Override
  public void close() throws IOException {
    server.shutdown();
  }
}
