package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.oauth2.Jose.Alg;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okio.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Token revocation (RFC 7009) against a scripted endpoint that checks the form and client. */
final class OAuth2RevokerTest {
  private static final Tokens SESSION = Tokens.of("access-1", "refresh-1");

  private final MockWebServer server = new MockWebServer();

  @BeforeEach
  void setUp() throws IOException {
    server.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
  }

  private OAuth2Revoker.Builder builder() {
    return OAuth2Revoker.builder()
        .revocationEndpoint(server.url("/oauth/revoke").toString())
        .clientId("my app");
  }

  @Test
  void revokesTheRefreshTokenWithBasicAuthentication() throws Exception {
    server.enqueue(new MockResponse());

    builder().clientSecret("s3cret").build().revoke(SESSION);

    RecordedRequest request = server.takeRequest();
    assertEquals("POST", request.getMethod());
    assertEquals("/oauth/revoke", request.getPath());
    assertEquals(
        Map.of("token", "refresh-1", "token_type_hint", "refresh_token"), Jose.form(request));
    assertEquals(
        "Basic " + ByteString.encodeString("my+app:s3cret", StandardCharsets.ISO_8859_1).base64(),
        request.getHeader("Authorization"));
  }

  @Test
  void revokesTheAccessTokenWhenThereIsNoRefreshToken() throws Exception {
    server.enqueue(new MockResponse());

    builder()
        .clientSecret("s3cret")
        .clientAuthentication(ClientAuthentication.CLIENT_SECRET_POST)
        .build()
        .revoke(Tokens.of("access-1"));

    RecordedRequest request = server.takeRequest();
    assertNull(request.getHeader("Authorization"));
    assertEquals(
        Map.of(
            "token", "access-1",
            "token_type_hint", "access_token",
            "client_id", "my app",
            "client_secret", "s3cret"),
        Jose.form(request));
  }

  @Test
  void publicClientSendsItsId() throws Exception {
    server.enqueue(new MockResponse());

    builder().build().revoke(SESSION);

    assertEquals(
        Map.of("token", "refresh-1", "token_type_hint", "refresh_token", "client_id", "my app"),
        Jose.form(server.takeRequest()));
  }

  @Test
  void aClientAssertionIsForTheTokenEndpointOfTheServersMetadataNotTheRevocationEndpoint()
      throws Exception {
    String issuer = server.url("/realms/demo").toString();
    server.enqueue(
        json(
            200,
            "{\"issuer\":\""
                + issuer
                + "\",\"token_endpoint\":\""
                + server.url("/oauth/token")
                + "\",\"revocation_endpoint\":\""
                + server.url("/oauth/revoke")
                + "\"}"));
    server.enqueue(new MockResponse());

    OAuth2Revoker.builder()
        .issuer(issuer)
        .allowCleartext(true)
        .clientId("my app")
        .privateKey(Alg.RS256.keys.getPrivate(), "key-1")
        .build()
        .revoke(SESSION);

    server.takeRequest(); // The metadata.
    RecordedRequest revocation = server.takeRequest();
    assertEquals("/oauth/revoke", revocation.getPath());
    Map<String, String> form = Jose.form(revocation);
    JWTClaimsSet claims =
        Jose.verify(form.remove("client_assertion"), Alg.RS256, Alg.RS256.keys.getPublic());
    assertEquals(
        Map.of(
            "token", "refresh-1",
            "token_type_hint", "refresh_token",
            "client_id", "my app",
            "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        form);
    assertEquals("my app", claims.getIssuer());
    assertEquals("my app", claims.getSubject());
    // Keycloak answers invalid_client to an assertion for the revocation endpoint.
    assertEquals(List.of(server.url("/oauth/token").toString()), claims.getAudience());
  }

  /**
   * A revocation endpoint that checks a client assertion's {@code aud} as Keycloak does: the issuer
   * or the token endpoint, never the revocation endpoint itself.
   */
  @Test
  void aRevocationWithAClientAssertionIsAcceptedByAServerThatChecksAudLikeKeycloak()
      throws Exception {
    String issuer = server.url("/realms/demo").toString();
    String tokenEndpoint = server.url("/realms/demo/protocol/openid-connect/token").toString();
    List<String> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    server.setDispatcher(
        new okhttp3.mockwebserver.Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            if (request.getPath().startsWith("/.well-known/")) {
              return json(
                  200,
                  "{\"issuer\":\""
                      + issuer
                      + "\",\"token_endpoint\":\""
                      + tokenEndpoint
                      + "\",\"revocation_endpoint\":\""
                      + server.url("/realms/demo/protocol/openid-connect/revoke")
                      + "\"}");
            }
            JWTClaimsSet claims =
                Jose.verify(
                    Jose.form(request).get("client_assertion"),
                    Alg.ES256,
                    Alg.ES256.keys.getPublic());
            List<String> aud = claims.getAudience();
            boolean accepted = aud.contains(issuer) || aud.contains(tokenEndpoint);
            answers.add(accepted ? "accepted" : "invalid_client for aud " + aud);
            return accepted ? new MockResponse() : json(400, "{\"error\":\"invalid_client\"}");
          }
        });

    OAuth2Revoker.builder()
        .issuer(issuer)
        .allowCleartext(true)
        .clientId("my app")
        .privateKey(Alg.ES256.keys.getPrivate(), "key-1")
        .build()
        .revoke(SESSION);

    assertEquals(List.of("accepted"), answers);
  }

