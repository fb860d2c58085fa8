package dev.retrofitauth;

import dev.retrofitauth.internal.JwsSigner;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.HttpUrl;
import okhttp3.Response;
import okio.ByteString;
import org.jspecify.annotations.Nullable;

/**
 * A DPoP key (RFC 9449): it binds the tokens to a key that the client holds, so that a stolen token
 * is useless without it. Give it to the manager with {@link RefreshManager.Builder#dpop} and to the
 * OAuth 2 helper that fetches the tokens.
 *
 * <pre>{@code
 * DPoP dpop = DPoP.of(keyPair); // keep the key as long as the tokens: they are bound to it
 * RefreshManager auth = RefreshManager.builder()
 *     .dpop(dpop)
 *     .refreshApi(OAuth2RefreshApi.builder().issuer(issuer).clientId("app").dpop(dpop).build())
 *     .build();
 * }</pre>
 *
 * <p>Every request that gets a token then carries a proof in a {@code DPoP} header, signed with the
 * key, and {@code Authorization: DPoP <token>} when the server issued a DPoP token. The latest
 * {@code DPoP-Nonce} of each origin is echoed, separately for the token endpoint and for resource
 * servers. Signing uses the JCA only. Instances are thread-safe; {@link #toString()} shows the
 * key's thumbprint, never key material.
 */
public final class DPoP {
  /** Signs with a key the JCA cannot reach directly, such as a hardware key. */
  public interface Signer {
    /**
     * Signs {@code input} and returns what {@code java.security.Signature.sign()} returns for
     * {@code SHA256withECDSA} (DER) with an EC P-256 key, or {@code SHA256withRSA} with an RSA key.
     */
    byte[] sign(byte[] input) throws IOException;
  }

