package dev.retrofitauth;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.HttpUrl;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.jspecify.annotations.Nullable;

/**
 * A resource server that requires DPoP (RFC 9449 §7), and checks every proof with nimbus-jose-jwt,
 * independently of the library's own signing code: the signature against the embedded {@code jwk},
 * {@code typ}, {@code htm}, {@code htu}, {@code iat}, {@code ath} against the presented token, the
 * key's RFC 7638 thumbprint against the token's binding ({@code cnf.jkt}), {@code jti} uniqueness,
 * and the nonce when it requires one. Every check that fails is recorded.
 */
final class DpopResourceServer implements AutoCloseable {
  final MockWebServer server = new MockWebServer();

  /** What went wrong in any request; a test asserts it stays empty. */
  final List<String> failures = new CopyOnWriteArrayList<>();

  final Set<String> jtis = ConcurrentHashMap.newKeySet();
  final AtomicInteger requests = new AtomicInteger();
  final AtomicInteger nonceChallenges = new AtomicInteger();

  /** Nonce challenges per "path token": each attempt of a call is resent at most once. */
  final Map<String, AtomicInteger> nonceChallengesByAttempt = new ConcurrentHashMap<>();

  /** token -> the thumbprint (cnf.jkt) of the key it is bound to. */
  private final Map<String, String> bindings = new ConcurrentHashMap<>();

  private final Set<String> validTokens = ConcurrentHashMap.newKeySet();
  private volatile @Nullable String nonce;
  private volatile @Nullable String previousNonce;

  /** From this request on, the nonce rotates every {@link #rotateEvery} requests; 0 never. */
  volatile int rotateFrom;

  volatile int rotateEvery;

  /** At this request the token {@link #expiring} stops being valid; 0 never. */
  volatile int expireAt;

  volatile @Nullable String expiring;

  DpopResourceServer() throws IOException {
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            return respond(request);
          }
        });
    server.setServerSocketFactory(new ApiServer.NoDelayServerSocketFactory());
    server.start();
  }

  HttpUrl url(String path) {
    return server.url(path);
  }

  /** Issues {@code token} bound to {@code publicKey}, whose thumbprint nimbus computes. */
  void issue(String token, PublicKey publicKey) {
    bindings.put(token, thumbprint(publicKey));
    validTokens.add(token);
  }

  void expire(String token) {
    validTokens.remove(token);
  }

  /**
   * From now on every proof must carry {@code nonce}, or the one before it: like real servers, it
   * accepts the previous nonce a little longer, for the requests that were under way.
   */
  synchronized void requireNonce(String nonce) {
    this.previousNonce = this.nonce;
    this.nonce = nonce;
  }

  static String thumbprint(PublicKey publicKey) {
    try {
      JWK jwk =
          publicKey instanceof ECPublicKey
              ? new ECKey.Builder(Curve.P_256, (ECPublicKey) publicKey).build()
              : new RSAKey.Builder((RSAPublicKey) publicKey).build();
      return jwk.computeThumbprint().toString();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private MockResponse respond(RecordedRequest request) {
    int n = requests.incrementAndGet();
    if (rotateEvery > 0 && n >= rotateFrom && (n - rotateFrom) % rotateEvery == 0) {
      requireNonce("rotated-at-" + n);
    }
    if (n == expireAt && expiring != null) expire(expiring);
    String authorization = request.getHeader("Authorization");
    if (authorization == null || !authorization.startsWith("DPoP ")) {
      return fail("not a DPoP Authorization header: " + authorization);
    }
    String token = authorization.substring("DPoP ".length());
    String proof = request.getHeader("DPoP");
    if (proof == null) return fail("no DPoP proof");
    JWTClaimsSet claims;
    try {
      SignedJWT jwt = SignedJWT.parse(proof);
      if (!new JOSEObjectType("dpop+jwt").equals(jwt.getHeader().getType())) {
        return fail("typ is " + jwt.getHeader().getType());
      }
      JWK jwk = jwt.getHeader().getJWK();
      if (jwk == null || jwk.isPrivate()) return fail("no public jwk");
      JWSVerifier verifier =
          JWSAlgorithm.ES256.equals(jwt.getHeader().getAlgorithm())
              ? new ECDSAVerifier(jwk.toECKey())
              : new RSASSAVerifier(jwk.toRSAKey());
      if (!jwt.verify(verifier)) return fail("the signature does not verify");
      claims = jwt.getJWTClaimsSet();
      HttpUrl url = request.getRequestUrl();
      String htu = url.newBuilder().query(null).fragment(null).build().toString();
      if (!request.getMethod().equals(claims.getStringClaim("htm"))) return fail("htm");
      if (!htu.equals(claims.getStringClaim("htu"))) {
        return fail("htu " + claims.getStringClaim("htu") + " for " + htu);
      }
      Date iat = claims.getIssueTime();
      if (iat == null || Math.abs(iat.getTime() - System.currentTimeMillis()) > 60_000) {
        return fail("iat " + iat);
      }
      String jti = claims.getJWTID();
      if (jti == null || !jtis.add(jti)) return fail("jti repeated: " + jti);
      String ath =
          Base64URL.encode(
                  MessageDigest.getInstance("SHA-256")
                      .digest(token.getBytes(StandardCharsets.US_ASCII)))
              .toString();
      if (!ath.equals(claims.getStringClaim("ath"))) return fail("ath");
      String bound = bindings.get(token);
      if (bound == null || !bound.equals(jwk.computeThumbprint().toString())) {
        return fail("the proof's key is not the one the token is bound to");
      }
    } catch (Exception e) {
      return fail("proof: " + e);
    }
    String required;
    String previous;
    synchronized (this) {
      required = nonce;
      previous = previousNonce;
    }
    Object presented = claims.getClaim("nonce");
    if (required != null
        && !required.equals(presented)
        && (previous == null || !previous.equals(presented))) {
      nonceChallenges.incrementAndGet();
      nonceChallengesByAttempt
          .computeIfAbsent(request.getPath() + " " + token, k -> new AtomicInteger())
          .incrementAndGet();
      return new MockResponse()
          .setResponseCode(401)
          .setHeader("WWW-Authenticate", "DPoP error=\"use_dpop_nonce\"")
          .setHeader("DPoP-Nonce", required);
    }
    if (!validTokens.contains(token)) {
      return new MockResponse()
          .setResponseCode(401)
          .setHeader("WWW-Authenticate", "DPoP error=\"invalid_token\"");
    }
    MockResponse ok = new MockResponse().setBody("ok");
    if (required != null) ok.setHeader("DPoP-Nonce", required);
    return ok;
  }

  private MockResponse fail(String why) {
    failures.add(why);
    return new MockResponse().setResponseCode(400).setBody(why);
  }

  @Override
  public void close() throws IOException {
    server.shutdown();
  }
}