  /**
   * Metadata that puts the revocation endpoint on another server than the token endpoint: an
   * assertion for the token endpoint is not sent there, where it could be replayed.
   */
  @Test
  void anAssertionForTheTokenEndpointIsNeverSentToAnotherOrigin() throws Exception {
    MockWebServer elsewhere = new MockWebServer();
    elsewhere.start();
    try {
      String issuer = server.url("/realms/demo").toString();
      server.enqueue(
          json(
              200,
              "{\"issuer\":\""
                  + issuer
                  + "\",\"token_endpoint\":\""
                  + server.url("/oauth/token")
                  + "\",\"revocation_endpoint\":\""
                  + elsewhere.url("/revoke")
                  + "\"}"));
      OAuth2Revoker revoker =
          OAuth2Revoker.builder()
              .issuer(issuer)
              .allowCleartext(true)
              .clientId("my app")
              .privateKey(Alg.RS256.keys.getPrivate(), "key-1")
              .build();
      IOException e = assertThrows(IOException.class, () -> revoker.revoke(SESSION));
      assertEquals(
          "a client assertion for the token endpoint "
              + server.url("/oauth/token")
              + " would go to "
              + elsewhere.url("/revoke")
              + ", on another origin, where it could be replayed; it was not sent: set"
              + " assertionAudience(url) if that server is meant to receive it",
          e.getMessage());
      assertEquals(0, elsewhere.getRequestCount());
    } finally {
      elsewhere.shutdown();
    }
  }

  @Test
  void withOnlyARevocationEndpointAClientAssertionNeedsItsAudienceSet() throws Exception {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> builder().privateKey(Alg.RS256.keys.getPrivate(), "key-1").build());
    assertEquals(
        "a client assertion for the revocation endpoint needs the server's token endpoint or"
            + " issuer as its audience: call issuer(url), or assertionAudience(url) with the token"
            + " endpoint's URL",
        e.getMessage());

