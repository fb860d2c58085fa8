package dev.retrofitauth;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;

/**
 * A real HTTP server for the tests: API routes answer 200 to the current access token and 401 to
 * anything else, and every request is recorded.
 */
class ApiServer implements AutoCloseable {
  final MockWebServer server = new MockWebServer();
  final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
  final ConcurrentHashMap<String, AtomicInteger> requestsByAuthorization =
      new ConcurrentHashMap<>();
  private volatile String validAccessToken;
  private volatile int forcedCode;
  private volatile CountDownLatch gate = new CountDownLatch(0);
  private volatile CountDownLatch gateReached = new CountDownLatch(0);

  /** False for long runs, which would otherwise keep every request in memory. */
  volatile boolean recording = true;

  ApiServer(String validAccessToken) throws IOException {
    this.validAccessToken = validAccessToken;
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            String authorization = request.getHeader("Authorization");
            if (recording) {
              requests.add(request);
              requestsByAuthorization
                  .computeIfAbsent(String.valueOf(authorization), k -> new AtomicInteger())
                  .incrementAndGet();
            }
            gateReached.countDown();
            if (!gate.await(30, TimeUnit.SECONDS)) throw new AssertionError("gate never opened");
            return respond(request, authorization);
          }
        });
    server.setServerSocketFactory(new NoDelayServerSocketFactory());
    server.start();
  }

  /**
   * Turns Nagle's algorithm off on accepted sockets. MockWebServer writes a response's head and
   * body separately, so with Nagle on each sequential request waits out the client's delayed ACK
   * (about 40 ms).
   */
  static final class NoDelayServerSocketFactory extends javax.net.ServerSocketFactory {
    @Override
    public java.net.ServerSocket createServerSocket() throws IOException {
      return new java.net.ServerSocket() {
        @Override
        public java.net.Socket accept() throws IOException {
          java.net.Socket socket = super.accept();
          socket.setTcpNoDelay(true);
          return socket;
        }
      };
    }

    @Override
    public java.net.ServerSocket createServerSocket(int port) throws IOException {
      throw new UnsupportedOperationException("MockWebServer binds an unbound socket");
    }

    @Override
    public java.net.ServerSocket createServerSocket(int port, int backlog) throws IOException {
      throw new UnsupportedOperationException("MockWebServer binds an unbound socket");
    }

    @Override
    public java.net.ServerSocket createServerSocket(
        int port, int backlog, java.net.InetAddress address) throws IOException {
      throw new UnsupportedOperationException("MockWebServer binds an unbound socket");
    }
  }

  /** Answers one request. Tests override routes by subclassing. */
  MockResponse respond(RecordedRequest request, String authorization) {
    if (forcedCode != 0) return new MockResponse().setResponseCode(forcedCode).setBody("forced");
    if (("Bearer " + validAccessToken).equals(authorization)) {
      return new MockResponse().setBody("ok " + request.getPath());
    }
    return new MockResponse().setResponseCode(401).setBody("unauthorized");
  }

  /** Makes the server accept only {@code accessToken} from now on. */
  void acceptOnly(String accessToken) {
    this.validAccessToken = accessToken;
  }

  /** Answers every request with {@code code}, or normally again when it is 0. */
  void forceCode(int code) {
    this.forcedCode = code;
  }

  /** Holds the next requests until {@link #openGate()}; returns a latch that counts arrivals. */
  CountDownLatch closeGate(int arrivals) {
    gateReached = new CountDownLatch(arrivals);
    gate = new CountDownLatch(1);
    return gateReached;
  }

  void openGate() {
    gate.countDown();
  }

  /** Drops the requests MockWebServer itself keeps for {@code takeRequest()}. */
  void forgetRequests() throws InterruptedException {
    while (server.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
      // Drained.
    }
  }

  int count(String authorization) {
    AtomicInteger count = requestsByAuthorization.get(authorization);
    return count != null ? count.get() : 0;
  }

  okhttp3.HttpUrl httpUrl(String path) {
    return server.url(path);
  }

  String url(String path) {
    return server.url(path).toString();
  }

  @Override
  public void close() throws IOException {
    openGate();
    server.shutdown();
  }
}
