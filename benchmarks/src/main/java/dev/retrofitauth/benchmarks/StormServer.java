package dev.retrofitauth.benchmarks;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.HttpUrl;
import okhttp3.Protocol;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;

/**
 * A loopback API and token endpoint with fixed delays. It speaks HTTP/2 without TLS, so that ten
 * thousand concurrent calls share one connection instead of needing ten thousand sockets.
 */
final class StormServer implements AutoCloseable {
  final MockWebServer server = new MockWebServer();
  final AtomicInteger refreshes = new AtomicInteger();
  final AtomicInteger unauthorized = new AtomicInteger();
  final AtomicInteger apiRequests = new AtomicInteger();
  private final long tokenDelayMillis;
  private final long apiDelayMillis;
  private volatile String validAccess = "none";

  /** A token that stays valid beside {@link #validAccess}: one whose scheduled expiry is ahead. */
  private volatile String stillValid = "none";

  private volatile Runnable onFirstRefresh = () -> {};

  /**
   * When the first refresh request of the run arrived, from {@link System#nanoTime()}; 0 if none.
   */
  volatile long firstRefreshNanos;

  StormServer(long tokenDelayMillis, long apiDelayMillis) throws IOException {
    this.tokenDelayMillis = tokenDelayMillis;
    this.apiDelayMillis = apiDelayMillis;
    server.setProtocols(Collections.singletonList(Protocol.H2_PRIOR_KNOWLEDGE));
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            if (request.getPath().startsWith("/token")) {
              int n = refreshes.incrementAndGet();
              if (n == 1) {
                firstRefreshNanos = System.nanoTime();
                onFirstRefresh.run();
              }
              validAccess = "access-" + n;
              return new MockResponse()
                  .setBody(validAccess + " refresh-" + n)
                  .setHeadersDelay(tokenDelayMillis, TimeUnit.MILLISECONDS);
            }
            apiRequests.incrementAndGet();
            MockResponse response =
                ("Bearer " + validAccess).equals(request.getHeader("Authorization"))
                        || ("Bearer " + stillValid).equals(request.getHeader("Authorization"))
                    ? new MockResponse().setBody("ok")
                    : unauthorized();
            return response.setHeadersDelay(apiDelayMillis, TimeUnit.MILLISECONDS);
          }
        });
    server.start(InetAddress.getLoopbackAddress(), 0);
  }

  private MockResponse unauthorized() {
    unauthorized.incrementAndGet();
    return new MockResponse().setResponseCode(401);
  }

  /** Starts a new run in which {@code access} stays valid until it is refreshed; counters reset. */
  void scheduleExpiry(String access, Runnable onFirstRefresh) {
    expire(onFirstRefresh);
    stillValid = access;
  }

  /** Starts a new run: the access token expires, counters reset. */
  void expire(Runnable onFirstRefresh) {
    stillValid = "none";
    validAccess = "expired-" + System.nanoTime();
    refreshes.set(0);
    firstRefreshNanos = 0;
    unauthorized.set(0);
    apiRequests.set(0);
    this.onFirstRefresh = onFirstRefresh;
  }

  /** The access token the server accepts now, for a client that knows it. */
  String validAccess() {
    return validAccess;
  }

  HttpUrl url(String path) {
    return server.url(path);
  }

  /** Drops MockWebServer's own log of requests, which long runs would otherwise keep. */
  void forgetRequests() throws InterruptedException {
    while (server.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
      // Drained.
    }
  }

  @Override
  public void close() throws IOException {
    server.shutdown();
  }
}
