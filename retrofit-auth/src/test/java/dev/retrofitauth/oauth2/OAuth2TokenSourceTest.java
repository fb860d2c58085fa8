package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.oauth2.Jose.Alg;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

/** The {@code client_credentials} and JWT bearer token sources against a scripted endpoint. */
final class OAuth2TokenSourceTest {
  private static final PrivateKey KEY = Alg.ES256.keys.getPrivate();

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

  private OAuth2TokenSource.ClientCredentialsBuilder clientCredentials() {
    return OAuth2TokenSource.clientCredentials()
        .tokenEndpoint(server.url("/oauth/token").toString())
        .clientId("my job")
        .clock(now::get);
  }

  private OAuth2TokenSource.JwtBearerBuilder jwtBearer() {
    return OAuth2TokenSource.jwtBearer()
        .tokenEndpoint(server.url("/oauth/token").toString())
        .privateKey(KEY, "key-1")
        .assertionIssuer("robot@example.com")
        .clock(now::get);
  }

  @Test
  void clientCredentialsWithBasicAuthentication() throws Exception {
    server.enqueue(
        json(200, "{\"access_token\":\"machine-1\",\"token_type\":\"Bearer\",\"expires_in\":600}"));

    Tokens tokens =
        clientCredentials().clientSecret("s3cret").scope("reports:read").build().fetch();

    assertEquals(Tokens.of("machine-1", null, now.get() + 600_000), tokens);
    RecordedRequest request = server.takeRequest();
    assertEquals("POST", request.getMethod());
    assertEquals("/oauth/token", request.getPath());
    assertEquals(
        Map.of("grant_type", "client_credentials", "scope", "reports:read"), Jose.form(request));
    assertEquals(
        "Basic " + ByteString.encodeString("my+job:s3cret", StandardCharsets.ISO_8859_1).base64(),
        request.getHeader("Authorization"));
    assertEquals("application/json", request.getHeader("Accept"));
  }