  /** The order of P-256's base point (secp256r1): it tells the curve from other 256-bit ones. */
  private static final BigInteger P256_ORDER =
      new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);

  private final JwsSigner signer;
  private final Map<String, String> jwk;
  private final String thumbprint;

  /** At most this many origins' nonces are kept; past it, an arbitrary one is dropped. */
  static final int MAX_NONCES = 64;

  /** The longest nonce kept; a longer one is a broken or hostile server's, and is ignored. */
  static final int MAX_NONCE_LENGTH = 512;

  /** A skew under this is the {@code Date} header's one-second resolution, not a wrong clock. */
  private static final long MIN_SKEW_MILLIS = 2_000L;

  private final Clock clock;
  // A Map, not the ConcurrentHashMap type: its keySet() returns a type Android 21 lacks.
  private final Map<String, String> nonces = new ConcurrentHashMap<>();

  /** The servers' clock less ours, from their {@code Date} headers; 0 until one is far off. */
  private volatile long skewMillis;

  private DPoP(JwsSigner signer, Map<String, String> jwk, Clock clock) {
    this.signer = signer;
    this.jwk = jwk;
    this.thumbprint = thumbprint(jwk);
    this.clock = clock;
  }

  /** Returns a DPoP key with a new EC P-256 key pair, which lives as long as this process. */
  public static DPoP generate() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return of(generator.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this platform cannot generate an EC P-256 key", e);
    }
  }

  /**
   * Returns a DPoP key for {@code keyPair}: EC P-256 (ES256), or RSA of 2048 bits or more (RS256).
   * An Android Keystore key works: its private key is used through {@code java.security.Signature}.
   */
  public static DPoP of(KeyPair keyPair) {
    Objects.requireNonNull(keyPair, "keyPair == null");
    return new DPoP(
        new JwsSigner(keyPair.getPrivate(), null),
        jwk(keyPair.getPublic()),
        System::currentTimeMillis);
  }

  /** Returns a DPoP key whose private half only {@code signer} can use. */
  public static DPoP of(PublicKey publicKey, Signer signer) {
    Objects.requireNonNull(publicKey, "publicKey == null");
    Objects.requireNonNull(signer, "signer == null");
    String algorithm = publicKey instanceof RSAPublicKey ? "RS256" : "ES256";
    return new DPoP(
        new JwsSigner(algorithm, signer::sign, null), jwk(publicKey), System::currentTimeMillis);
  }

  /** The key's JWK thumbprint (RFC 7638), as the server puts it in a token's {@code cnf.jkt}. */
  public String thumbprint() {
    return thumbprint;
  }

  /**
   * Returns the {@code DPoP} header value for a request to the token endpoint at {@code url}: a
   * proof without {@code ath}, with the token endpoint's latest nonce. For helpers that call a
   * token endpoint themselves.
   */
  public String proofForTokenRequest(String method, HttpUrl url) throws IOException {
    return proof(method, url, null, nonces.get(nonceKey(url, true)));
  }

  /**
   * Returns the {@code DPoP} header value for a request to a resource server at {@code url} that
   * carries {@code accessToken}: a proof with {@code ath}, and the origin's latest nonce.
   */
  public String proofForResource(String method, HttpUrl url, String accessToken)
      throws IOException {
    Objects.requireNonNull(accessToken, "accessToken == null");
    return proof(method, url, accessToken, nonces.get(nonceKey(url, false)));
  }

  /**
   * Like {@link #proofForResource}, with {@code nonce}: the one a challenge just asked for. Other
   * responses may have stored an older one meanwhile, as responses arrive in any order.
   */
  String proofForResource(String method, HttpUrl url, String accessToken, String nonce)
      throws IOException {
    return proof(method, url, accessToken, nonce);
  }

  private String proof(
      String method, HttpUrl url, @Nullable String accessToken, @Nullable String nonce)
      throws IOException {
    Objects.requireNonNull(method, "method == null");
    Objects.requireNonNull(url, "url == null");
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("typ", "dpop+jwt");
    header.put("jwk", jwk);
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("jti", JwsSigner.newJti());
    claims.put("htm", method);
    // RFC 9449 §4.2: htu without query and fragment; and without user info, which may hold a
    // password that would then sit in a signed proof that servers log.
    claims.put("htu", htu(url));
    claims.put("iat", (clock.currentTimeMillis() + skewMillis) / 1000L);
    if (accessToken != null) {
      claims.put(
          "ath",
          JwsSigner.base64Url(
              ByteString.encodeString(accessToken, StandardCharsets.US_ASCII).sha256()));
    }
    if (nonce != null) claims.put("nonce", nonce);
    return signer.sign(header, claims);
  }

  /**
   * Keeps the {@code DPoP-Nonce} that {@code response} carries, if any, for its origin: for the
   * token endpoint if {@code tokenEndpoint}, else for that resource server. Returns true if it is a
   * nonce this key did not use for that origin yet. A nonce longer than {@value #MAX_NONCE_LENGTH}
   * characters or outside the RFC's syntax is ignored, and at most {@value #MAX_NONCES} origins'
   * nonces are kept. The response's {@code Date} header also corrects the proofs' {@code iat} when
   * the local clock is more than two seconds off.
   */
  public boolean rememberNonce(Response response, boolean tokenEndpoint) {
    learnSkew(response);
    String nonce = response.header("DPoP-Nonce");
    if (nonce == null || !isNonce(nonce)) return false;
    String key = nonceKey(response.request().url(), tokenEndpoint);
    if (nonces.size() >= MAX_NONCES && !nonces.containsKey(key)) {
      // Bounded: every origin that answers gets an entry, and there is no end to origins.
      java.util.Iterator<String> any = nonces.keySet().iterator();
      if (any.hasNext()) nonces.remove(any.next());
    }
    String previous = nonces.put(key, nonce);
    return !nonce.equals(previous);
  }

  /**
   * Corrects the proofs' {@code iat} by the server's clock, from {@code response}'s {@code Date}
   * header, when the two clocks differ by more than its one-second resolution: a server refuses a
   * proof whose {@code iat} is far from its own time, and a phone's clock is often off.
   */
  private void learnSkew(Response response) {
    java.util.Date date = response.headers().getDate("Date");
    if (date == null) return;
    long skew = date.getTime() - clock.currentTimeMillis();
    skewMillis = Math.abs(skew) < MIN_SKEW_MILLIS ? 0L : skew;
  }

  /** RFC 9449 §8.1: {@code nonce = 1*NQCHAR}, printable ASCII without {@code "} and {@code \}. */
  private static boolean isNonce(String nonce) {
    if (nonce.isEmpty() || nonce.length() > MAX_NONCE_LENGTH) return false;
    for (int i = 0; i < nonce.length(); i++) {
      char c = nonce.charAt(i);
      if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') return false;
    }
    return true;
  }

  /** How many origins' nonces are kept now. */
  int nonceCount() {
    return nonces.size();
  }

  /** The {@code htu} of a proof for {@code url}: no user info, query or fragment. */
  static String htu(HttpUrl url) {
    return url.newBuilder().username("").password("").query(null).fragment(null).build().toString();
  }

  private static String nonceKey(HttpUrl url, boolean tokenEndpoint) {
    return (tokenEndpoint ? "token " : "resource ")
        + url.scheme()
        + "://"
        + url.host()
        + ":"
        + url.port();
  }

  /** The public JWK, with only the members RFC 7638 lists, in lexicographic order. */
  private static Map<String, String> jwk(PublicKey key) {
    Map<String, String> jwk = new LinkedHashMap<>();
    if (key instanceof ECPublicKey) {
      ECPublicKey ec = (ECPublicKey) key;
      if (!P256_ORDER.equals(ec.getParams().getOrder())) {
        throw new IllegalArgumentException("ES256 needs an EC key on the P-256 curve");
      }
      jwk.put("crv", "P-256");
      jwk.put("kty", "EC");
      jwk.put("x", unsigned(ec.getW().getAffineX(), 32));
      jwk.put("y", unsigned(ec.getW().getAffineY(), 32));
    } else if (key instanceof RSAPublicKey) {
      RSAPublicKey rsa = (RSAPublicKey) key;
      if (rsa.getModulus().bitLength() < 2048) {
        throw new IllegalArgumentException(
            "RS256 needs an RSA key of 2048 bits or more: " + rsa.getModulus().bitLength());
      }
      jwk.put("e", unsigned(rsa.getPublicExponent(), 0));
      jwk.put("kty", "RSA");
      jwk.put("n", unsigned(rsa.getModulus(), 0));
    } else {
      throw new IllegalArgumentException(
          "unsupported public key: " + key.getAlgorithm() + " (use an EC P-256 or RSA key)");
    }
    return Collections.unmodifiableMap(jwk);
  }

  /** Base64url of {@code value}'s unsigned big-endian bytes, left-padded to {@code length}. */
  private static String unsigned(BigInteger value, int length) {
    byte[] bytes = value.toByteArray();
    int start = bytes.length > 1 && bytes[0] == 0 ? 1 : 0;
    int size = Math.max(bytes.length - start, length);
    byte[] out = new byte[size];
    System.arraycopy(bytes, start, out, size - (bytes.length - start), bytes.length - start);
    return JwsSigner.base64Url(ByteString.of(out));
  }

  private static String thumbprint(Map<String, String> jwk) {
    StringBuilder json = new StringBuilder("{");
    for (Map.Entry<String, String> member : jwk.entrySet()) {
      if (json.length() > 1) json.append(',');
      json.append('"')
          .append(member.getKey())
          .append("\":\"")
          .append(member.getValue())
          .append('"');
    }
    json.append('}');
    return JwsSigner.base64Url(ByteString.encodeUtf8(json.toString()).sha256());
  }

  @Override
  public String toString() {
    return "DPoP{alg=" + signer.algorithm() + ", jkt=" + thumbprint + "}";
  }
}
