package dev.retrofitauth.oauth2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.retrofitauth.internal.JwsSigner;
import dev.retrofitauth.oauth2.Jose.Alg;
import java.io.IOException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import okio.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

final class JwsSignerTest {
  @ParameterizedTest
  @EnumSource(Alg.class)
  void signedJwtVerifiesWithNimbusAndKeepsHeaderAndClaims(Alg alg) throws Exception {
    JwsSigner signer = new JwsSigner(alg.keys.getPrivate(), "key-1");
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", "me");
    claims.put("exp", 2_000_000_000L);
    claims.put("list", List.of("a", "b"));
    claims.put("nested", Map.of("x", true));

    String jwt = signer.sign(Map.of("typ", "JWT"), claims);

    JWTClaimsSet verified = Jose.verify(jwt, alg, alg.keys.getPublic());
    assertEquals("me", verified.getIssuer());
    assertEquals(2_000_000_000L, verified.getExpirationTime().getTime() / 1000);
    assertEquals(List.of("a", "b"), verified.getStringListClaim("list"));
    assertEquals(true, verified.getJSONObjectClaim("nested").get("x"));
    assertEquals(
        "{\"alg\":\"" + alg + "\",\"kid\":\"key-1\",\"typ\":\"JWT\"}",
        ByteString.decodeBase64(jwt.substring(0, jwt.indexOf('.'))).utf8());
    assertEquals(alg.name(), signer.algorithm());
    assertFalse(jwt.contains("="), "base64url without padding");
    assertFalse(jwt.contains("+") || jwt.contains("/"), "base64url, not base64");
  }

  /**
   * Every ES256 signature must verify: one with a short or high-bit R or S would not if mishandled.
   */
  @Test
  void manyEs256SignaturesAllVerify() throws Exception {
    JwsSigner signer = new JwsSigner(Alg.ES256.keys.getPrivate(), null);
    for (int i = 0; i < 300; i++) {
      String jwt = signer.sign(Map.of(), Map.of("i", i));
      assertEquals(86, jwt.substring(jwt.lastIndexOf('.') + 1).length()); // 64 bytes.
      Jose.verify(jwt, Alg.ES256, Alg.ES256.keys.getPublic());
    }
  }

  /**
   * Converts thousands of real JCA signatures and compares with nimbus's own transcoder; among them
   * are integers with a sign byte (33 bytes) and integers with leading zeros dropped (under 32).
   */
  @Test
  void derToJoseMatchesNimbusOnRealSignatures() throws Exception {
    Signature jca = Signature.getInstance("SHA256withECDSA");
    int withSignByte = 0;
    int shorter = 0;
    for (int i = 0; i < 2000; i++) {
      jca.initSign(Alg.ES256.keys.getPrivate());
      jca.update(new byte[] {(byte) i, (byte) (i >> 8)});
      byte[] der = jca.sign();
      int rLength = der[3];
      int sLength = der[5 + rLength];
      withSignByte += (rLength == 33 ? 1 : 0) + (sLength == 33 ? 1 : 0);
      shorter += (rLength < 32 ? 1 : 0) + (sLength < 32 ? 1 : 0);
      assertArrayEquals(ECDSA.transcodeSignatureToConcat(der, 64), JwsSigner.derToJose(der, 32));
    }
    assertTrue(withSignByte > 0 && shorter > 0, withSignByte + " / " + shorter);
  }

  @Test
  void derToJosePadsShortIntegersAndDropsSignBytes() throws Exception {
    byte[] highBit = new byte[32];
    Arrays.fill(highBit, (byte) 0x80);
    byte[] r = concat(new byte[] {0x00}, highBit); // 33 bytes: a sign byte, then the value.
    byte[] s = {0x05}; // 1 byte: 31 leading zeros were dropped.
    byte[] der = sequence(integer(r), integer(s));

    byte[] expected = new byte[64];
    System.arraycopy(highBit, 0, expected, 0, 32);
    expected[63] = 0x05;
    assertArrayEquals(expected, JwsSigner.derToJose(der, 32));
    assertArrayEquals(ECDSA.transcodeSignatureToConcat(der, 64), JwsSigner.derToJose(der, 32));
    // Zero itself is one zero byte.
    assertArrayEquals(
        new byte[64],
        JwsSigner.derToJose(sequence(integer(new byte[1]), integer(new byte[1])), 32));
  }

