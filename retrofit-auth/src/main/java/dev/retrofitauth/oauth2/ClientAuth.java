package dev.retrofitauth.oauth2;

import dev.retrofitauth.Clock;
import dev.retrofitauth.internal.JwsSigner;
import java.io.IOException;
import java.io.UnsupportedEncodingException;
import java.net.URLEncoder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import okhttp3.Credentials;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;

/**
 * How a client proves who it is to the authorization server: a secret (RFC 6749 §2.3.1), a signed
 * client assertion ({@code private_key_jwt}, RFC 7523 §2.2), or nothing but its id (a public
 * client). Immutable and thread-safe; {@link #toString()} names the client and the method, never
 * the secret or the key.
 */
final class ClientAuth {
  static final String CLIENT_ASSERTION_TYPE =
      "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

  /** How long a client assertion is valid: it is made for one request, sent at once. */
  static final long ASSERTION_LIFETIME_MILLIS = 60_000L;

  private final String clientId;
  private final @Nullable String clientSecret;
  private final @Nullable JwsSigner signer;
  private final @Nullable ClientAssertionSource assertionSource;
  private final @Nullable ClientAuthentication configured;
  private final @Nullable String audience;
  private final Clock clock;

  /**
   * The caller has checked that {@code configured}, if set, fits the secret and the signer; when it
   * is null, the method is chosen per request from what the client has and the server supports.
   */
  ClientAuth(
      String clientId,
      @Nullable String clientSecret,
      @Nullable JwsSigner signer,
      @Nullable ClientAssertionSource assertionSource,
      @Nullable ClientAuthentication configured,
      @Nullable String audience,
      Clock clock) {
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.signer = signer;
    this.assertionSource = assertionSource;
    this.configured = configured;
    this.audience = audience;
    this.clock = clock;
  }

  /**
   * Returns the method to use. A configured one is used as it is. Otherwise a key means {@code
   * private_key_jwt}; a secret means {@code client_secret_basic}, unless the server's metadata
   * lists {@code client_secret_post} but not {@code client_secret_basic}; neither means a public
   * client.
   *
   * @param serverSupported the server's {@code token_endpoint_auth_methods_supported}, or null if
   *     not known. RFC 8414 §2 makes {@code client_secret_basic} the default when it is absent.
   */
  ClientAuthentication method(@Nullable Set<String> serverSupported) {
    if (configured != null) return configured;
    if (signer != null || assertionSource != null) return ClientAuthentication.PRIVATE_KEY_JWT;
    if (clientSecret == null) return ClientAuthentication.NONE;
    Set<String> supported = serverSupported != null ? serverSupported : Collections.emptySet();
    if (!supported.contains("client_secret_basic") && supported.contains("client_secret_post")) {
      return ClientAuthentication.CLIENT_SECRET_POST;
    }
    return ClientAuthentication.CLIENT_SECRET_BASIC;
  }

  /**
   * Returns {@code tokenEndpoint}, the default {@code aud}, if {@code endpoint} is on its origin.
   * An assertion for the token endpoint sent elsewhere (a revocation endpoint that metadata put on
   * another server) could be replayed at the token endpoint: it is not sent, unless the app set the
   * audience itself.
   */
  private @Nullable HttpUrl checkSameOrigin(HttpUrl endpoint, @Nullable HttpUrl tokenEndpoint)
      throws IOException {
    if (audience != null || tokenEndpoint == null) return tokenEndpoint;
    boolean sameOrigin =
        endpoint.scheme().equals(tokenEndpoint.scheme())
            && endpoint.host().equals(tokenEndpoint.host())
            && endpoint.port() == tokenEndpoint.port();
    if (!sameOrigin) {
      throw new IOException(
          "a client assertion for the token endpoint "
              + tokenEndpoint
              + " would go to "
              + endpoint
              + ", on another origin, where it could be replayed; it was not sent: set"
              + " assertionAudience(url) if that server is meant to receive it");
    }
    return tokenEndpoint;
  }

  /** True if a request would carry a client assertion whose audience is not configured. */
  boolean needsAudience(@Nullable Set<String> serverSupported) {
    return audience == null
        && assertionSource == null
        && method(serverSupported) == ClientAuthentication.PRIVATE_KEY_JWT;
  }

  /**
   * Adds the client's authentication to a request: a header, or form fields. A client assertion's
   * {@code aud} is the configured audience, or else {@code tokenEndpoint}, whatever endpoint the
   * request goes to.
   *
   * @throws IOException if the client assertion could not be signed.
   */
  void apply(
      Request.Builder request,
      FormBody.Builder form,
      HttpUrl endpoint,
      @Nullable HttpUrl tokenEndpoint,
      @Nullable Set<String> serverSupported)
      throws IOException {
    switch (method(serverSupported)) {
      case CLIENT_SECRET_BASIC:
        // RFC 6749 §2.3.1: form-encode the id and the secret before Basic encoding.
        request.header(
            "Authorization",
            Credentials.basic(
                formEncode(clientId), formEncode(Objects.requireNonNull(clientSecret))));
        break;
      case CLIENT_SECRET_POST:
        form.add("client_id", clientId).add("client_secret", Objects.requireNonNull(clientSecret));
        break;
      case PRIVATE_KEY_JWT:
        form.add("client_id", clientId)
            .add("client_assertion_type", CLIENT_ASSERTION_TYPE)
            .add(
                "client_assertion",
                assertionSource != null
                    ? assertionSource.assertion()
                    : clientAssertion(checkSameOrigin(endpoint, tokenEndpoint)));
        break;
      case NONE:
        form.add("client_id", clientId);
        break;
    }
  }

  /**
   * Returns a client assertion (RFC 7523 §3): {@code iss} and {@code sub} are the client id, {@code
   * aud} identifies the authorization server (the configured audience, or else its token endpoint,
   * for every endpoint the assertion goes to: Keycloak refuses any other), it expires {@link
   * #ASSERTION_LIFETIME_MILLIS} after {@code iat}, and its {@code jti} is new, so a server that
   * remembers them refuses a replay.
   */
  String clientAssertion(@Nullable HttpUrl tokenEndpoint) throws IOException {
    String aud =
        audience != null ? audience : tokenEndpoint != null ? tokenEndpoint.toString() : null;
    if (aud == null) throw new IllegalStateException("no audience for the client assertion");
    long now = clock.currentTimeMillis();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", clientId);
    claims.put("sub", clientId);
    claims.put("aud", aud);
    claims.put("iat", now / 1000L);
    claims.put("exp", (now + ASSERTION_LIFETIME_MILLIS) / 1000L);
    claims.put("jti", JwsSigner.newJti());
    return Objects.requireNonNull(signer, "signer").sign(typJwt(), claims);
  }

  /** The {@code typ} header of the JWTs these helpers send. */
  static Map<String, Object> typJwt() {
    return Collections.<String, Object>singletonMap("typ", "JWT");
  }

  private static String formEncode(String value) {
    try {
      return URLEncoder.encode(value, "UTF-8");
    } catch (UnsupportedEncodingException e) {
      throw new AssertionError(e);
    }
  }

  String clientId() {
    return clientId;
  }

  @Override
  public String toString() {
    String method = configured != null ? configured.toString() : "auto";
    return "clientId=" + clientId + ", clientAuthentication=" + method;
  }
}
