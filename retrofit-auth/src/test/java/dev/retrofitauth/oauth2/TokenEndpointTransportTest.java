package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okio.Buffer;
import okio.ForwardingSource;
import okio.Okio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How the helper talks to the token endpoint: redirects, body size, interrupts, client bugs. */
final class TokenEndpointTransportTest {
  private static final Tokens CURRENT = Tokens.of("access-1", "refresh-1");
  private static final int MIB = 1024 * 1024;

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

  private static String tokenResponse(int accessTokenLength) {
    StringBuilder access = new StringBuilder(accessTokenLength);
    for (int i = 0; i < accessTokenLength; i++) access.append('a');
    return "{\"access_token\":\"" + access + "\",\"refresh_token\":\"refresh-2\"}";
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

  @Test
  void tokenResponseOverOneMebibyteIsRefusedUnread() {
    AtomicLong bytesRead = new AtomicLong();
    server.enqueue(json(200, tokenResponse(20 * MIB)));

    IOException e =
        assertThrows(
            IOException.class,
            () -> builder().client(countingClient(bytesRead)).build().refresh(CURRENT));

    assertFalse(e instanceof RefreshFailedException);
    assertEquals(
        "the token response is larger than 1 MiB (1048576 bytes), the most this helper reads",
        e.getMessage());
    assertEquals(0, bytesRead.get()); // Content-Length said so: nothing was read.
  }

  @Test
  void chunkedTokenResponseOverOneMebibyteIsRefusedAfterOneMebibyte() {
    AtomicLong bytesRead = new AtomicLong();
    server.enqueue(
        new MockResponse()
            .setHeader("Content-Type", "application/json")
            .setChunkedBody(tokenResponse(20 * MIB), 64 * 1024));

    IOException e =
        assertThrows(
            IOException.class,
            () -> builder().client(countingClient(bytesRead)).build().refresh(CURRENT));

    assertEquals(
        "the token response is larger than 1 MiB (1048576 bytes), the most this helper reads",
        e.getMessage());
    assertTrue(bytesRead.get() < 2 * MIB, "read " + bytesRead.get() + " bytes");
  }

  @Test
  void tokenResponseOfExactlyOneMebibyteIsRead() throws IOException {
    String body = tokenResponse(16);
    StringBuilder padded = new StringBuilder(body.substring(0, body.length() - 1));
    while (padded.length() < MIB - 1) padded.append(' ');
    server.enqueue(json(200, padded.append('}').toString()));

    Tokens tokens = builder().build().refresh(CURRENT);

    assertEquals("refresh-2", tokens.refreshToken());
  }

  /** Counts the response body bytes the helper reads, below OkHttp's own buffering. */
  private static OkHttpClient countingClient(AtomicLong bytesRead) {
    return new OkHttpClient.Builder()
        .addNetworkInterceptor(
            chain -> {
              Response response = chain.proceed(chain.request());
              ResponseBody body = response.body();
              ForwardingSource counting =
                  new ForwardingSource(body.source()) {
                    @Override
                    public long read(Buffer sink, long byteCount) throws IOException {
                      long read = super.read(sink, byteCount);
                      if (read > 0) bytesRead.addAndGet(read);
                      return read;
                    }
                  };
              return response
                  .newBuilder()
                  .body(
                      ResponseBody.create(
                          Okio.buffer(counting), body.contentType(), body.contentLength()))
                  .build();
            })
        .build();
  }

  @Test
  void interruptEndsSlowTokenResponse() throws Exception {
    assertInterruptEndsSlowResponse(json(200, tokenResponse(1000)));
  }

  @Test
  void interruptEndsSlowErrorResponse() throws Exception {
    StringBuilder description = new StringBuilder();
    for (int i = 0; i < 1000; i++) description.append('x');
    assertInterruptEndsSlowResponse(
        json(400, "{\"error\":\"invalid_client\",\"error_description\":\"" + description + "\"}"));
  }

  /**
   * The engine interrupts a refresh it abandons: that must end a body that trickles in, one byte
   * every 200 ms, at once, and nothing may turn the interrupt into another outcome.
   */
  private void assertInterruptEndsSlowResponse(MockResponse response) throws Exception {
    CountDownLatch requestArrived = new CountDownLatch(1);
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            requestArrived.countDown();
            return response.throttleBody(1, 200, TimeUnit.MILLISECONDS);
          }
        });
    OAuth2RefreshApi api = builder().build();
    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
    AtomicBoolean stillInterrupted = new AtomicBoolean();
    Thread refresher =
        new Thread(
            () -> {
              try {
                api.refresh(CURRENT);
                outcome.complete(null);
              } catch (Throwable t) {
                stillInterrupted.set(Thread.currentThread().isInterrupted());
                outcome.complete(t);
              }
            },
            "refresher");
    refresher.start();

    Throwable thrown =
        assertTimeoutPreemptively(
            Duration.ofSeconds(5),
            () -> {
              assertTrue(requestArrived.await(5, TimeUnit.SECONDS));
              refresher.interrupt();
              return outcome.get();
            });

    assertEquals(InterruptedIOException.class, thrown.getClass(), String.valueOf(thrown));
    assertEquals("interrupted", thrown.getMessage());
    assertTrue(stillInterrupted.get(), "the thread's interrupt flag is kept");
  }
}
