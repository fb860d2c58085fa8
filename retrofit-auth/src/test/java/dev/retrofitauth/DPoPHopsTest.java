package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A DPoP proof per network hop (RFC 9449 §4): every hop that carries the token gets a fresh proof
 * for its own URL, a hop without the token gets none, retries and redirects included. Proofs are
 * parsed and verified with nimbus-jose-jwt. Each test failed on the code that signed the proof
 * once, in the application interceptor.
 */
final class DPoPHopsTest {
  private final DPoP dpop = DPoP.of(DPoPTest.ec());
  private final MockWebServer api = new MockWebServer();
  private final MockWebServer other = new MockWebServer();
  private final AtomicInteger refreshes = new AtomicInteger();
  private @Nullable RefreshManager auth;
  private @Nullable OkHttpClient client;

  @BeforeEach
  void start() throws IOException {
    api.start();
    other.start();
  }

  @AfterEach
  void stop() throws IOException {
    if (client != null) client.dispatcher().executorService().shutdown();
    api.shutdown();
    other.shutdown();
  }

  private OkHttpClient client(boolean authenticator) {
    auth =
        RefreshManager.builder()
            .dpop(dpop)
            .addAllowedOrigin(api.url("/").toString())
            .refreshApi(
                current -> {
                  refreshes.incrementAndGet();
                  return Tokens.of("new", "r2").withTokenType(Tokens.DPOP);
                })
            .build();
    auth.signIn(Tokens.of("old", "r1").withTokenType(Tokens.DPOP));
    OkHttpClient.Builder builder =
        new OkHttpClient.Builder()
            .addInterceptor(auth.interceptor())
            .addNetworkInterceptor(auth.networkInterceptor());
    if (authenticator) builder.authenticator(auth.authenticator());
    client = builder.build();
    return client;
  }

  private Response get(HttpUrl url) throws IOException {
    return client.newCall(new Request.Builder().url(url).build()).execute();
  }

  /** The review's finding: the proof reached the other origin, whose nonce then went to the API. */
  @Test
  void redirectToAnotherOriginCarriesNeitherTokenNorProof() throws Exception {
    client(false);
    api.enqueue(new MockResponse().setResponseCode(302).setHeader("Location", other.url("/x")));
    other.enqueue(new MockResponse().setHeader("DPoP-Nonce", "from-the-other-origin"));
    api.enqueue(new MockResponse());

    try (Response response = get(api.url("/start"))) {
      assertEquals(200, response.code());
    }
    RecordedRequest first = api.takeRequest();
    RecordedRequest elsewhere = other.takeRequest();
    assertNull(elsewhere.getHeader("Authorization"));
    assertNull(elsewhere.getHeader("DPoP"));
    assertEquals(api.url("/start").toString(), claims(first).getStringClaim("htu"));

    try (Response response = get(api.url("/next"))) {
      assertEquals(200, response.code());
    }
    assertNull(claims(api.takeRequest()).getClaim("nonce"), "the other origin's nonce");
  }

  @Test
  void sameOriginRedirectGetsAFreshProofForItsOwnUrl() throws Exception {
    client(false);
    api.enqueue(new MockResponse().setResponseCode(301).setHeader("Location", "/moved"));
    api.enqueue(new MockResponse());

    try (Response response = get(api.url("/old"))) {
      assertEquals(200, response.code());
    }
    JWTClaimsSet first = claims(api.takeRequest());
    JWTClaimsSet second = claims(api.takeRequest());
    assertEquals(api.url("/moved").toString(), second.getStringClaim("htu"));
    assertNotEquals(first.getJWTID(), second.getJWTID());
    assertEquals(ath("old"), second.getStringClaim("ath"));
  }

  /** The authenticator's retry went out with the first proof: the same jti and the old ath. */
  @Test
  void authenticatorRetrySignsANewProofForTheNewToken() throws Exception {
    client(true);
    api.enqueue(new MockResponse().setResponseCode(401).setHeader("WWW-Authenticate", "DPoP"));
    api.enqueue(new MockResponse());

    try (Response response = get(api.url("/image"))) {
      assertEquals(200, response.code());
    }
    RecordedRequest sent = api.takeRequest();
    RecordedRequest retry = api.takeRequest();
    assertEquals("DPoP new", retry.getHeader("Authorization"));
    JWTClaimsSet proof = claims(retry);
    assertEquals(ath("new"), proof.getStringClaim("ath"));
    assertNotEquals(claims(sent).getJWTID(), proof.getJWTID());
    assertEquals(1, refreshes.get());
  }