  @Test
  void clientCredentialsWithPostAuthenticationResourcesAndAudience() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"machine-1\"}"));

    clientCredentials()
        .clientSecret("s3cret")
        .clientAuthentication(ClientAuthentication.CLIENT_SECRET_POST)
        .resource("https://api.example.com/")
        .resource("urn:example:reports")
        .audience("https://api.example.com")
        .build()
        .fetch();

    RecordedRequest request = server.takeRequest();
    assertNull(request.getHeader("Authorization"));
    assertEquals(
        Map.of(
            "grant_type", "client_credentials",
            "resource", "https://api.example.com/ | urn:example:reports",
            "audience", "https://api.example.com",
            "client_id", "my job",
            "client_secret", "s3cret"),
        Jose.form(request));
  }

  @Test
  void jwtBearerSendsTheGrantAndASignedAssertion() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"machine-1\",\"expires_in\":3600}"));

    Tokens tokens = jwtBearer().scope("cloud-platform").build().fetch();

    assertEquals("machine-1", tokens.accessToken());
    RecordedRequest request = server.takeRequest();
    assertNull(request.getHeader("Authorization")); // No client authentication.
    Map<String, String> form = Jose.form(request);
    String assertion = form.remove("assertion");
    assertEquals(
        Map.of(
            "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "scope", "cloud-platform"),
        form);
    com.nimbusds.jwt.JWTClaimsSet claims =
        Jose.verify(assertion, Alg.ES256, Alg.ES256.keys.getPublic());
    assertEquals("robot@example.com", claims.getIssuer());
    assertNull(claims.getSubject()); // None unless asked for.
    assertEquals(java.util.List.of(server.url("/oauth/token").toString()), claims.getAudience());
    assertEquals(now.get() / 1000 * 1000, claims.getIssueTime().getTime());
    assertEquals(now.get() + TimeUnit.MINUTES.toMillis(5), claims.getExpirationTime().getTime());
    assertEquals("cloud-platform", claims.getStringClaim("scope"));
  }

  @Test
  void jwtBearerAssertionClaimsCanBeSet() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"machine-1\"}"));

    jwtBearer()
        .assertionSubject("user@example.com")
        .assertionAudience("https://oauth2.example.com/token")
        .assertionLifetime(30, TimeUnit.SECONDS)
        .build()
        .fetch();

    com.nimbusds.jwt.JWTClaimsSet claims =
        Jose.verify(
            Jose.form(server.takeRequest()).get("assertion"),
            Alg.ES256,
            Alg.ES256.keys.getPublic());
    assertEquals("user@example.com", claims.getSubject());
    assertEquals(java.util.List.of("https://oauth2.example.com/token"), claims.getAudience());
    assertEquals(now.get() + 30_000, claims.getExpirationTime().getTime());
    assertNull(claims.getClaim("scope"));
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
    server.enqueue(json(400, "{\"error\":\"" + error + "\"}"));
    String expected =
        "the token endpoint refused the client's request (HTTP 400, "
            + error
            + "): check the client id, secret, authentication method, grant type and scope";

    RefreshFailedException clientCredentials =
        assertThrows(
            RefreshFailedException.class,
            () -> clientCredentials().clientSecret("s").build().fetch());
    RefreshFailedException jwtBearer =
        assertThrows(RefreshFailedException.class, () -> jwtBearer().build().fetch());

    assertTrue(clientCredentials.isPermanent());
    assertEquals(expected, clientCredentials.getMessage());
    assertTrue(jwtBearer.isPermanent());
    assertEquals(expected, jwtBearer.getMessage());
  }

  @Test
  void invalidGrantIsPermanentForAnAssertionButNotForClientCredentials() {
    server.enqueue(json(400, "{\"error\":\"invalid_grant\"}"));
    server.enqueue(json(400, "{\"error\":\"invalid_grant\"}"));

    RefreshFailedException assertion =
        assertThrows(RefreshFailedException.class, () -> jwtBearer().build().fetch());
    IOException clientCredentials =
        assertThrows(
            IOException.class, () -> clientCredentials().clientSecret("s").build().fetch());

    assertTrue(assertion.isPermanent());
    assertEquals(
        "the token endpoint rejected the assertion (HTTP 400, invalid_grant): check its issuer,"
            + " subject, audience, key id and key, and the clock",
        assertion.getMessage());
    // No grant to reject: an odd answer, tried again after the backoff; never "signed out".
    assertFalse(clientCredentials instanceof RefreshFailedException);
    assertFalse(clientCredentials instanceof RefreshRejectedException);
    assertEquals(
        "the token endpoint answered HTTP 400, invalid_grant", clientCredentials.getMessage());
  }

  @Test
  void otherFailuresAreTransient() {
    server.enqueue(json(400, "{\"error\":\"invalid_request\"}"));
    server.enqueue(new MockResponse().setResponseCode(503));
    server.enqueue(
        new MockResponse().setResponseCode(302).setHeader("Location", server.url("/elsewhere")));
    OAuth2TokenSource source = clientCredentials().clientSecret("s").build();

    IOException invalidRequest = assertThrows(IOException.class, source::fetch);
    IOException unavailable = assertThrows(IOException.class, source::fetch);
    IOException redirect = assertThrows(IOException.class, source::fetch);

    assertEquals(
        "the token endpoint answered HTTP 400, invalid_request", invalidRequest.getMessage());
    assertEquals("the token endpoint answered HTTP 503", unavailable.getMessage());
    assertEquals(
        "the token endpoint redirected (HTTP 302): this helper does not follow redirects, so that"
            + " the client's credentials go only to the configured endpoint; configure the final"
            + " URL",
        redirect.getMessage());
    for (IOException e : new IOException[] {invalidRequest, unavailable, redirect}) {
      assertFalse(e instanceof RefreshFailedException, e.toString());
    }
    assertEquals(3, server.getRequestCount()); // The redirect was not followed.
  }

  @Test
  void jwtBearerRedirectNamesTheAssertion() {
    server.enqueue(
        new MockResponse().setResponseCode(307).setHeader("Location", server.url("/elsewhere")));

    assertEquals(
        "the token endpoint redirected (HTTP 307): this helper does not follow redirects, so that"
            + " signed assertions go only to the configured endpoint; configure the final URL",
        assertThrows(IOException.class, () -> jwtBearer().build().fetch()).getMessage());
  }

  @Test
  void eachFetchAsksAgain() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"machine-1\"}"));
    server.enqueue(json(200, "{\"access_token\":\"machine-2\"}"));
    OAuth2TokenSource source = clientCredentials().clientSecret("s").build();

    assertEquals("machine-1", source.fetch().accessToken());
    assertEquals("machine-2", source.fetch().accessToken());
    assertEquals(2, server.getRequestCount());
  }

  @Test
  void clientCredentialsBuilderRejectsBadConfiguration() {
    assertEquals(
        "client_credentials needs an authenticated client: call clientSecret(secret),"
            + " privateKey(key, keyId) or clientAssertion(source)",
        assertThrows(IllegalStateException.class, () -> clientCredentials().build()).getMessage());
    assertEquals(
        "client_credentials needs an authenticated client: call clientSecret(secret),"
            + " privateKey(key, keyId) or clientAssertion(source)",
        assertThrows(
                IllegalStateException.class,
                () -> clientCredentials().clientAuthentication(ClientAuthentication.NONE).build())
            .getMessage());
    assertEquals(
        "CLIENT_SECRET_POST needs a client secret: call clientSecret(secret)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    clientCredentials()
                        .clientAuthentication(ClientAuthentication.CLIENT_SECRET_POST)
                        .build())
            .getMessage());
    assertEquals(
        "no token endpoint: call tokenEndpoint(url) or issuer(url)",
        assertThrows(
                IllegalStateException.class,
                () -> OAuth2TokenSource.clientCredentials().clientId("a").clientSecret("s").build())
            .getMessage());
    assertEquals(
        "no client id: call clientId(id)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2TokenSource.clientCredentials()
                        .tokenEndpoint("https://auth.example/token")
                        .build())
            .getMessage());
    assertEquals(
        "resource is not an absolute URI without a fragment: /relative",
        assertThrows(
                IllegalArgumentException.class, () -> clientCredentials().resource("/relative"))
            .getMessage());
    assertEquals(
        "resource is not an absolute URI without a fragment: https://api.example/#x",
        assertThrows(
                IllegalArgumentException.class,
                () -> clientCredentials().resource("https://api.example/#x"))
            .getMessage());
    assertEquals(
        "audience is empty",
        assertThrows(IllegalArgumentException.class, () -> clientCredentials().audience(""))
            .getMessage());
    assertEquals(
        "resource == null",
        assertThrows(NullPointerException.class, () -> clientCredentials().resource(null))
            .getMessage());
  }

  @Test
  void jwtBearerBuilderRejectsBadConfiguration() {
    assertEquals(
        "no assertion: call privateKey(key, keyId) to sign one, or assertion(source)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2TokenSource.jwtBearer()
                        .tokenEndpoint("https://auth.example/token")
                        .assertionIssuer("a")
                        .build())
            .getMessage());
    assertEquals(
        "no assertion issuer: call assertionIssuer(iss)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2TokenSource.jwtBearer()
                        .tokenEndpoint("https://auth.example/token")
                        .privateKey(KEY, "k")
                        .build())
            .getMessage());
    assertEquals(
        "lifetime <= 0: 0",
        assertThrows(
                IllegalArgumentException.class,
                () -> jwtBearer().assertionLifetime(0, TimeUnit.SECONDS))
            .getMessage());
    assertEquals(
        "sub is empty",
        assertThrows(IllegalArgumentException.class, () -> jwtBearer().assertionSubject(""))
            .getMessage());
    assertEquals(
        "iss == null",
        assertThrows(NullPointerException.class, () -> jwtBearer().assertionIssuer(null))
            .getMessage());
    assertEquals(
        "the token endpoint is cleartext http: use https, or call allowCleartext(true)",
        assertThrows(
                IllegalStateException.class,
                () -> jwtBearer().tokenEndpoint("http://auth.example/token").build())
            .getMessage());
  }

  @Test
  void toStringNamesNoSecretOrKey() {
    String endpoint = server.url("/oauth/token").toString();
    assertEquals(
        "OAuth2TokenSource{client_credentials, tokenEndpoint="
            + endpoint
            + ", clientId=my job, clientAuthentication=auto}",
        clientCredentials().clientSecret("s3cret").build().toString());
    assertEquals(
        "OAuth2TokenSource{jwt_bearer, tokenEndpoint="
            + endpoint
            + ", iss=robot@example.com, JwsSigner{alg=ES256, kid=key-1}}",
        jwtBearer().build().toString());
  }
}
