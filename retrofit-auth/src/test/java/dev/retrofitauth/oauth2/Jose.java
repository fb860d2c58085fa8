package dev.retrofitauth.oauth2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.text.ParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ServerSocketFactory;
import okhttp3.HttpUrl;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;

/**
 * Keys, forms and an independent JWT check for the tests: signatures are verified with
 * nimbus-jose-jwt, never with the library's own signing code.
 */
final class Jose {
  private Jose() {}

  /** The two key types the library signs with; the key pairs are made once, they are slow. */
  enum Alg {
    RS256(rsa()),
    ES256(ec("secp256r1"));

    final KeyPair keys;

    Alg(KeyPair keys) {
      this.keys = keys;
    }
  }

  static KeyPair rsa() {
    return generate("RSA", 2048);
  }

  static KeyPair generate(String algorithm, int bits) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
      generator.initialize(bits);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  static KeyPair ec(String curve) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec(curve));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Parses {@code jwt}, checks with nimbus that {@code publicKey} signed it with {@code alg}, and
   * returns its claims.
   */
  static JWTClaimsSet verify(String jwt, Alg alg, PublicKey publicKey) {
    try {
      SignedJWT parsed = SignedJWT.parse(jwt);
      assertEquals(alg.name(), parsed.getHeader().getAlgorithm().getName());
      JWSVerifier verifier =
          alg == Alg.RS256
              ? new RSASSAVerifier((RSAPublicKey) publicKey)
              : new ECDSAVerifier((ECPublicKey) publicKey);
      assertTrue(parsed.verify(verifier), "signature does not verify");
      return parsed.getJWTClaimsSet();
    } catch (ParseException | JOSEException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * A MockWebServer whose accepted sockets send at once (TCP_NODELAY). Without it, a loop of
   * requests waits about 40 ms on each: the response's headers and body go out in two small writes,
   * and the second waits for the client's delayed ACK of the first.
   */
  static MockWebServer noDelayServer() {
    MockWebServer server = new MockWebServer();
    server.setServerSocketFactory(
        new ServerSocketFactory() {
          @Override
          public ServerSocket createServerSocket() throws IOException {
            return new ServerSocket() {
              @Override
              public Socket accept() throws IOException {
                return noDelay(super.accept());
              }
            };
          }

          @Override
          public ServerSocket createServerSocket(int port) {
            throw new UnsupportedOperationException("MockWebServer binds an unbound socket");
          }

          @Override
          public ServerSocket createServerSocket(int port, int backlog) {
            throw new UnsupportedOperationException("MockWebServer binds an unbound socket");
          }

          @Override
          public ServerSocket createServerSocket(int port, int backlog, InetAddress address) {
            throw new UnsupportedOperationException("MockWebServer binds an unbound socket");
          }
        });
    return server;
  }

  private static Socket noDelay(Socket socket) throws IOException {
    socket.setTcpNoDelay(true);
    return socket;
  }

  /** Returns a recorded form body as a map; a repeated name's values are joined with " | ". */
  static Map<String, String> form(RecordedRequest request) {
    return form(request.getBody().clone().readUtf8());
  }

  static Map<String, String> form(String body) {
    HttpUrl url = HttpUrl.get("http://form/?" + body);
    Map<String, String> result = new LinkedHashMap<>();
    for (int i = 0; i < url.querySize(); i++) {
      result.merge(url.queryParameterName(i), url.queryParameterValue(i), (a, b) -> a + " | " + b);
    }
    return result;
  }
}