  @Test
  void derToJoseRefusesMalformedSignatures() {
    byte[] ok = {0x01};
    assertDerError("no SEQUENCE", new byte[] {0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01});
    assertDerError(
        "bad SEQUENCE length", new byte[] {0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01});
    assertDerError("no INTEGER", sequence(new byte[] {0x04, 0x01, 0x01}, integer(ok)));
    assertDerError(
        "INTEGER longer than 32 bytes", sequence(integer(filled(33, 0x7f)), integer(ok)));
    assertDerError("bad INTEGER length", new byte[] {0x30, 0x04, 0x02, 0x05, 0x01, 0x01});
    assertDerError("truncated", new byte[] {0x30, 0x03, 0x02, 0x01, 0x01});
    assertDerError("truncated", new byte[0]);
  }

  private static void assertDerError(String why, byte[] der) {
    assertEquals(
        "the JCA returned a malformed ECDSA signature: " + why,
        assertThrows(IOException.class, () -> JwsSigner.derToJose(der, 32)).getMessage());
  }

  @Test
  void refusesKeysItCannotSignWith() {
    assertEquals(
        "RS256 needs an RSA key of 2048 bits or more: 1024",
        assertThrows(
                IllegalArgumentException.class,
                () -> new JwsSigner(Jose.generate("RSA", 1024).getPrivate(), "k"))
            .getMessage());
    assertEquals(
        "ES256 needs an EC key on the P-256 curve (secp256r1): this key is on another curve",
        assertThrows(
                IllegalArgumentException.class,
                () -> new JwsSigner(Jose.ec("secp384r1").getPrivate(), "k"))
            .getMessage());
    assertEquals(
        "unsupported key algorithm: DSA (use an RSA or EC P-256 key)",
        assertThrows(
                IllegalArgumentException.class,
                () -> new JwsSigner(Jose.generate("DSA", 2048).getPrivate(), "k"))
            .getMessage());
  }

  /** An opaque key, as from a hardware store, that the JCA refuses: an IOException, no key text. */
  @Test
  void aKeyTheJcaRefusesIsAnIoException() {
    @SuppressWarnings("serial") // Never serialized.
    PrivateKey opaque =
        new PrivateKey() {
          @Override
          public String getAlgorithm() {
            return "RSA";
          }

          @Override
          public String getFormat() {
            return null;
          }

          @Override
          public byte[] getEncoded() {
            return null;
          }
        };
    JwsSigner signer = new JwsSigner(opaque, "k");

    IOException e = assertThrows(IOException.class, () -> signer.sign(Map.of(), Map.of()));

    assertEquals("could not sign a JWT with RS256 (InvalidKeyException)", e.getMessage());
  }

  @Test
  void jtiIsSixteenRandomBytesAndNeverRepeats() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String jti = JwsSigner.newJti();
      assertEquals(16, ByteString.decodeBase64(jti).size());
      assertTrue(seen.add(jti), jti);
    }
  }

  @Test
  void toStringShowsAlgorithmAndKeyIdButNoKey() {
    JwsSigner signer = new JwsSigner(Alg.RS256.keys.getPrivate(), "key-1");
    assertEquals("JwsSigner{alg=RS256, kid=key-1}", signer.toString());
  }

  @Test
  void base64UrlStripsPadding() {
    assertEquals("-_8", JwsSigner.base64Url(ByteString.of((byte) 0xfb, (byte) 0xff)));
    assertEquals("YQ", JwsSigner.base64Url(ByteString.encodeUtf8("a")));
    assertEquals("", JwsSigner.base64Url(ByteString.EMPTY));
  }

  /** nimbus parses what the signer writes: a sanity check on the compact form itself. */
  @Test
  void compactFormHasThreeParts() throws Exception {
    String jwt = new JwsSigner(Alg.RS256.keys.getPrivate(), "k").sign(Map.of(), Map.of());
    assertEquals(3, jwt.split("\\.", -1).length);
    assertEquals("k", SignedJWT.parse(jwt).getHeader().getKeyID());
  }

  private static byte[] integer(byte[] value) {
    return concat(new byte[] {0x02, (byte) value.length}, value);
  }

  private static byte[] sequence(byte[] first, byte[] second) {
    return concat(new byte[] {0x30, (byte) (first.length + second.length)}, concat(first, second));
  }

  private static byte[] filled(int length, int value) {
    byte[] result = new byte[length];
    Arrays.fill(result, (byte) value);
    return result;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] result = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, result, a.length, b.length);
    return result;
  }
}