  /** Each call refreshed, and a server that refuses the proof drove rotation at the call rate. */
  @Test
  void invalidDpopProofIsNeverRefreshed() throws Exception {
    client(false);
    for (int i = 0; i < 20; i++) {
      api.enqueue(
          new MockResponse()
              .setResponseCode(401)
              .setHeader("WWW-Authenticate", "DPoP error=\"invalid_dpop_proof\""));
    }
    Services.Api service =
        new retrofit2.Retrofit.Builder()
            .baseUrl(api.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(retrofit2.converter.scalars.ScalarsConverterFactory.create())
            .build()
            .create(Services.Api.class);
    for (int i = 0; i < 20; i++) assertEquals(401, service.me().execute().code());
    assertEquals(0, refreshes.get());
  }

  /** A phone whose clock is two hours off signed proofs that every server refused. */
  @Test
  void proofIatFollowsTheServersDate() throws Exception {
    client(false);
    Date serverNow = new Date(System.currentTimeMillis() + TimeUnit.HOURS.toMillis(2));
    java.text.SimpleDateFormat http =
        new java.text.SimpleDateFormat("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.US);
    http.setTimeZone(java.util.TimeZone.getTimeZone("GMT"));
    api.enqueue(new MockResponse().setHeader("Date", http.format(serverNow)));
    api.enqueue(new MockResponse());

    get(api.url("/first")).close();
    get(api.url("/second")).close();
    api.takeRequest();
    Date iat = claims(api.takeRequest()).getIssueTime();
    assertTrue(
        Math.abs(iat.getTime() - serverNow.getTime()) < TimeUnit.MINUTES.toMillis(1),
        "iat " + iat + ", server " + serverNow);
  }

  /** {@code user:password@} went into the signed htu, which servers log. */
  @Test
  void htuHasNoUserInfo() throws Exception {
    client(false);
    api.enqueue(new MockResponse());
    HttpUrl withPassword = api.url("/x").newBuilder().username("user").password("hunter2").build();

    get(withPassword).close();
    String htu = claims(api.takeRequest()).getStringClaim("htu");
    assertEquals(api.url("/x").toString(), htu);
  }

  /** 1,000 redirect targets kept 1,000 nonces (107 MB of heap); a 10 kB nonce was kept whole. */
  @Test
  void noncesAreBoundedInNumberAndLengthAndSyntax() {
    for (int i = 0; i < 1_000; i++) {
      dpop.rememberNonce(response("https://host" + i + ".example/", "nonce-" + i), false);
    }
    assertEquals(DPoP.MAX_NONCES, dpop.nonceCount());

    DPoP fresh = DPoP.generate();
    char[] huge = new char[10_000];
    java.util.Arrays.fill(huge, 'n');
    assertFalse(fresh.rememberNonce(response("https://a.example/", new String(huge)), false));
    assertFalse(fresh.rememberNonce(response("https://a.example/", "has\"quote"), false));
    assertEquals(0, fresh.nonceCount());
    assertTrue(fresh.rememberNonce(response("https://a.example/", "good-nonce"), false));
  }

  @Test
  void missingNetworkInterceptorFailsWithTheFix() throws Exception {
    client(false);
    client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    api.enqueue(new MockResponse());

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> get(api.url("/")));
    assertEquals(
        "DPoP proofs are signed for each network hop by auth.networkInterceptor(), and the request"
            + " went out without it. Add it to the OkHttpClient: new OkHttpClient.Builder()"
            + ".addInterceptor(auth.interceptor()).addNetworkInterceptor(auth.networkInterceptor())",
        e.getMessage());
  }

  @Test
  void networkInterceptorAddedAsApplicationInterceptorFails() {
    client(false);
    client =
        new OkHttpClient.Builder()
            .addInterceptor(auth.interceptor())
            .addInterceptor(auth.networkInterceptor())
            .build();

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> get(api.url("/")));
    assertTrue(
        e.getMessage()
            .startsWith(
                "auth.networkInterceptor() was added as an application interceptor. Add it with "
                    + "OkHttpClient.Builder.addNetworkInterceptor(auth.networkInterceptor())"),
        e.getMessage());
  }

  private static Response response(String url, String nonce) {
    return new Response.Builder()
        .request(new Request.Builder().url(url).build())
        .protocol(Protocol.HTTP_1_1)
        .code(200)
        .message("OK")
        .header("DPoP-Nonce", nonce)
        .build();
  }

  /** The proof's claims, after nimbus verified its signature with the key in its header. */
  private static JWTClaimsSet claims(RecordedRequest request) throws Exception {
    String proof = request.getHeader("DPoP");
    assertTrue(proof != null, "no proof on " + request.getPath());
    SignedJWT jwt = SignedJWT.parse(proof);
    JWK jwk = jwt.getHeader().getJWK();
    assertTrue(jwt.verify(new ECDSAVerifier(jwk.toECKey())), "the signature verifies");
    return jwt.getJWTClaimsSet();
  }

  private static String ath(String token) throws Exception {
    byte[] hash =
        MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
    return Base64URL.encode(hash).toString();
  }
}
