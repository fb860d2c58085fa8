package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.text.ParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.RecordedRequest;
import org.jspecify.annotations.Nullable;

/**
 * A token endpoint that checks every request's DPoP proof (RFC 9449 §4.3) with nimbus-jose-jwt,
 * independently of the library's signing code, and issues tokens bound to the proof's key. What it
 * finds wrong goes to {@link #problems}, which tests expect to stay empty; a request with a bad
 * proof gets {@code invalid_dpop_proof}.
 */
final class DPoPTokenEndpoint extends Dispatcher {
  /** What the endpoint saw of one request, and how it answered. */
  static final class Seen {
    final int status;
    final @Nullable String nonce;
    final @Nullable String jti;
    final Map<String, String> form;

    Seen(int status, @Nullable String nonce, @Nullable String jti, Map<String, String> form) {
      this.status = status;
      this.nonce = nonce;
      this.jti = jti;
      this.form = form;
    }
  }

  /** More requests than any test sends. */
  private static final int MAX_REQUESTS = 1100;

  private final JWSAlgorithm alg;
  private final String htu;
  private final String thumbprint;

  final List<String> problems = new CopyOnWriteArrayList<>();
  final List<Seen> seen = new CopyOnWriteArrayList<>();
  final Set<String> jtis = ConcurrentHashMap.newKeySet();
  private final AtomicInteger issued = new AtomicInteger();

  /** The nonce proofs must carry; null while none is required. */
  volatile @Nullable String nonce;

  /** If true, every request gets {@code use_dpop_nonce} with a nonce never used before. */
  volatile boolean alwaysAskForNewNonce;

  /** The nonce a successful response announces for the next request, if any. */
  volatile @Nullable String nextNonce;

  volatile String tokenType = "DPoP";

  /**
   * Expects proofs signed with {@code alg} for {@code htu}, from the key whose RFC 7638 thumbprint
   * the library computed as {@code thumbprint}.
   */
  DPoPTokenEndpoint(JWSAlgorithm alg, String htu, String thumbprint) {
    this.alg = alg;
    this.htu = htu;
    this.thumbprint = thumbprint;
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    Map<String, String> form = Jose.form(request);
    if (seen.size() >= MAX_REQUESTS) {
      // A client that resends without end fails its test here instead of hanging it.
      return new MockResponse().setResponseCode(500);
    }
    JWTClaimsSet claims = check(request.getHeader("DPoP"));
    if (claims == null) {
      seen.add(new Seen(400, null, null, form));
      return json(400, "{\"error\":\"invalid_dpop_proof\"}");
    }
    String sentNonce = (String) claims.getClaim("nonce");
    String required = nonce;
    if (alwaysAskForNewNonce || (required != null && !required.equals(sentNonce))) {
      if (alwaysAskForNewNonce) required = nonce = "fresh-" + seen.size();
      seen.add(new Seen(400, sentNonce, claims.getJWTID(), form));
      return json(400, "{\"error\":\"use_dpop_nonce\",\"error_description\":\"fresh nonce\"}")
          .setHeader("DPoP-Nonce", required);
    }
    seen.add(new Seen(200, sentNonce, claims.getJWTID(), form));
    MockResponse response =
        json(
            200,
            "{\"access_token\":\"jkt."
                + thumbprint
                + "."
                + issued.incrementAndGet()
                + "\",\"token_type\":\""
                + tokenType
                + "\",\"expires_in\":300,\"refresh_token\":\"refresh-next\"}");
    String announced = nextNonce;
    if (announced != null) {
      nonce = announced;
      response.setHeader("DPoP-Nonce", announced);
    }
    return response;
  }

  /** Returns the proof's claims, or null after adding to {@link #problems} what is wrong. */
  private @Nullable JWTClaimsSet check(@Nullable String proof) {
    if (proof == null) {
      problems.add("no DPoP header");
      return null;
    }
    int before = problems.size();
    try {
      SignedJWT jwt = SignedJWT.parse(proof);
      JWSHeader header = jwt.getHeader();
      expect("typ", "dpop+jwt", header.getType() != null ? header.getType().getType() : null);
      expect("alg", alg, header.getAlgorithm());
      JWK jwk = header.getJWK();
      if (jwk == null || jwk.isPrivate()) {
        problems.add("jwk is not a public key: " + jwk);
        return null;
      }
      JWSVerifier verifier =
          jwk.getKeyType() == KeyType.EC
              ? new ECDSAVerifier(jwk.toECKey())
              : new RSASSAVerifier(jwk.toRSAKey());
      if (!jwt.verify(verifier)) problems.add("signature does not verify with the jwk");
      // The token is bound to this key (RFC 9449 §6.1): nimbus's thumbprint must be the library's.
      expect("thumbprint", thumbprint, jwk.computeThumbprint().toString());
      JWTClaimsSet claims = jwt.getJWTClaimsSet();
      expect("htm", "POST", claims.getClaim("htm"));
      expect("htu", htu, claims.getClaim("htu"));
      expect("ath", null, claims.getClaim("ath"));
      long now = System.currentTimeMillis();
      long iat = claims.getIssueTime() != null ? claims.getIssueTime().getTime() : 0L;
      if (Math.abs(iat - now) > 60_000L) problems.add("iat not within 60 s: " + iat + " at " + now);
      String jti = claims.getJWTID();
      if (jti == null || jti.isEmpty()) problems.add("no jti");
      else if (!jtis.add(jti)) problems.add("jti repeated: " + jti);
      return problems.size() == before ? claims : null;
    } catch (ParseException | JOSEException | RuntimeException e) {
      problems.add(String.valueOf(e));
      return null;
    }
  }

  private void expect(String what, @Nullable Object expected, @Nullable Object actual) {
    if (expected == null ? actual != null : !expected.equals(actual)) {
      problems.add(what + ": expected " + expected + " but was " + actual);
    }
  }

  /** The access token this endpoint issues as its {@code n}th, bound to {@code thumbprint}. */
  static String accessToken(String thumbprint, int n) {
    return "jkt." + thumbprint + "." + n;
  }
}
