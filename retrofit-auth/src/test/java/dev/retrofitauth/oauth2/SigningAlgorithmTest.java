package dev.retrofitauth.oauth2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.SignedJWT;
import dev.retrofitauth.internal.JwsSigner;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.List;
import java.util.Map;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JWS algorithm of client assertions and JWT bearer grants can be chosen (RS256, PS256, ES256,
 * ES384), and the key must fit it; each signature is verified by nimbus-jose-jwt.
 */
final class SigningAlgorithmTest {
  private static final KeyPair RSA = Jose.rsa();
  private static final KeyPair P256 = Jose.ec("secp256r1");
  private static final KeyPair P384 = Jose.ec("secp384r1");

  @ParameterizedTest
  @ValueSource(strings = {"RS256", "PS256", "ES256", "ES384"})
  void eachAlgorithmSignsWhatNimbusVerifies(String algorithm) throws Exception {
    KeyPair keys = keysFor(algorithm);
    String jwt =
        new JwsSigner(keys.getPrivate(), "key-1", algorithm)
            .sign(Map.of("typ", "JWT"), Map.of("iss", "me"));
    SignedJWT parsed = SignedJWT.parse(jwt);
    assertEquals(JWSAlgorithm.parse(algorithm), parsed.getHeader().getAlgorithm());
    assertEquals("key-1", parsed.getHeader().getKeyID());
    assertTrue(parsed.verify(verifier(keys)), algorithm + " does not verify");
    assertEquals("me", parsed.getJWTClaimsSet().getIssuer());
  }

  @Test
  void aKeyThatDoesNotFitTheAlgorithmIsRefusedWithWhatItNeeds() {
    assertEquals(
        "PS256 needs an RSA key, and this key is EC",
        assertThrows(
                IllegalArgumentException.class,
                () -> new JwsSigner(P256.getPrivate(), "k", "PS256"))
            .getMessage());
    assertEquals(
        "ES384 needs an EC key on the P-384 (secp384r1) curve: this key is on another curve",
        assertThrows(
                IllegalArgumentException.class,
                () -> new JwsSigner(P256.getPrivate(), "k", "ES384"))
            .getMessage());
    assertEquals(
        "ES256 needs an EC key on the P-256 (secp256r1) curve: this key is on another curve",
        assertThrows(
                IllegalArgumentException.class,
                () -> new JwsSigner(P384.getPrivate(), "k", "ES256"))
            .getMessage());
    assertEquals(
        "unsupported JWS algorithm: HS256 (use RS256, PS256, ES256 or ES384)",
        assertThrows(
                IllegalArgumentException.class,
                () -> OAuth2RefreshApi.builder().privateKey(RSA.getPrivate(), "k", "HS256"))
            .getMessage());
  }

  @Test
  void aClientAssertionIsSignedWithTheChosenAlgorithm() throws Exception {
    MockWebServer server = Jose.noDelayServer();
    server.start();
    try {
      server.enqueue(
          new MockResponse()
              .setHeader("Content-Type", "application/json")
              .setBody("{\"access_token\":\"machine-1\",\"token_type\":\"Bearer\"}"));
      OAuth2TokenSource.clientCredentials()
          .tokenEndpoint(server.url("/oauth/token").toString())
          .clientId("my job")
          .privateKey(RSA.getPrivate(), "key-ps", "PS256")
          .build()
          .fetch();
      SignedJWT assertion =
          SignedJWT.parse(Jose.form(server.takeRequest()).get("client_assertion"));
      assertEquals(JWSAlgorithm.PS256, assertion.getHeader().getAlgorithm());
      assertTrue(assertion.verify(new RSASSAVerifier((RSAPublicKey) RSA.getPublic())));
      assertEquals(
          List.of(server.url("/oauth/token").toString()),
          assertion.getJWTClaimsSet().getAudience());
    } finally {
      server.shutdown();
    }
  }

  private static KeyPair keysFor(String algorithm) {
    switch (algorithm) {
      case "ES256":
        return P256;
      case "ES384":
        return P384;
      default:
        return RSA;
    }
  }

  private static JWSVerifier verifier(KeyPair keys) throws Exception {
    return keys.getPublic() instanceof RSAPublicKey
        ? new RSASSAVerifier((RSAPublicKey) keys.getPublic())
        : new ECDSAVerifier((ECPublicKey) keys.getPublic());
  }
}
