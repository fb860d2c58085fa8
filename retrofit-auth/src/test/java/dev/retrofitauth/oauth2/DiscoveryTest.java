package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Finding the endpoints from an issuer's metadata (RFC 8414, OpenID Connect Discovery). */
final class DiscoveryTest {
  private static final Tokens CURRENT = Tokens.of("access-1", "refresh-1");
  private static final String RFC8414 = "/.well-known/oauth-authorization-server/tenant";
  private static final String OPENID = "/tenant/.well-known/openid-configuration";

  private final MockWebServer server = Jose.noDelayServer();

  /** Path to response; a path without one answers 404. Every request's path is recorded. */
  private final Map<String, MockResponse> responses = new ConcurrentHashMap<>();

  private final List<String> paths = new CopyOnWriteArrayList<>();
  private String issuer;

  @BeforeEach
  void setUp() throws IOException {
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            paths.add(request.getPath());
            MockResponse response = responses.get(request.getPath());
            return response != null ? response : new MockResponse().setResponseCode(404);
          }
        });
    server.start();
    issuer = server.url("/tenant").toString();
    responses.put("/tenant/token", json(200, "{\"access_token\":\"a\"}"));
  }

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
  }

  private String metadata(String issuer, String extra) {
    return "{\"issuer\":\""
        + issuer
        + "\",\"token_endpoint\":\""
        + server.url("/tenant/token")
        + "\",\"response_types_supported\":[\"code\"]"
        + extra
        + "}";
  }

  private OAuth2RefreshApi.Builder builder() {
    return OAuth2RefreshApi.builder().issuer(issuer).clientId("app").clientSecret("s3cret");
  }

  private long count(String path) {
    return paths.stream().filter(path::equals).count();
  }

  @Test
  void metadataIsReadOnFirstUseOnlyAndKept() throws Exception {
    responses.put(RFC8414, json(200, metadata(issuer, "")));

    OAuth2RefreshApi api = builder().build();
    assertEquals(List.of(), paths); // build() does not touch the network.

    for (int i = 0; i < 50; i++) api.refresh(CURRENT);

    assertEquals(1, count(RFC8414));
    assertEquals(50, count("/tenant/token"));
    assertEquals(51, paths.size());
  }

  @Test
  void concurrentFirstUsesShareOneRead() throws Exception {
    CountDownLatch metadataRequested = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger metadataReads = new AtomicInteger();
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            if (request.getPath().equals(RFC8414)) {
              metadataReads.incrementAndGet();
              metadataRequested.countDown();
              assertTrue(release.await(10, TimeUnit.SECONDS));
              return json(200, metadata(issuer, ""));
            }
            return json(200, "{\"access_token\":\"a\"}");
          }
        });
    OAuth2RefreshApi api = builder().build();
    int threads = 6;
    ExecutorService executor = Executors.newFixedThreadPool(threads);
    try {
      List<Thread> workers = new CopyOnWriteArrayList<>();
      List<Future<Tokens>> results = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        results.add(
            executor.submit(
                () -> {
                  workers.add(Thread.currentThread());
                  return api.refresh(CURRENT);
                }));
      }
      assertTrue(metadataRequested.await(10, TimeUnit.SECONDS));
      // Wait, with a deadline, until the other callers wait for the read in progress.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (workers.size() < threads
          || workers.stream().filter(t -> t.getState() == Thread.State.BLOCKED).count()
              < threads - 1) {
        assertTrue(System.nanoTime() < deadline, "the other callers never waited for the read");
        Thread.yield();
      }
      release.countDown();
      for (Future<Tokens> result : results) {
        assertEquals("a", result.get(10, TimeUnit.SECONDS).accessToken());
      }
    } finally {
      executor.shutdownNow();
    }
    assertEquals(1, metadataReads.get());
  }

  @Test
  void fallsBackToOpenIdConfigurationAfterRfc8414() throws Exception {
    responses.put(OPENID, json(200, metadata(issuer, "")));

    builder().build().refresh(CURRENT);

    assertEquals(List.of(RFC8414, OPENID, "/tenant/token"), paths);
  }

  /** A host whose catch-all route answers any path with a page is not serving metadata there. */
  @Test
  void aPageInsteadOfMetadataIsNotMetadata() throws Exception {
    MockResponse page =
        new MockResponse().setHeader("Content-Type", "text/html; charset=utf-8").setBody("<html>");
    responses.put(RFC8414, page);
    responses.put(OPENID, json(200, metadata(issuer, "")));

    builder().build().refresh(CURRENT);
    assertEquals(List.of(RFC8414, OPENID, "/tenant/token"), paths);

    responses.put(OPENID, page);
    assertEquals(
        "found no authorization server metadata for "
            + issuer
            + ": "
            + server.url(RFC8414)
            + " answered HTTP 200 (text/html; charset=utf-8), "
            + server.url(OPENID)
            + " answered HTTP 200 (text/html; charset=utf-8)",
        assertThrows(IOException.class, () -> builder().build().refresh(CURRENT)).getMessage());
  }

  @Test
  void issuerWithoutPathUsesTheWellKnownPathsAtTheRoot() throws Exception {
    String rootIssuer = server.url("/").toString().replaceAll("/$", "");
    responses.put("/.well-known/openid-configuration", json(200, metadata(rootIssuer, "")));

    OAuth2RefreshApi.builder().issuer(rootIssuer).clientId("app").build().refresh(CURRENT);

    assertEquals(
        List.of(
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
            "/tenant/token"),
        paths);
  }

  @Test
  void metadataForAnotherIssuerIsRefusedAndNotKept() {
    responses.put(RFC8414, json(200, metadata("https://evil.example/tenant", "")));
    OAuth2RefreshApi api = builder().build();

    for (int attempt = 1; attempt <= 2; attempt++) {
      IOException e = assertThrows(IOException.class, () -> api.refresh(CURRENT));
      assertEquals(
          "the authorization server metadata at "
              + server.url(RFC8414)
              + " is for issuer https://evil.example/tenant, not "
              + issuer
              + ": it is not used (RFC 8414 §3.3); configure the issuer exactly as the server names"
              + " it",
          e.getMessage());
      assertEquals(attempt, count(RFC8414)); // A failed read is not kept: the next use retries.
    }
    assertEquals(0, count("/tenant/token"));
    assertEquals(0, count(OPENID)); // A mismatch is a refusal, not a reason to look elsewhere.
  }

  @Test
  void aTrailingSlashIsAnotherIssuer() {
    responses.put(RFC8414, json(200, metadata(issuer + "/", "")));

    IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

    assertEquals(
        "the authorization server metadata at "
            + server.url(RFC8414)
            + " is for issuer "
            + issuer
            + "/, not "
            + issuer
            + ": it is not used (RFC 8414 §3.3); configure the issuer exactly as the server names it",
        e.getMessage());
  }

  @Test
  void noMetadataAnywhereSaysWhatEachPlaceAnswered() {
    // A redirect is not followed, even to where the metadata is.
    responses.put(
        RFC8414, new MockResponse().setResponseCode(302).setHeader("Location", OPENID + "-real"));
    responses.put(OPENID + "-real", json(200, metadata(issuer, "")));

    IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

    assertEquals(
        "found no authorization server metadata for "
            + issuer
            + ": "
            + server.url(RFC8414)
            + " answered HTTP 302, "
            + server.url(OPENID)
            + " answered HTTP 404",
        e.getMessage());
    assertEquals(List.of(RFC8414, OPENID), paths);
  }

  @Test
  void unusableMetadataIsAClearIoException() {
    OAuth2RefreshApi api = builder().build();

    responses.put(RFC8414, json(200, "<html>"));
    assertEquals(
        "the authorization server metadata at "
            + server.url(RFC8414)
            + " is malformed (JsonEncodingException)",
        assertThrows(IOException.class, () -> api.refresh(CURRENT)).getMessage());

    responses.put(RFC8414, json(200, "{\"issuer\":\"" + issuer + "\"}"));
    assertEquals(
        "the authorization server metadata of "
            + issuer
            + " has no token_endpoint: call tokenEndpoint(url) instead of issuer(url)",
        assertThrows(IOException.class, () -> builder().build().refresh(CURRENT)).getMessage());

    responses.put(
        RFC8414,
        json(200, "{\"issuer\":\"" + issuer + "\",\"token_endpoint\":\"http://auth.example/t\"}"));
    assertEquals(
        "the authorization server metadata of "
            + issuer
            + " has a cleartext http token_endpoint: use https, or call allowCleartext(true)",
        assertThrows(IOException.class, () -> builder().build().refresh(CURRENT)).getMessage());
    assertEquals(0, count("/tenant/token"));
  }

  @Test
  void clientSecretPostIsChosenWhenTheServerListsOnlyIt() throws Exception {
    responses.put(
        RFC8414,
        json(
            200,
            metadata(
                issuer,
                ",\"token_endpoint_auth_methods_supported\":[\"private_key_jwt\","
                    + "\"client_secret_post\"]")));

    builder().build().refresh(CURRENT);

    RecordedRequest token = takeRequest("/tenant/token");
    assertNull(token.getHeader("Authorization"));
    assertEquals("app", Jose.form(token).get("client_id"));
    assertEquals("s3cret", Jose.form(token).get("client_secret"));
  }

  @Test
  void clientSecretBasicIsKeptWhenTheServerListsIt() throws Exception {
    responses.put(
        RFC8414,
        json(
            200,
            metadata(
                issuer,
                ",\"token_endpoint_auth_methods_supported\":[\"client_secret_post\","
                    + "\"client_secret_basic\"]")));

    builder().build().refresh(CURRENT);

    RecordedRequest token = takeRequest("/tenant/token");
    assertTrue(token.getHeader("Authorization").startsWith("Basic "));
    assertNull(Jose.form(token).get("client_secret"));
  }

  private RecordedRequest takeRequest(String path) throws InterruptedException {
    for (RecordedRequest request; (request = server.takeRequest(1, TimeUnit.SECONDS)) != null; ) {
      if (request.getPath().equals(path)) return request;
    }
    throw new AssertionError("no request to " + path);
  }

  @Test
  void builderChecksTheIssuer() {
    assertEquals(
        "an issuer has no query or fragment: https://auth.example/?tenant=1",
        assertThrows(
                IllegalArgumentException.class,
                () -> OAuth2RefreshApi.builder().issuer("https://auth.example/?tenant=1"))
            .getMessage());
    assertEquals(
        "the issuer is cleartext http: use https, or call allowCleartext(true)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2RefreshApi.builder().issuer("http://auth.example").clientId("a").build())
            .getMessage());
    assertEquals(
        "tokenEndpoint(url) and issuer(url) exclude each other: call one of them",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2RefreshApi.builder()
                        .issuer("https://auth.example")
                        .tokenEndpoint("https://auth.example/token")
                        .clientId("a")
                        .build())
            .getMessage());
    assertEquals(
        "url == null",
        assertThrows(NullPointerException.class, () -> OAuth2RefreshApi.builder().issuer(null))
            .getMessage());
  }

  @Test
  void toStringNamesTheIssuerAndNoSecret() {
    assertEquals(
        "OAuth2RefreshApi{issuer=" + issuer + ", clientId=app, clientAuthentication=auto}",
        builder().build().toString());
  }
}
