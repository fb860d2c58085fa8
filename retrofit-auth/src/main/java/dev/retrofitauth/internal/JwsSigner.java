package dev.retrofitauth.internal;

import com.squareup.moshi.JsonWriter;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import okio.Buffer;
import okio.ByteString;
import org.jspecify.annotations.Nullable;

/**
 * Signs JWTs in the JWS compact serialization (RFC 7515) with the JCA only: RS256 or PS256 with an
 * RSA key, ES256 with an EC P-256 key, ES384 with an EC P-384 key (RFC 7518 §3.3 to §3.5). It knows
 * nothing about OAuth: callers give it a header and claims, which is what client assertions, JWT
 * bearer grants and DPoP proofs all need.
 *
 * <p>Immutable and thread-safe: each signature gets its own {@link Signature}. {@link #toString()}
 * names the algorithm and the key id, never key material.
 *
 * <p>Not API: shared by the library's packages; it may change in any release.
 */
public final class JwsSigner {
  /**
   * Signs bytes the way {@code java.security.Signature.sign()} does for {@code SHA256withRSA} or
   * {@code SHA256withECDSA} (DER for ECDSA): a hardware key that the JCA cannot reach directly.
   */
  public interface RawSigner {
    byte[] sign(byte[] input) throws IOException;
  }