    server.enqueue(new MockResponse());
    builder()
        .privateKey(Alg.ES256.keys.getPrivate(), "key-1")
        .assertionAudience("https://auth.example.com/realms/demo")
        .build()
        .revoke(SESSION);
    JWTClaimsSet claims =
        Jose.verify(
            Jose.form(server.takeRequest()).get("client_assertion"),
            Alg.ES256,
            Alg.ES256.keys.getPublic());
    assertEquals(List.of("https://auth.example.com/realms/demo"), claims.getAudience());
  }

  @Test
  void errorsAreIoExceptionsThatNameNoToken() {
    server.enqueue(json(400, "{\"error\":\"unsupported_token_type\"}"));
    server.enqueue(new MockResponse().setResponseCode(503));
    server.enqueue(json(401, "{\"error\":\"refresh-1\\nFAKE LOG LINE " + "x".repeat(80) + "\"}"));
    OAuth2Revoker revoker = builder().clientSecret("s3cret").build();

    assertEquals(
        "the revocation endpoint answered HTTP 400, unsupported_token_type",
        assertThrows(IOException.class, () -> revoker.revoke(SESSION)).getMessage());
    assertEquals(
        "the revocation endpoint answered HTTP 503",
        assertThrows(IOException.class, () -> revoker.revoke(SESSION)).getMessage());
    // Server text is shortened and escaped, as everywhere.
    assertEquals(
        "the revocation endpoint answered HTTP 401, refresh-1\\nFAKE LOG LINE "
            + "x".repeat(64 - "refresh-1\\nFAKE LOG LINE ".length())
            + "...",
        assertThrows(IOException.class, () -> revoker.revoke(SESSION)).getMessage());
  }

  @Test
  void redirectIsNotFollowed() throws IOException {
    MockWebServer elsewhere = new MockWebServer();
    elsewhere.start();
    try {
      server.enqueue(
          new MockResponse()
              .setResponseCode(307)
              .setHeader("Location", elsewhere.url("/oauth/revoke").toString()));

      IOException e =
          assertThrows(
              IOException.class, () -> builder().clientSecret("s").build().revoke(SESSION));

      assertEquals(
          "the revocation endpoint redirected (HTTP 307): this helper does not follow redirects,"
              + " so that the token and the client's credentials go only to the configured"
              + " endpoint; configure the final URL",
          e.getMessage());
      assertEquals(0, elsewhere.getRequestCount());
    } finally {
      elsewhere.shutdown();
    }
  }

  @Test
  void revocationEndpointIsDiscoveredOnce() throws Exception {
    String issuer = server.url("/").toString().replaceAll("/$", "");
    server.enqueue(
        json(
            200,
            "{\"issuer\":\""
                + issuer
                + "\",\"revocation_endpoint\":\""
                + server.url("/oauth/revoke")
                + "\"}"));
    server.enqueue(new MockResponse());
    server.enqueue(new MockResponse());
    OAuth2Revoker revoker =
        OAuth2Revoker.builder().issuer(issuer).clientId("app").clientSecret("s").build();

    revoker.revoke(SESSION);
    revoker.revoke(SESSION);

    assertEquals("/.well-known/oauth-authorization-server", server.takeRequest().getPath());
    assertEquals("/oauth/revoke", server.takeRequest().getPath());
    assertEquals("/oauth/revoke", server.takeRequest().getPath());
    assertEquals(3, server.getRequestCount());
  }

  @Test
  void metadataWithoutRevocationEndpointSaysSo() {
    String issuer = server.url("/").toString().replaceAll("/$", "");
    server.enqueue(json(200, "{\"issuer\":\"" + issuer + "\",\"token_endpoint\":\"x\"}"));

    assertEquals(
        "the authorization server metadata of "
            + issuer
            + " has no revocation_endpoint: call revocationEndpoint(url) instead of issuer(url)",
        assertThrows(
                IOException.class,
                () ->
                    OAuth2Revoker.builder().issuer(issuer).clientId("app").build().revoke(SESSION))
            .getMessage());
  }

  @Test
  void builderRejectsBadConfiguration() {
    assertEquals(
        "no revocation endpoint: call revocationEndpoint(url) or issuer(url)",
        assertThrows(
                IllegalStateException.class, () -> OAuth2Revoker.builder().clientId("a").build())
            .getMessage());
    assertEquals(
        "no client id: call clientId(id)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2Revoker.builder()
                        .revocationEndpoint("https://auth.example/revoke")
                        .build())
            .getMessage());
    assertEquals(
        "the revocation endpoint is cleartext http: use https, or call allowCleartext(true)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2Revoker.builder()
                        .revocationEndpoint("http://auth.example/revoke")
                        .clientId("a")
                        .build())
            .getMessage());
    assertEquals(
        "revocationEndpoint(url) and issuer(url) exclude each other: call one of them",
        assertThrows(
                IllegalStateException.class, () -> builder().issuer("https://auth.example").build())
            .getMessage());
    assertEquals(
        "clientSecret == null",
        assertThrows(NullPointerException.class, () -> builder().clientSecret(null)).getMessage());
  }

  @Test
  void toStringNamesNoSecret() {
    assertEquals(
        "OAuth2Revoker{revocationEndpoint="
            + server.url("/oauth/revoke")
            + ", clientId=my app, clientAuthentication=auto}",
        builder().clientSecret("s3cret").build().toString());
  }
}
