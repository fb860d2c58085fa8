package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.oauth2.Jose.Alg;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The JWTs the helpers sign, checked by a token endpoint that verifies them with nimbus-jose-jwt
 * and the public key, independently of the library's signing code: signature, {@code iss}, {@code
 * sub}, {@code aud}, {@code iat}, {@code exp} in the future, and a {@code jti} never seen before.
 */
final class AssertionVerificationTest {
  private static final int ASSERTIONS = 1000;

  private final MockWebServer server = Jose.noDelayServer();

  /** What the endpoint found wrong; the tests expect it to stay empty. */
  private final List<String> problems = new CopyOnWriteArrayList<>();

  private final Set<String> jtis = ConcurrentHashMap.newKeySet();
  private final List<JWTClaimsSet> verified = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    server.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
  }

  /**
   * Makes the server a token endpoint that verifies the JWT in form field {@code field} and answers
   * a token if it is good, {@code invalid_client} if not.
   */
  private void verifyingEndpoint(
      Alg alg, String field, Map<String, String> expectedForm, Expected expected) {
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            Map<String, String> form = Jose.form(request);
            String jwt = form.remove(field);
            if (!expectedForm.equals(form)) problems.add("form: " + form);
            if (request.getHeader("Authorization") != null) problems.add("Authorization header");
            try {
              check(Jose.verify(jwt, alg, alg.keys.getPublic()), expected);
            } catch (AssertionError | RuntimeException e) {
              problems.add(String.valueOf(e));
            }
            return problems.isEmpty()
                ? json(200, "{\"access_token\":\"a\",\"token_type\":\"Bearer\"}")
                : json(401, "{\"error\":\"invalid_client\"}");
          }
        });
  }

  /** The claims an assertion must have; a null {@code sub} means none. */
  private static final class Expected {
    final String iss;
    final String sub;
    final String aud;
    final long lifetimeSeconds;

    Expected(String iss, String sub, String aud, long lifetimeSeconds) {
      this.iss = iss;
      this.sub = sub;
      this.aud = aud;
      this.lifetimeSeconds = lifetimeSeconds;
    }
  }

  private void check(JWTClaimsSet claims, Expected expected) {
    long now = System.currentTimeMillis();
    assertEquals(expected.iss, claims.getIssuer());
    assertEquals(expected.sub, claims.getSubject());
    assertEquals(Collections.singletonList(expected.aud), claims.getAudience());
    long iat = claims.getIssueTime().getTime();
    long exp = claims.getExpirationTime().getTime();
    if (iat > now || iat < now - 60_000) problems.add("iat not now: " + iat + " at " + now);
    if (exp <= now) problems.add("exp not in the future: " + exp + " at " + now);
    assertEquals(expected.lifetimeSeconds * 1000, exp - iat);
    String jti = claims.getJWTID();
    if (jti == null || jti.length() < 22) problems.add("jti too short: " + jti);
    if (!jtis.add(jti)) problems.add("jti repeated: " + jti);
    verified.add(claims);
  }

  @ParameterizedTest
  @EnumSource(Alg.class)
  void refreshApiClientAssertionsVerifyIndependently(Alg alg) throws Exception {
    String tokenEndpoint = server.url("/oauth/token").toString();
    verifyingEndpoint(
        alg,
        "client_assertion",
        Map.of(
            "grant_type", "refresh_token",
            "refresh_token", "refresh-1",
            "client_id", "my-client",
            "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        new Expected("my-client", "my-client", tokenEndpoint, 60));
    OAuth2RefreshApi api =
        OAuth2RefreshApi.builder()
            .tokenEndpoint(tokenEndpoint)
            .clientId("my-client")
            .privateKey(alg.keys.getPrivate(), "kid-1") // PRIVATE_KEY_JWT is the default.
            .build();

    for (int i = 0; i < ASSERTIONS; i++) {
      assertEquals("a", api.refresh(Tokens.of("access-1", "refresh-1")).accessToken());
    }

    assertEquals(List.of(), problems);
    assertEquals(ASSERTIONS, jtis.size());
    assertEquals(ASSERTIONS, verified.size());
  }

  @ParameterizedTest
  @EnumSource(Alg.class)
  void explicitPrivateKeyJwtSendsTheKeyId(Alg alg) throws Exception {
    String tokenEndpoint = server.url("/oauth/token").toString();
    verifyingEndpoint(
        alg,
        "client_assertion",
        Map.of(
            "grant_type", "refresh_token",
            "refresh_token", "refresh-1",
            "client_id", "my-client",
            "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        new Expected("my-client", "my-client", tokenEndpoint, 60));
    OAuth2RefreshApi api =
        OAuth2RefreshApi.builder()
            .tokenEndpoint(tokenEndpoint)
            .clientId("my-client")
            .privateKey(alg.keys.getPrivate(), "kid-1")
            .clientAuthentication(ClientAuthentication.PRIVATE_KEY_JWT)
            .build();

    api.refresh(Tokens.of("access-1", "refresh-1"));

    assertEquals(List.of(), problems);
    String jwt = Jose.form(server.takeRequest()).get("client_assertion");
    assertEquals("kid-1", SignedJWT.parse(jwt).getHeader().getKeyID());
    assertEquals("JWT", SignedJWT.parse(jwt).getHeader().getType().getType());
  }

  @ParameterizedTest
  @EnumSource(Alg.class)
  void clientCredentialsClientAssertionsVerifyIndependently(Alg alg) throws Exception {
    String tokenEndpoint = server.url("/oauth/token").toString();
    verifyingEndpoint(
        alg,
        "client_assertion",
        Map.of(
            "grant_type", "client_credentials",
            "scope", "reports:read",
            "client_id", "reporting-job",
            "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        new Expected("reporting-job", "reporting-job", tokenEndpoint, 60));
    OAuth2TokenSource source =
        OAuth2TokenSource.clientCredentials()
            .tokenEndpoint(tokenEndpoint)
            .clientId("reporting-job")
            .privateKey(alg.keys.getPrivate(), "kid-1")
            .scope("reports:read")
            .build();

    for (int i = 0; i < ASSERTIONS; i++) assertEquals("a", source.fetch().accessToken());

    assertEquals(List.of(), problems);
    assertEquals(ASSERTIONS, jtis.size());
  }

  @ParameterizedTest
  @EnumSource(Alg.class)
  void jwtBearerAssertionsVerifyIndependently(Alg alg) throws Exception {
    String tokenEndpoint = server.url("/oauth/token").toString();
    verifyingEndpoint(
        alg,
        "assertion",
        Map.of("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer", "scope", "read"),
        new Expected("robot@example.com", "user@example.com", tokenEndpoint, 300));
    OAuth2TokenSource source =
        OAuth2TokenSource.jwtBearer()
            .tokenEndpoint(tokenEndpoint)
            .privateKey(alg.keys.getPrivate(), "kid-1")
            .assertionIssuer("robot@example.com")
            .assertionSubject("user@example.com")
            .scope("read")
            .build();

    for (int i = 0; i < ASSERTIONS; i++) assertEquals("a", source.fetch().accessToken());

    assertEquals(List.of(), problems);
    assertEquals(ASSERTIONS, jtis.size());
    assertEquals("read", verified.get(0).getStringClaim("scope"));
  }

  /** The checks themselves can fail: a key the server does not know is refused. */
  @Test
  void anAssertionSignedWithAnotherKeyIsRefused() {
    verifyingEndpoint(
        Alg.RS256,
        "assertion",
        Map.of("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        new Expected("robot@example.com", null, server.url("/oauth/token").toString(), 300));
    OAuth2TokenSource source =
        OAuth2TokenSource.jwtBearer()
            .tokenEndpoint(server.url("/oauth/token").toString())
            .privateKey(Jose.rsa().getPrivate(), "kid-1")
            .assertionIssuer("robot@example.com")
            .build();

    assertThrows(RefreshFailedException.class, source::fetch);
    assertEquals(
        List.of(
            "org.opentest4j.AssertionFailedError: signature does not verify ==> expected: <true> but was: <false>"),
        problems);
  }
}
