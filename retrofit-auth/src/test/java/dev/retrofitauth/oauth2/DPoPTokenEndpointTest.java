package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.SignedJWT;
import dev.retrofitauth.DPoP;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.TokenSource;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.oauth2.DPoPTokenEndpoint.Seen;
import dev.retrofitauth.oauth2.Jose.Alg;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Signature;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * DPoP at the token endpoint (RFC 9449 §4–§8): the proofs of every grant, checked by an endpoint
 * that verifies them with nimbus-jose-jwt; the nonce resend; and the token types.
 */
final class DPoPTokenEndpointTest {
  private static final int REQUESTS = 1000;
  private static final Tokens CURRENT = Tokens.of("access-1", "refresh-1");

  /** Signs client assertions; EC, as the DPoP key, because a thousand RSA signatures are slow. */
  private static final KeyPair CLIENT_KEY = Jose.ec("secp256r1");

  private final MockWebServer server = Jose.noDelayServer();
  private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
  private final DPoP dpop = DPoP.of(Alg.ES256.keys);

  @BeforeEach
  void setUp() throws IOException {
    server.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
  }

  private String tokenEndpoint() {
    return server.url("/oauth/token").toString();
  }

  /** Makes the server a DPoP-checking token endpoint for proofs of {@code key}, signed with alg. */
  private DPoPTokenEndpoint verifyingEndpoint(Alg alg, DPoP key) {
    DPoPTokenEndpoint endpoint =
        new DPoPTokenEndpoint(JWSAlgorithm.parse(alg.name()), tokenEndpoint(), key.thumbprint());
    server.setDispatcher(endpoint);
    return endpoint;
  }

  private OAuth2RefreshApi.Builder refreshApi() {
    return OAuth2RefreshApi.builder()
        .tokenEndpoint(tokenEndpoint())
        .clientId("my-app")
        .clock(now::get);
  }

  private OAuth2TokenSource.ClientCredentialsBuilder clientCredentials() {
    return OAuth2TokenSource.clientCredentials()
        .tokenEndpoint(tokenEndpoint())
        .clientId("my-job")
        .privateKey(CLIENT_KEY.getPrivate(), "kid-1")
        .clock(now::get);
  }

  private OAuth2TokenSource.JwtBearerBuilder jwtBearer() {
    return OAuth2TokenSource.jwtBearer()
        .tokenEndpoint(tokenEndpoint())
        .privateKey(CLIENT_KEY.getPrivate(), "kid-1")
        .assertionIssuer("robot@example.com")
        .clock(now::get);
  }

  /** The DPoP tokens that the endpoint issues as its {@code n}th, bound to {@code key}. */
  private Tokens issued(DPoP key, int n) {
    return Tokens.of(DPoPTokenEndpoint.accessToken(key.thumbprint(), n), "refresh-next", expiry())
        .withTokenType(Tokens.DPOP);
  }

  private long expiry() {
    return now.get() + 300_000L;
  }

  /** Each request as "status nonce", in order. */
  private static List<String> statusAndNonce(List<Seen> seen) {
    List<String> result = new ArrayList<>();
    for (Seen s : seen) result.add(s.status + " " + s.nonce);
    return result;
  }

  private static String jti(String jwt) throws Exception {
    return SignedJWT.parse(jwt).getJWTClaimsSet().getJWTID();
  }

  @ParameterizedTest
  @EnumSource(Alg.class)
  void refreshProofsVerifyIndependently(Alg alg) throws Exception {
    DPoP key = DPoP.of(alg.keys);
    DPoPTokenEndpoint endpoint = verifyingEndpoint(alg, key);
    // The query is part of the endpoint, but not of the proof's htu (RFC 9449 §4.2).
    OAuth2RefreshApi api =
        refreshApi()
            .tokenEndpoint(server.url("/oauth/token?tenant=a").toString())
            .dpop(key)
            .build();

    for (int i = 1; i <= REQUESTS; i++) assertEquals(issued(key, i), api.refresh(CURRENT));

    assertEquals(List.of(), endpoint.problems);
    assertEquals(REQUESTS, endpoint.jtis.size());
    assertEquals(REQUESTS, server.getRequestCount());
    RecordedRequest first = server.takeRequest();
    assertEquals("/oauth/token?tenant=a", first.getPath());
    assertEquals(
        Map.of("grant_type", "refresh_token", "refresh_token", "refresh-1", "client_id", "my-app"),
        Jose.form(first));
  }

