package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.oauth2.Jose.Alg;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okio.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The token exchange source (RFC 8693) against a scripted token endpoint. */
final class TokenExchangeSourceTest {
  private static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
  private static final String ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token";
  private static final String SUBJECT = "subject-token-of-alice";

  private final MockWebServer server = new MockWebServer();
  private final AtomicLong now = new AtomicLong(1_000_000_000_000L);

  @BeforeEach
  void setUp() throws IOException {
    server.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
  }

  private String endpoint() {
    return server.url("/oauth/token").toString();
  }

  private OAuth2TokenSource.TokenExchangeBuilder exchange() {
    return OAuth2TokenSource.tokenExchange()
        .tokenEndpoint(endpoint())
        .clientId("gateway")
        .subjectToken(() -> SUBJECT)
        .clock(now::get);
  }

  private static String basic(String id, String secret) {
    return "Basic "
        + ByteString.encodeString(id + ":" + secret, StandardCharsets.ISO_8859_1).base64();
  }

  @Test
  void oneBuilderBuildsASourcePerSubjectFromAnyThreadWithoutMixingThem() throws Exception {
    for (int i = 0; i < 2; i++) {
      server.enqueue(json(200, "{\"access_token\":\"orders\",\"token_type\":\"Bearer\"}"));
    }
    OAuth2TokenSource.TokenExchangeBuilder orders =
        OAuth2TokenSource.tokenExchange().tokenEndpoint(endpoint()).clientId("gateway");
    java.util.concurrent.ExecutorService threads =
        java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      java.util.concurrent.Future<OAuth2TokenSource> ann =
          threads.submit(() -> orders.buildFor(() -> "token-of-ann"));
      java.util.concurrent.Future<OAuth2TokenSource> bob =
          threads.submit(() -> orders.buildFor(() -> "token-of-bob"));
      ann.get(10, java.util.concurrent.TimeUnit.SECONDS).fetch();
      assertEquals("token-of-ann", Jose.form(server.takeRequest()).get("subject_token"));
      bob.get(10, java.util.concurrent.TimeUnit.SECONDS).fetch();
      assertEquals("token-of-bob", Jose.form(server.takeRequest()).get("subject_token"));
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void requestCarriesEveryRfc8693Parameter() throws Exception {
    server.enqueue(
        json(
            200,
            "{\"access_token\":\"orders-1\",\"issued_token_type\":\""
                + ACCESS_TOKEN
                + "\","
                + "\"token_type\":\"Bearer\",\"expires_in\":300}"));

    Tokens tokens =
        exchange()
            .clientSecret("s3cret")
            .actorToken(() -> "actor-token-of-gateway", "urn:ietf:params:oauth:token-type:jwt")
            .requestedTokenType(ACCESS_TOKEN)
            .audience("orders")
            .audience("billing")
            .resource("https://orders.example.com/")
            .resource("urn:example:billing")
            .scope("orders:read billing:read")
            .build()
            .fetch();

    assertEquals(Tokens.of("orders-1", null, now.get() + 300_000), tokens);
    RecordedRequest request = server.takeRequest();
    assertEquals("POST", request.getMethod());
    assertEquals("/oauth/token", request.getPath());
    assertEquals("application/json", request.getHeader("Accept"));
    assertEquals(basic("gateway", "s3cret"), request.getHeader("Authorization"));
    // Repeated parameters are joined with " | " by Jose.form: each value is its own parameter.
    assertEquals(
        Map.of(
            "grant_type", EXCHANGE,
            "subject_token", SUBJECT,
            "subject_token_type", ACCESS_TOKEN,
            "actor_token", "actor-token-of-gateway",
            "actor_token_type", "urn:ietf:params:oauth:token-type:jwt",
            "requested_token_type", ACCESS_TOKEN,
            "audience", "orders | billing",
            "resource", "https://orders.example.com/ | urn:example:billing",
            "scope", "orders:read billing:read"),
        Jose.form(request));
  }

  @Test
  void requestWithoutOptionsSendsTheSubjectAsAnAccessToken() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\",\"token_type\":\"bearer\"}"));

    Tokens tokens =
        exchange()
            .clientSecret("s3cret")
            .clientAuthentication(ClientAuthentication.CLIENT_SECRET_POST)
            .build()
            .fetch();

    // No issued_token_type and no expires_in: still tokens, without an expiry.
    assertEquals(Tokens.of("orders-1"), tokens);
    RecordedRequest request = server.takeRequest();
    assertNull(request.getHeader("Authorization"));
    assertEquals(
        Map.of(
            "grant_type", EXCHANGE,
            "subject_token", SUBJECT,
            "subject_token_type", ACCESS_TOKEN,
            "client_id", "gateway",
            "client_secret", "s3cret"),
        Jose.form(request));
  }

  @Test
  void subjectTokenTypeCanBeSet() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\"}"));

    exchange().subjectTokenType("urn:ietf:params:oauth:token-type:id_token").build().fetch();

    assertEquals(
        "urn:ietf:params:oauth:token-type:id_token",
        Jose.form(server.takeRequest()).get("subject_token_type"));
  }

  @Test
  void publicClientSendsOnlyItsId() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\"}"));

    exchange().build().fetch();

    RecordedRequest request = server.takeRequest();
    assertNull(request.getHeader("Authorization"));
    assertEquals(
        Map.of(
            "grant_type", EXCHANGE,
            "subject_token", SUBJECT,
            "subject_token_type", ACCESS_TOKEN,
            "client_id", "gateway"),
        Jose.form(request));
  }

  @Test
  void privateKeyJwtClientSignsAnAssertionForTheTokenEndpoint() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\"}"));

    exchange().privateKey(Alg.RS256.keys.getPrivate(), "key-1").build().fetch();

    Map<String, String> form = Jose.form(server.takeRequest());
    JWTClaimsSet claims =
        Jose.verify(form.remove("client_assertion"), Alg.RS256, Alg.RS256.keys.getPublic());
    assertEquals("gateway", claims.getIssuer());
    assertEquals("gateway", claims.getSubject());
    assertEquals(List.of(endpoint()), claims.getAudience());
    assertEquals(
        Map.of(
            "grant_type", EXCHANGE,
            "subject_token", SUBJECT,
            "subject_token_type", ACCESS_TOKEN,
            "client_id", "gateway",
            "client_assertion_type", ClientAuth.CLIENT_ASSERTION_TYPE),
        form);
  }

  @Test
  void clientAssertionFromOutsideIsSentAsItIs() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\"}"));

    exchange().clientAssertion(() -> "workload-identity-jwt").build().fetch();

    Map<String, String> form = Jose.form(server.takeRequest());
    assertEquals("workload-identity-jwt", form.get("client_assertion"));
    assertEquals(ClientAuth.CLIENT_ASSERTION_TYPE, form.get("client_assertion_type"));
  }

  @Test
  void subjectAndActorAreAskedForEachExchange() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\"}"));
    server.enqueue(json(200, "{\"access_token\":\"orders-2\"}"));
    AtomicInteger asked = new AtomicInteger();
    OAuth2TokenSource source =
        exchange()
            .subjectToken(() -> "subject-" + asked.incrementAndGet())
            .actorToken(() -> "actor-" + asked.get(), ACCESS_TOKEN)
            .build();

    source.fetch();
    source.fetch();

    Map<String, String> first = Jose.form(server.takeRequest());
    Map<String, String> second = Jose.form(server.takeRequest());
    assertEquals("subject-1", first.get("subject_token"));
    assertEquals("actor-1", first.get("actor_token"));
    assertEquals("subject-2", second.get("subject_token"));
    assertEquals("actor-2", second.get("actor_token"));
  }

  @Test
  void subjectTokenOfAManagerIsItsCurrentAccessToken() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\"}"));
    RefreshManager user = RefreshManager.builder().build();
    OAuth2TokenSource source = exchange().subjectToken(SecurityTokenSource.of(user)).build();

    IOException signedOut = assertThrows(IOException.class, source::fetch);
    user.signIn(Tokens.of("alice-access", "alice-refresh"));
    source.fetch();

    assertEquals(
        "the manager whose token is to be exchanged is signed out: sign it in first",
        signedOut.getMessage());
    assertFalse(signedOut instanceof RefreshFailedException); // Transient: sign-in may come.
    assertEquals(1, server.getRequestCount()); // Nothing was sent while signed out.
    assertEquals("alice-access", Jose.form(server.takeRequest()).get("subject_token"));
  }

  @Test
  void failingSubjectSourceSendsNothing() {
    OAuth2TokenSource source =
        exchange()
            .subjectToken(
                () -> {
                  throw new IOException("no inbound token");
                })
            .build();

    assertEquals("no inbound token", assertThrows(IOException.class, source::fetch).getMessage());
    assertEquals(0, server.getRequestCount());
  }

  @Test
  void rejectedSubjectTokenIsPermanent() {
    server.enqueue(json(400, "{\"error\":\"invalid_grant\"}"));

    RefreshFailedException e =
        assertThrows(RefreshFailedException.class, () -> exchange().build().fetch());

    assertTrue(e.isPermanent());
    assertEquals(
        "the token endpoint rejected the subject token (HTTP 400, invalid_grant): check that it is"
            + " valid, of its configured type, and accepted for this exchange",
        e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"invalid_request", "invalid_target"})
  void refusedExchangeIsPermanent(String error) {
    server.enqueue(json(400, "{\"error\":\"" + error + "\"}"));

    RefreshFailedException e =
        assertThrows(RefreshFailedException.class, () -> exchange().build().fetch());

    assertTrue(e.isPermanent());
    assertEquals(
        "the token endpoint refused the token exchange (HTTP 400, "
            + error
            + "): check the subject and actor tokens and their types, the audiences, resources"
            + " and requested token type",
        e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "invalid_client",
        "unauthorized_client",
        "invalid_scope",
        "unsupported_grant_type"
      })
  void configurationErrorsArePermanent(String error) {
    server.enqueue(json(400, "{\"error\":\"" + error + "\"}"));

    RefreshFailedException e =
        assertThrows(RefreshFailedException.class, () -> exchange().build().fetch());

    assertTrue(e.isPermanent());
    assertEquals(
        "the token endpoint refused the client's request (HTTP 400, "
            + error
            + "): check the client id, secret, authentication method, grant type and scope",
        e.getMessage());
  }

  @Test
  void otherFailuresAreTransient() {
    server.enqueue(json(503, "{\"error\":\"invalid_request\"}"));
    server.enqueue(json(400, "{\"error\":\"temporarily_unavailable\"}"));
    server.enqueue(
        new MockResponse().setResponseCode(307).setHeader("Location", server.url("/elsewhere")));
    OAuth2TokenSource source = exchange().build();

    IOException unavailable = assertThrows(IOException.class, source::fetch);
    IOException unknown = assertThrows(IOException.class, source::fetch);
    IOException redirect = assertThrows(IOException.class, source::fetch);

    assertEquals("the token endpoint answered HTTP 503", unavailable.getMessage());
    assertEquals(
        "the token endpoint answered HTTP 400, temporarily_unavailable", unknown.getMessage());
    assertEquals(
        "the token endpoint redirected (HTTP 307): this helper does not follow redirects, so that"
            + " the subject token and the client's credentials go only to the configured"
            + " endpoint; configure the final URL",
        redirect.getMessage());
    for (IOException e : new IOException[] {unavailable, unknown, redirect}) {
      assertFalse(e instanceof RefreshFailedException, e.toString());
    }
    assertEquals(3, server.getRequestCount());
  }

  @Test
  void aRefreshTokenServesOnlyTheSubjectItWasIssuedForAndNeverOneThatSignedOut() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-alice\",\"refresh_token\":\"rt-alice\"}"));
    server.enqueue(json(200, "{\"access_token\":\"orders-bob\"}"));
    java.util.concurrent.atomic.AtomicReference<String> subject =
        new java.util.concurrent.atomic.AtomicReference<>("token-of-alice");
    OAuth2TokenSource source =
        exchange()
            .clientSecret("s3cret")
            .subjectToken(
                () -> {
                  String current = subject.get();
                  if (current == null) throw new IOException("the user signed out");
                  return current;
                })
            .build();

    assertEquals("orders-alice", source.fetch().accessToken());
    subject.set(null); // Alice signed out: her refresh token must not mint another token.
    assertEquals(
        "the user signed out", assertThrows(IOException.class, source::fetch).getMessage());
    assertEquals(1, server.getRequestCount());

    subject.set("token-of-bob"); // Bob signed in: Alice's refresh token is not his.
    assertEquals("orders-bob", source.fetch().accessToken());
    server.takeRequest();
    Map<String, String> bob = Jose.form(server.takeRequest());
    assertEquals(EXCHANGE, bob.get("grant_type"));
    assertEquals("token-of-bob", bob.get("subject_token"));
  }

  @Test
  void returnedRefreshTokenIsUsedOnTheNextFetchAndRotates() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\",\"refresh_token\":\"rt-1\"}"));
    server.enqueue(json(200, "{\"access_token\":\"orders-2\",\"refresh_token\":\"rt-2\"}"));
    server.enqueue(json(200, "{\"access_token\":\"orders-3\"}"));
    server.enqueue(json(200, "{\"access_token\":\"orders-4\"}"));
    OAuth2TokenSource source = exchange().clientSecret("s3cret").scope("orders:read").build();

    assertEquals("orders-1", source.fetch().accessToken());
    assertEquals("orders-2", source.fetch().accessToken());
    assertEquals("orders-3", source.fetch().accessToken());
    assertEquals("orders-4", source.fetch().accessToken());

    assertEquals(EXCHANGE, Jose.form(server.takeRequest()).get("grant_type"));
    RecordedRequest first = server.takeRequest();
    assertEquals(basic("gateway", "s3cret"), first.getHeader("Authorization"));
    assertEquals(Map.of("grant_type", "refresh_token", "refresh_token", "rt-1"), Jose.form(first));
    // The answer rotated it; the next one carried none, and the last one received stays.
    assertEquals(
        Map.of("grant_type", "refresh_token", "refresh_token", "rt-2"),
        Jose.form(server.takeRequest()));
    assertEquals(
        Map.of("grant_type", "refresh_token", "refresh_token", "rt-2"),
        Jose.form(server.takeRequest()));
  }

  @Test
  void rejectedRefreshTokenFallsBackToOneExchange() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\",\"refresh_token\":\"rt-1\"}"));
    server.enqueue(json(400, "{\"error\":\"invalid_grant\"}"));
    server.enqueue(json(200, "{\"access_token\":\"orders-2\"}"));
    server.enqueue(json(200, "{\"access_token\":\"orders-3\"}"));
    OAuth2TokenSource source = exchange().clientSecret("s3cret").build();

    source.fetch();
    assertEquals("orders-2", source.fetch().accessToken());
    assertEquals("orders-3", source.fetch().accessToken());

    List<String> grants = new ArrayList<>();
    for (int i = 0; i < 4; i++) grants.add(Jose.form(server.takeRequest()).get("grant_type"));
    // The refresh token was dropped: the third fetch exchanges too.
    assertEquals(List.of(EXCHANGE, "refresh_token", EXCHANGE, EXCHANGE), grants);
  }

  @Test
  void refreshTokenIsKeptAfterATransientFailure() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\",\"refresh_token\":\"rt-1\"}"));
    server.enqueue(new MockResponse().setResponseCode(503));
    server.enqueue(json(200, "{\"access_token\":\"orders-2\"}"));
    OAuth2TokenSource source = exchange().clientSecret("s3cret").build();

    source.fetch();
    assertEquals(
        "the token endpoint answered HTTP 503",
        assertThrows(IOException.class, source::fetch).getMessage());
    assertEquals("orders-2", source.fetch().accessToken());

    server.takeRequest();
    assertEquals("rt-1", Jose.form(server.takeRequest()).get("refresh_token"));
    assertEquals("rt-1", Jose.form(server.takeRequest()).get("refresh_token"));
  }

  @Test
  void builderBuildsAgainWithoutBeingConsumed() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"orders-1\"}"));
    server.enqueue(json(200, "{\"access_token\":\"orders-2\"}"));
    OAuth2TokenSource.TokenExchangeBuilder builder = exchange().audience("orders");

    OAuth2TokenSource alice = builder.subjectToken(() -> "alice-token").build();
    OAuth2TokenSource bob = builder.subjectToken(() -> "bob-token").build();
    bob.fetch();
    alice.fetch();

    Map<String, String> bobs = Jose.form(server.takeRequest());
    Map<String, String> alices = Jose.form(server.takeRequest());
    assertEquals("bob-token", bobs.get("subject_token"));
    assertEquals("alice-token", alices.get("subject_token"));
    assertEquals("orders", bobs.get("audience"));
    assertEquals("orders", alices.get("audience")); // Not added twice.
  }

  @Test
  void toStringAndMessagesNameNoToken() {
    server.enqueue(json(400, "{\"error\":\"invalid_grant\"}"));
    OAuth2TokenSource source =
        exchange().clientSecret("s3cret").actorToken(() -> "actor-secret", ACCESS_TOKEN).build();

    String message = assertThrows(IOException.class, source::fetch).getMessage();

    assertEquals(
        "OAuth2TokenSource{token_exchange, tokenEndpoint="
            + endpoint()
            + ", clientId=gateway, clientAuthentication=auto}",
        source.toString());
    for (String text : new String[] {source.toString(), message}) {
      assertFalse(text.contains(SUBJECT), text);
      assertFalse(text.contains("actor-secret"), text);
      assertFalse(text.contains("s3cret"), text);
    }
  }

  @Test
  void builderRejectsBadConfiguration() {
    assertEquals(
        "no subject token: call subjectToken(source)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2TokenSource.tokenExchange()
                        .tokenEndpoint(endpoint())
                        .clientId("gateway")
                        .build())
            .getMessage());
    assertEquals(
        "no client id: call clientId(id)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2TokenSource.tokenExchange()
                        .tokenEndpoint(endpoint())
                        .subjectToken(() -> SUBJECT)
                        .build())
            .getMessage());
    assertEquals(
        "no token endpoint: call tokenEndpoint(url) or issuer(url)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2TokenSource.tokenExchange()
                        .clientId("gateway")
                        .subjectToken(() -> SUBJECT)
                        .build())
            .getMessage());
    assertEquals(
        "a public client (NONE) sends no secret: remove clientSecret(...) or pick"
            + " CLIENT_SECRET_BASIC or CLIENT_SECRET_POST",
        assertThrows(
                IllegalStateException.class,
                () ->
                    exchange()
                        .clientSecret("s")
                        .clientAuthentication(ClientAuthentication.NONE)
                        .build())
            .getMessage());
    assertEquals(
        "the token endpoint is cleartext http: use https, or call allowCleartext(true)",
        assertThrows(
                IllegalStateException.class,
                () -> exchange().tokenEndpoint("http://auth.example/token").build())
            .getMessage());
    assertEquals(
        "audience is empty",
        assertThrows(IllegalArgumentException.class, () -> exchange().audience("")).getMessage());
    assertEquals(
        "resource is not an absolute URI without a fragment: /orders",
        assertThrows(IllegalArgumentException.class, () -> exchange().resource("/orders"))
            .getMessage());
    assertEquals(
        "subjectTokenType is empty",
        assertThrows(IllegalArgumentException.class, () -> exchange().subjectTokenType(""))
            .getMessage());
    assertEquals(
        "actorTokenType is empty",
        assertThrows(IllegalArgumentException.class, () -> exchange().actorToken(() -> "a", ""))
            .getMessage());
    assertEquals(
        "source == null",
        assertThrows(NullPointerException.class, () -> exchange().subjectToken(null)).getMessage());
  }
}
