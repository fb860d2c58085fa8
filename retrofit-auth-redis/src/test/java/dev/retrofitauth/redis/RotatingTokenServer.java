package dev.retrofitauth.redis;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;

/**
 * An API and a token endpoint on one real HTTP server. The token endpoint rotates the refresh token
 * on every refresh and, like Keycloak or Auth0 with reuse detection, ends the session when a
 * refresh token is presented twice. The API accepts only the newest access token, and none after
 * {@link #expire()}. A test can hold token requests at a gate.
 */
final class RotatingTokenServer implements AutoCloseable {
  final MockWebServer server = new MockWebServer();
  final AtomicInteger tokenRequests = new AtomicInteger();
  final AtomicInteger reusedRefreshTokens = new AtomicInteger();
  private final Set<String> usedRefreshTokens = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private int generation; // Guarded by lock.
  private boolean accessValid = true; // Guarded by lock.
  private boolean revoked; // Guarded by lock.
  private volatile CountDownLatch tokenRequestArrived = new CountDownLatch(1);
  private volatile CountDownLatch gate = new CountDownLatch(0);

  RotatingTokenServer() throws IOException {
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            if ("/token".equals(request.getPath())) return token(request.getBody().readUtf8());
            return api(String.valueOf(request.getHeader("Authorization")));
          }
        });
    server.start();
  }

  String access() {
    synchronized (lock) {
      return "access-" + generation;
    }
  }

  String refresh() {
    synchronized (lock) {
      return "refresh-" + generation;
    }
  }

  /** The current access token expires: the API answers 401 until the next refresh. */
  void expire() {
    synchronized (lock) {
      accessValid = false;
    }
  }

  /** Token requests wait until {@link #openGate()}; {@link #awaitTokenRequest()} sees one. */
  void closeGate() {
    tokenRequestArrived = new CountDownLatch(1);
    gate = new CountDownLatch(1);
  }

  void openGate() {
    gate.countDown();
  }

  void awaitTokenRequest() throws InterruptedException {
    if (!tokenRequestArrived.await(30, TimeUnit.SECONDS)) {
      throw new AssertionError("no token request arrived");
    }
  }

  private MockResponse token(String refreshToken) throws InterruptedException {
    tokenRequests.incrementAndGet();
    tokenRequestArrived.countDown();
    if (!gate.await(30, TimeUnit.SECONDS)) throw new AssertionError("the gate never opened");
    synchronized (lock) {
      if (!usedRefreshTokens.add(refreshToken)) {
        reusedRefreshTokens.incrementAndGet();
        revoked = true;
      }
      if (revoked || !refreshToken.equals("refresh-" + generation)) {
        return new MockResponse().setResponseCode(400).setBody("invalid_grant");
      }
      generation++;
      accessValid = true;
      return new MockResponse().setBody("access-" + generation + " refresh-" + generation);
    }
  }

  private MockResponse api(String authorization) {
    synchronized (lock) {
      if (!revoked && accessValid && authorization.equals("Bearer access-" + generation)) {
        return new MockResponse().setBody("ok");
      }
    }
    return new MockResponse().setResponseCode(401);
  }

  @Override
  public void close() throws IOException {
    openGate();
    server.shutdown();
  }
}