  @Test
  void clientCredentialsProofsVerifyIndependentlyAndTheFirstLearnsTheNonce() throws Exception {
    DPoPTokenEndpoint endpoint = verifyingEndpoint(Alg.ES256, dpop);
    endpoint.nonce = "n1";
    OAuth2TokenSource source = clientCredentials().dpop(dpop).build();

    for (int i = 1; i <= REQUESTS; i++) {
      assertEquals(issued(dpop, i), source.fetch());
    }

    assertEquals(List.of(), endpoint.problems);
    assertEquals(REQUESTS + 1, server.getRequestCount()); // Only the first fetch was sent again.
    assertEquals(
        List.of("400 null", "200 n1", "200 n1"), statusAndNonce(endpoint.seen).subList(0, 3));
    assertEquals(REQUESTS + 1, endpoint.jtis.size());
    assertEquals("client_credentials", endpoint.seen.get(0).form.get("grant_type"));
  }

  @Test
  void jwtBearerProofsVerifyIndependently() throws Exception {
    DPoPTokenEndpoint endpoint = verifyingEndpoint(Alg.ES256, dpop);
    OAuth2TokenSource source = jwtBearer().dpop(dpop).build();

    for (int i = 1; i <= REQUESTS; i++) assertEquals(issued(dpop, i), source.fetch());

    assertEquals(List.of(), endpoint.problems);
    assertEquals(REQUESTS, endpoint.jtis.size());
    assertEquals(
        "urn:ietf:params:oauth:grant-type:jwt-bearer", endpoint.seen.get(0).form.get("grant_type"));
  }

  @Test
  void nonceDanceResendsOnceAndReusesTheNonce() throws Exception {
    DPoPTokenEndpoint endpoint = verifyingEndpoint(Alg.ES256, dpop);
    endpoint.nonce = "n1";
    OAuth2RefreshApi api =
        refreshApi().privateKey(Alg.RS256.keys.getPrivate(), "kid-1").dpop(dpop).build();

    assertEquals(issued(dpop, 1), api.refresh(CURRENT));
    assertEquals(2, server.getRequestCount());
    assertEquals(issued(dpop, 2), api.refresh(CURRENT)); // Carries n1 at once.
    assertEquals(3, server.getRequestCount());
    endpoint.nonce = "n2"; // The server rotates its nonce.
    assertEquals(issued(dpop, 3), api.refresh(CURRENT));

    assertEquals(List.of(), endpoint.problems);
    assertEquals(
        List.of("400 null", "200 n1", "200 n1", "400 n1", "200 n2"), statusAndNonce(endpoint.seen));
    assertEquals(5, server.getRequestCount());
    assertEquals(5, endpoint.jtis.size());
    // A resend is the same request with a new client assertion: a new jti, never a replay.
    Set<String> assertionJtis = new HashSet<>();
    for (Seen s : endpoint.seen) assertionJtis.add(jti(s.form.get("client_assertion")));
    assertEquals(5, assertionJtis.size());
    assertEquals(withoutAssertion(endpoint.seen.get(0)), withoutAssertion(endpoint.seen.get(1)));
  }

  private static Map<String, String> withoutAssertion(Seen seen) {
    Map<String, String> form = new LinkedHashMap<>(seen.form);
    form.remove("client_assertion");
    return form;
  }

  @Test
  void jwtBearerResendSignsANewAssertion() throws Exception {
    DPoPTokenEndpoint endpoint = verifyingEndpoint(Alg.ES256, dpop);
    endpoint.nonce = "n1";

    assertEquals(issued(dpop, 1), jwtBearer().dpop(dpop).build().fetch());

    assertEquals(List.of(), endpoint.problems);
    assertEquals(List.of("400 null", "200 n1"), statusAndNonce(endpoint.seen));
    String first = jti(endpoint.seen.get(0).form.get("assertion"));
    String second = jti(endpoint.seen.get(1).form.get("assertion"));
    assertFalse(first.equals(second), first);
  }

