package dev.retrofitauth.micrometer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.jspecify.annotations.Nullable;

/**
 * A real HTTP API for the tests: it answers 200 to the one access token it accepts and 401 to
 * anything else, can hold the requests a test picks, and can demand a DPoP nonce.
 */
final class TestServer implements AutoCloseable {
  final MockWebServer server = new MockWebServer();
  final List<String> authorizations = new CopyOnWriteArrayList<>();
  private volatile String validToken;
  private volatile @Nullable String requiredNonce;
  private volatile Predicate<RecordedRequest> held = request -> false;
  private volatile CountDownLatch arrived = new CountDownLatch(0);
  private volatile CountDownLatch gate = new CountDownLatch(0);

  TestServer(String validToken) throws IOException {
    this.validToken = validToken;
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            authorizations.add(String.valueOf(request.getHeader("Authorization")));
            if (held.test(request)) {
              arrived.countDown();
              if (!gate.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
            }
            return respond(request);
          }
        });
    server.start();
  }

  private MockResponse respond(RecordedRequest request) {
    String nonce = requiredNonce;
    if (nonce != null && !proofCarries(request.getHeader("DPoP"), nonce)) {
      return new MockResponse()
          .setResponseCode(401)
          .addHeader("WWW-Authenticate", "DPoP error=\"use_dpop_nonce\"")
          .addHeader("DPoP-Nonce", nonce);
    }
    String authorization = String.valueOf(request.getHeader("Authorization"));
    if (authorization.equals("Bearer " + validToken)
        || authorization.equals("DPoP " + validToken)) {
      return new MockResponse().setBody("ok " + request.getPath());
    }
    return new MockResponse().setResponseCode(401).setBody("unauthorized");
  }

  /** True if the DPoP proof's claims name {@code nonce}; the signature is not this test's job. */
  private static boolean proofCarries(@Nullable String proof, String nonce) {
    if (proof == null) return false;
    String[] parts = proof.split("\\.");
    if (parts.length != 3) return false;
    String claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
    return claims.contains("\"nonce\":\"" + nonce + "\"");
  }

  /** Accepts only {@code token} from now on. */
  void accept(String token) {
    this.validToken = token;
  }

  /** Answers 401 with a DPoP nonce challenge to every request whose proof lacks {@code nonce}. */
  void requireNonce(String nonce) {
    this.requiredNonce = nonce;
  }

  /**
   * Holds the requests that {@code which} picks until {@link #release()}; the latch counts down
   * once for each of the first {@code arrivals} of them.
   */
  CountDownLatch hold(Predicate<RecordedRequest> which, int arrivals) {
    arrived = new CountDownLatch(arrivals);
    gate = new CountDownLatch(1);
    held = which;
    return arrived;
  }

  void release() {
    gate.countDown();
  }

  String url() {
    return server.url("/").toString();
  }

  @Override
  public void close() throws IOException {
    release();
    server.close();
  }
}