  /** The order of the P-256 curve's base point (SEC 2, secp256r1), which identifies the curve. */
  private static final BigInteger P256_ORDER =
      new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);

  /** The order of the P-384 curve's base point (SEC 2, secp384r1). */
  private static final BigInteger P384_ORDER =
      new BigInteger(
          "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
          16);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final @Nullable PrivateKey key;
  private final @Nullable RawSigner rawSigner;
  private final @Nullable String keyId;
  private final String algorithm;

  /**
   * Returns a signer for {@code key}: RS256 for an RSA key, ES256 for an EC key on P-256.
   *
   * @throws IllegalArgumentException for any other key, or an RSA key shorter than 2048 bits.
   */
  public JwsSigner(PrivateKey key, @Nullable String keyId) {
    this(key, keyId, null);
  }

  /**
   * Returns a signer for {@code key} with {@code algorithm}: {@code RS256} or {@code PS256} for an
   * RSA key of 2048 bits or more, {@code ES256} for an EC key on P-256, {@code ES384} for one on
   * P-384; null picks RS256 or ES256 by the key.
   *
   * @throws IllegalArgumentException for another algorithm, or a key that does not fit it.
   */
  public JwsSigner(PrivateKey key, @Nullable String keyId, @Nullable String algorithm) {
    this.key = Objects.requireNonNull(key, "key == null");
    this.rawSigner = null;
    this.keyId = keyId;
    this.algorithm = algorithm != null ? checkFits(algorithm, key) : algorithmFor(key);
  }

  /** Returns a signer that hands the signing input to {@code rawSigner}, for {@code algorithm}. */
  public JwsSigner(String algorithm, RawSigner rawSigner, @Nullable String keyId) {
    if (!algorithm.equals("RS256") && !algorithm.equals("ES256")) {
      throw new IllegalArgumentException("algorithm is not RS256 or ES256: " + algorithm);
    }
    this.key = null;
    this.rawSigner = Objects.requireNonNull(rawSigner, "rawSigner == null");
    this.keyId = keyId;
    this.algorithm = algorithm;
  }

  private static String algorithmFor(PrivateKey key) {
    // By interface and name, not by class: an Android Keystore or HSM key is not an RSAPrivateKey.
    if (key instanceof RSAKey || "RSA".equals(key.getAlgorithm())) {
      if (key instanceof RSAKey) {
        int bits = ((RSAKey) key).getModulus().bitLength();
        if (bits < 2048) {
          throw new IllegalArgumentException(
              "RS256 needs an RSA key of 2048 bits or more: " + bits);
        }
      }
      return "RS256";
    }
    if (key instanceof ECKey || "EC".equals(key.getAlgorithm())) {
      ECParameterSpec params = key instanceof ECKey ? ((ECKey) key).getParams() : null;
      if (params != null && !P256_ORDER.equals(params.getOrder())) {
        throw new IllegalArgumentException(
            "ES256 needs an EC key on the P-256 curve (secp256r1): this key is on another curve");
      }
      return "ES256";
    }
    throw new IllegalArgumentException(
        "unsupported key algorithm: " + key.getAlgorithm() + " (use an RSA or EC P-256 key)");
  }

  private static String checkFits(String algorithm, PrivateKey key) {
    boolean rsa = key instanceof RSAKey || "RSA".equals(key.getAlgorithm());
    boolean ec = key instanceof ECKey || "EC".equals(key.getAlgorithm());
    switch (algorithm) {
      case "RS256":
      case "PS256":
        if (!rsa) throw wrongKey(algorithm, "an RSA key", key);
        checkRsaLength(algorithm, key);
        return algorithm;
      case "ES256":
        if (!ec) throw wrongKey(algorithm, "an EC key on P-256", key);
        checkCurve(algorithm, key, P256_ORDER, "P-256 (secp256r1)");
        return algorithm;
      case "ES384":
        if (!ec) throw wrongKey(algorithm, "an EC key on P-384", key);
        checkCurve(algorithm, key, P384_ORDER, "P-384 (secp384r1)");
        return algorithm;
      default:
        throw new IllegalArgumentException(
            "unsupported JWS algorithm: " + algorithm + " (use RS256, PS256, ES256 or ES384)");
    }
  }

  private static IllegalArgumentException wrongKey(String algorithm, String needs, PrivateKey key) {
    return new IllegalArgumentException(
        algorithm + " needs " + needs + ", and this key is " + key.getAlgorithm());
  }

  private static void checkRsaLength(String algorithm, PrivateKey key) {
    if (key instanceof RSAKey) {
      int bits = ((RSAKey) key).getModulus().bitLength();
      if (bits < 2048) {
        throw new IllegalArgumentException(
            algorithm + " needs an RSA key of 2048 bits or more: " + bits);
      }
    }
  }

  private static void checkCurve(String algorithm, PrivateKey key, BigInteger order, String name) {
    ECParameterSpec params = key instanceof ECKey ? ((ECKey) key).getParams() : null;
    if (params != null && !order.equals(params.getOrder())) {
      throw new IllegalArgumentException(
          algorithm + " needs an EC key on the " + name + " curve: this key is on another curve");
    }
  }

  /** {@code RS256}, {@code PS256}, {@code ES256} or {@code ES384}. */
  public String algorithm() {
    return algorithm;
  }

  /**
   * Returns the signed JWT. The header is {@code alg}, then {@code kid} if this signer has one,
   * then {@code header}'s entries; the claims are written as given. Values may be strings, numbers,
   * booleans, lists and maps, as for Moshi's {@link JsonWriter#jsonValue}.
   *
   * @throws IOException if the JCA refused to sign, for example because a hardware key is locked.
   */
  public String sign(Map<String, ?> header, Map<String, ?> claims) throws IOException {
    Map<String, Object> fullHeader = new LinkedHashMap<>();
    fullHeader.put("alg", algorithm);
    if (keyId != null) fullHeader.put("kid", keyId);
    fullHeader.putAll(header);
    String signingInput = base64Url(json(fullHeader)) + "." + base64Url(json(claims));
    byte[] signature;
    if (rawSigner != null) {
      signature = rawSigner.sign(signingInput.getBytes(StandardCharsets.US_ASCII));
      if (signature == null) throw new IOException("the signer returned no signature");
    } else {
      signature = jcaSign(signingInput);
    }
    if (algorithm.equals("ES256")) signature = derToJose(signature, 32);
    if (algorithm.equals("ES384")) signature = derToJose(signature, 48);
    return signingInput + "." + base64Url(ByteString.of(signature));
  }

  private byte[] jcaSign(String signingInput) throws IOException {
    try {
      Signature signer;
      switch (algorithm) {
        case "RS256":
          signer = Signature.getInstance("SHA256withRSA");
          break;
        case "PS256":
          return pssSign(signingInput);
        case "ES384":
          signer = Signature.getInstance("SHA384withECDSA");
          break;
        default:
          signer = Signature.getInstance("SHA256withECDSA");
      }
      signer.initSign(key);
      signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signer.sign();
    } catch (GeneralSecurityException | ProviderException e) {
      // ProviderException: what Android's Keystore throws for a key it cannot use now. The JCA's
      // message is left out: a provider may describe the key in it.
      throw new IOException(
          "could not sign a JWT with " + algorithm + " (" + e.getClass().getSimpleName() + ")", e);
    }
  }

  /**
   * PS256 (RFC 7518 §3.5): SHA-256, MGF1 with SHA-256, a 32-byte salt. The JDK (11, and 8u261 on)
   * calls it RSASSA-PSS with parameters; Android (API 23 on) and Bouncy Castle call it
   * SHA256withRSA/PSS, whose defaults are those.
   */
  private byte[] pssSign(String signingInput) throws GeneralSecurityException {
    Signature signer;
    try {
      signer = Signature.getInstance("RSASSA-PSS");
      signer.initSign(key);
      signer.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
    } catch (NoSuchAlgorithmException e) {
      signer = Signature.getInstance("SHA256withRSA/PSS");
      signer.initSign(key);
    }
    signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
    return signer.sign();
  }

  /** Returns a new random JWT id: 16 bytes from {@link SecureRandom}, base64url-encoded. */
  public static String newJti() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return base64Url(ByteString.of(bytes));
  }

  /**
   * Converts a DER-encoded ECDSA signature, {@code SEQUENCE { INTEGER r, INTEGER s }} as the JCA
   * returns it, to JOSE's form: R and S as unsigned big-endian integers of {@code partLength} bytes
   * each, concatenated (RFC 7518 §3.4). A DER integer drops leading zero bytes and gains one when
   * its top bit is set, so each part is padded or trimmed to {@code partLength}.
   *
   * @throws IOException if {@code der} is not such a signature.
   */
  public static byte[] derToJose(byte[] der, int partLength) throws IOException {
    int[] position = {0};
    if (readByte(der, position) != 0x30) throw malformed("no SEQUENCE");
    int sequenceLength = readLength(der, position);
    if (position[0] + sequenceLength != der.length) throw malformed("bad SEQUENCE length");
    byte[] result = new byte[2 * partLength];
    readInteger(der, position, result, 0, partLength);
    readInteger(der, position, result, partLength, partLength);
    if (position[0] != der.length) throw malformed("trailing bytes");
    return result;
  }

  private static void readInteger(
      byte[] der, int[] position, byte[] out, int offset, int partLength) throws IOException {
    if (readByte(der, position) != 0x02) throw malformed("no INTEGER");
    int length = readLength(der, position);
    if (length == 0 || position[0] + length > der.length) throw malformed("bad INTEGER length");
    int start = position[0];
    int end = start + length;
    position[0] = end;
    while (start < end - 1 && der[start] == 0) start++; // Drop the sign byte and any padding.
    int significant = end - start;
    if (significant > partLength) throw malformed("INTEGER longer than " + partLength + " bytes");
    System.arraycopy(der, start, out, offset + partLength - significant, significant);
  }

  private static int readByte(byte[] der, int[] position) throws IOException {
    if (position[0] >= der.length) throw malformed("truncated");
    return der[position[0]++] & 0xff;
  }

  /** Reads a DER length: short form, or long form with one or two length bytes. */
  private static int readLength(byte[] der, int[] position) throws IOException {
    int first = readByte(der, position);
    if (first < 0x80) return first;
    int count = first & 0x7f;
    if (count < 1 || count > 2) throw malformed("unsupported length");
    int length = 0;
    for (int i = 0; i < count; i++) length = (length << 8) | readByte(der, position);
    return length;
  }

  private static IOException malformed(String why) {
    return new IOException("the JCA returned a malformed ECDSA signature: " + why);
  }

  private static ByteString json(Map<String, ?> value) throws IOException {
    Buffer buffer = new Buffer();
    JsonWriter writer = JsonWriter.of(buffer);
    writer.jsonValue(value);
    writer.close();
    return buffer.readByteString();
  }

  /** Base64url without padding (RFC 7515 §2). */
  public static String base64Url(ByteString bytes) {
    String padded = bytes.base64Url();
    int end = padded.length();
    while (end > 0 && padded.charAt(end - 1) == '=') end--;
    return padded.substring(0, end);
  }

  @Override
  public String toString() {
    return "JwsSigner{alg=" + algorithm + (keyId != null ? ", kid=" + keyId : "") + "}";
  }
}