  @Test
  void secondUseDpopNonceInARowIsTransient() {
    DPoPTokenEndpoint endpoint = verifyingEndpoint(Alg.ES256, dpop);
    endpoint.alwaysAskForNewNonce = true;
    OAuth2RefreshApi api = refreshApi().dpop(dpop).build();

    IOException e = assertThrows(IOException.class, () -> api.refresh(CURRENT));

    assertFalse(e instanceof RefreshFailedException, e.toString());
    assertEquals(
        "the token endpoint asked for a new DPoP nonce again (HTTP 400, use_dpop_nonce), after"
            + " one resend",
        e.getMessage());
    assertEquals(List.of("400 null", "400 fresh-0"), statusAndNonce(endpoint.seen));
    assertEquals(2, server.getRequestCount()); // No third request.
    assertEquals(List.of(), endpoint.problems);
  }

  @Test
  void useDpopNonceWithoutAKeyIsTransientAndSaysToConfigureOne() throws Exception {
    server.enqueue(json(400, "{\"error\":\"use_dpop_nonce\"}").setHeader("DPoP-Nonce", "n1"));
    OAuth2RefreshApi api = refreshApi().build();

    IOException e = assertThrows(IOException.class, () -> api.refresh(CURRENT));

    assertFalse(e instanceof RefreshFailedException, e.toString());
    assertEquals(
        "the token endpoint asked for a DPoP proof with a nonce (HTTP 400, use_dpop_nonce):"
            + " configure dpop(...) on this helper, with the key the manager uses",
        e.getMessage());
    assertEquals(1, server.getRequestCount());
    assertNull(server.takeRequest().getHeader("DPoP"));
  }

  @Test
  void useDpopNonceWithoutANonceHeaderIsTransient() {
    server.enqueue(json(400, "{\"error\":\"use_dpop_nonce\"}"));
    OAuth2TokenSource source = clientCredentials().dpop(dpop).build();

    IOException e = assertThrows(IOException.class, source::fetch);

    assertFalse(e instanceof RefreshFailedException, e.toString());
    assertEquals(
        "the token endpoint asked for a DPoP nonce (HTTP 400, use_dpop_nonce) without a"
            + " DPoP-Nonce header",
        e.getMessage());
    assertEquals(1, server.getRequestCount());
  }

  @Test
  void nonceAnnouncedWithATokenIsUsedNext() throws Exception {
    DPoPTokenEndpoint endpoint = verifyingEndpoint(Alg.ES256, dpop);
    endpoint.nextNonce = "n3";
    OAuth2RefreshApi api = refreshApi().dpop(dpop).build();

    api.refresh(CURRENT);
    api.refresh(CURRENT);

    assertEquals(List.of(), endpoint.problems);
    assertEquals(List.of("200 null", "200 n3"), statusAndNonce(endpoint.seen));
  }

  @Test
  void nonceOfARedirectIsKept() throws Exception {
    server.enqueue(
        new MockResponse()
            .setResponseCode(302)
            .setHeader("Location", server.url("/elsewhere"))
            .setHeader("DPoP-Nonce", "n1"));
    server.enqueue(json(200, "{\"access_token\":\"a\",\"token_type\":\"DPoP\"}"));
    OAuth2RefreshApi api = refreshApi().dpop(dpop).build();

    IOException redirect = assertThrows(IOException.class, () -> api.refresh(CURRENT));
    api.refresh(CURRENT);

    assertEquals(
        "the token endpoint redirected (HTTP 302): this helper does not follow redirects, so that"
            + " the refresh token and client secret go only to the configured endpoint; configure"
            + " the final URL",
        redirect.getMessage());
    assertNull(nonce(server.takeRequest()));
    assertEquals("n1", nonce(server.takeRequest()));
    assertEquals(2, server.getRequestCount());
  }

  private static String nonce(RecordedRequest request) throws Exception {
    return SignedJWT.parse(request.getHeader("DPoP")).getJWTClaimsSet().getStringClaim("nonce");
  }

  @Test
  void noProofWithoutAKey() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"a\",\"token_type\":\"Bearer\"}"));

    assertEquals(Tokens.BEARER, refreshApi().build().refresh(CURRENT).tokenType());

    assertNull(server.takeRequest().getHeader("DPoP"));
  }

  @ParameterizedTest
  @CsvSource({"DPoP, DPoP", "dpop, DPoP", "DPOP, DPoP", "Bearer, Bearer", "bearer, Bearer"})
  void tokenTypeIsReadInAnyCase(String sent, String expected) throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"a\",\"token_type\":\"" + sent + "\"}"));

    Tokens tokens = refreshApi().dpop(dpop).build().refresh(CURRENT);

    assertEquals(Tokens.of("a").withTokenType(expected), tokens);
  }

  @Test
  void unknownTokenTypeFailsEvenWithAKey() {
    server.enqueue(json(200, "{\"access_token\":\"a\",\"token_type\":\"mac\"}"));

    RefreshFailedException e =
        assertThrows(
            RefreshFailedException.class, () -> refreshApi().dpop(dpop).build().refresh(CURRENT));

    assertTrue(e.isPermanent());
    assertEquals("the token endpoint issued a token of an unsupported type: mac", e.getMessage());
  }

  @Test
  void dpopTokenWithoutAKeyFailsForEveryHelper() {
    String body = "{\"access_token\":\"secret-token\",\"token_type\":\"DPoP\"}";
    List<ThrowingFetch> helpers = new ArrayList<>();
    helpers.add(() -> refreshApi().build().refresh(CURRENT));
    TokenSource clientCredentials = clientCredentials().build();
    helpers.add(clientCredentials::fetch);
    TokenSource jwtBearer = jwtBearer().build();
    helpers.add(jwtBearer::fetch);

    for (ThrowingFetch helper : helpers) {
      server.enqueue(json(200, body));
      RefreshFailedException e = assertThrows(RefreshFailedException.class, helper::fetch);
      assertTrue(e.isPermanent());
      assertEquals(
          "the token endpoint issued a DPoP token, which is unusable without its key: configure"
              + " dpop(...) on this helper, and the same key on the manager",
          e.getMessage());
    }
    assertEquals(3, server.getRequestCount());
  }

  private interface ThrowingFetch {
    Tokens fetch() throws IOException;
  }

  /** The endpoint's checks can fail: a proof it cannot verify, or from another key, is refused. */
  @Test
  void theEndpointRefusesAProofSignedWithAnotherKey() {
    KeyPair other = Jose.ec("secp256r1");
    DPoP forged =
        DPoP.of(
            Alg.ES256.keys.getPublic(),
            input -> {
              try {
                Signature signature = Signature.getInstance("SHA256withECDSA");
                signature.initSign(other.getPrivate());
                signature.update(input);
                return signature.sign();
              } catch (GeneralSecurityException e) {
                throw new AssertionError(e);
              }
            });
    DPoPTokenEndpoint endpoint = verifyingEndpoint(Alg.ES256, forged);

    IOException e =
        assertThrows(IOException.class, () -> refreshApi().dpop(forged).build().refresh(CURRENT));

    assertEquals("the token endpoint answered HTTP 400, invalid_dpop_proof", e.getMessage());
    assertEquals(List.of("signature does not verify with the jwk"), endpoint.problems);
  }

  @Test
  void theEndpointRefusesATokenForAnotherThumbprint() {
    DPoP other = DPoP.of(Jose.ec("secp256r1"));
    DPoPTokenEndpoint endpoint = verifyingEndpoint(Alg.ES256, other);

    assertThrows(IOException.class, () -> refreshApi().dpop(dpop).build().refresh(CURRENT));

    assertEquals(
        List.of("thumbprint: expected " + other.thumbprint() + " but was " + dpop.thumbprint()),
        endpoint.problems);
  }
}
