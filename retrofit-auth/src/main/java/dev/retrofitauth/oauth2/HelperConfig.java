package dev.retrofitauth.oauth2;

import dev.retrofitauth.Clock;
import dev.retrofitauth.DPoP;
import dev.retrofitauth.internal.Internal;
import dev.retrofitauth.internal.JwsSigner;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.PrivateKey;
import java.util.Objects;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * What the builders of the OAuth 2 helpers share: where the server is, who the client is, and how
 * requests are sent. The builders' setters delegate here, so that each setting is checked, and each
 * message worded, in one place. Mutable and not thread-safe, like a builder.
 */
final class HelperConfig {
  /** What the configured endpoint is called in messages and setter names: "token", "revocation". */
  private final String endpointName;

  private @Nullable HttpUrl endpoint;
  private @Nullable String issuer;
  private @Nullable String protectedResource;
  private @Nullable String clientId;
  private @Nullable String clientSecret;
  private @Nullable ClientAuthentication clientAuthentication;
  private @Nullable JwsSigner signer;
  private @Nullable String assertionAudience;
  private @Nullable ClientAssertionSource assertionSource;
  private @Nullable OkHttpClient client;
  private @Nullable DPoP dpop;
  private boolean allowCleartext;
  Clock clock = System::currentTimeMillis;

  HelperConfig(String endpointName) {
    this.endpointName = endpointName;
  }

  void endpoint(String url) {
    Objects.requireNonNull(url, "url == null");
    this.endpoint = Internal.parseUrl(url);
  }

  void issuer(String url) {
    Objects.requireNonNull(url, "url == null");
    HttpUrl parsed = Internal.parseUrl(url);
    if (parsed.query() != null || parsed.fragment() != null) {
      // RFC 8414 §2: an issuer has no query and no fragment.
      throw new IllegalArgumentException("an issuer has no query or fragment: " + url);
    }
    this.issuer = url;
  }

  void protectedResource(String url) {
    ProtectedResourceMetadata.checkResourceIdentifier(url);
    this.protectedResource = url;
  }

  void clientId(String clientId) {
    Objects.requireNonNull(clientId, "clientId == null");
    if (clientId.isEmpty()) throw new IllegalArgumentException("clientId is empty");
    this.clientId = clientId;
  }

  void clientSecret(String clientSecret) {
    Objects.requireNonNull(clientSecret, "clientSecret == null");
    if (clientSecret.isEmpty()) throw new IllegalArgumentException("clientSecret is empty");
    this.clientSecret = clientSecret;
  }

  void clientAuthentication(ClientAuthentication clientAuthentication) {
    this.clientAuthentication =
        Objects.requireNonNull(clientAuthentication, "clientAuthentication == null");
  }

  void privateKey(PrivateKey key, String keyId, @Nullable String algorithm) {
    Objects.requireNonNull(key, "key == null");
    Objects.requireNonNull(keyId, "keyId == null");
    if (keyId.isEmpty()) throw new IllegalArgumentException("keyId is empty");
    // Throws now for a key it cannot sign with, or one that does not fit the algorithm.
    this.signer = new JwsSigner(key, keyId, algorithm);
  }

  static String checkAlgorithm(String algorithm) {
    return Objects.requireNonNull(algorithm, "algorithm == null");
  }

  void clientAssertion(ClientAssertionSource source) {
    this.assertionSource = Objects.requireNonNull(source, "source == null");
  }

  @Nullable ClientAssertionSource assertionSource() {
    return assertionSource;
  }

  void assertionAudience(String audience) {
    Objects.requireNonNull(audience, "audience == null");
    if (audience.isEmpty()) throw new IllegalArgumentException("assertionAudience is empty");
    this.assertionAudience = audience;
  }

  /**
   * True if the endpoints are found in the server's metadata: at the issuer given, or at the one
   * that a protected resource's metadata names.
   */
  boolean hasIssuer() {
    return issuer != null || protectedResource != null;
  }

  void client(OkHttpClient client) {
    this.client = Objects.requireNonNull(client, "client == null");
  }

  void dpop(DPoP dpop) {
    this.dpop = Objects.requireNonNull(dpop, "dpop == null");
  }

  void allowCleartext(boolean allowCleartext) {
    this.allowCleartext = allowCleartext;
  }

  void clock(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock == null");
  }

  /** Checks a resource indicator: an absolute URI without a fragment (RFC 8707 §2). */
  static String checkResource(String resource) {
    Objects.requireNonNull(resource, "resource == null");
    URI uri;
    try {
      uri = new URI(resource);
    } catch (URISyntaxException e) {
      uri = null;
    }
    if (uri == null || !uri.isAbsolute() || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "resource is not an absolute URI without a fragment: " + resource);
    }
    return resource;
  }

  @Nullable DPoP dpop() {
    return dpop;
  }

  @Nullable JwsSigner signer() {
    return signer;
  }

  /**
   * Returns where requests go, sent through {@code http}; checks that exactly one of endpoint and
   * issuer is set, or a protected resource alone.
   */
  AuthorizationServer server(TokenEndpointClient http) {
    String setter = endpointName + "Endpoint(url)";
    HttpUrl endpoint = this.endpoint;
    String issuer = this.issuer;
    if (endpoint != null && issuer != null) {
      throw new IllegalStateException(
          setter + " and issuer(url) exclude each other: call one of them");
    }
    String resource = protectedResource;
    if (resource != null) {
      if (endpoint != null || issuer != null) {
        throw new IllegalStateException(
            "protectedResource(url) excludes "
                + setter
                + " and issuer(url): the resource's metadata names the authorization server; call"
                + " one of them");
      }
      if (!allowCleartext && isCleartext(Internal.parseUrl(resource))) {
        throw new IllegalStateException(
            "the protected resource is cleartext http: use https, or call allowCleartext(true)");
      }
      return AuthorizationServer.ofProtectedResource(resource, http, allowCleartext);
    }
    if (issuer != null) {
      if (!allowCleartext && isCleartext(Internal.parseUrl(issuer))) {
        throw new IllegalStateException(
            "the issuer is cleartext http: use https, or call allowCleartext(true)");
      }
      return AuthorizationServer.discovered(issuer, http, allowCleartext);
    }
    if (endpoint == null) {
      throw new IllegalStateException(
          "no " + endpointName + " endpoint: call " + setter + " or issuer(url)");
    }
    if (!allowCleartext && isCleartext(endpoint)) {
      throw new IllegalStateException(
          "the "
              + endpointName
              + " endpoint is cleartext http: use https, or call allowCleartext(true)");
    }
    return endpointName.equals("token")
        ? AuthorizationServer.configured(endpoint, null, http)
        : AuthorizationServer.configured(null, endpoint, http);
  }

  private static boolean isCleartext(HttpUrl url) {
    return !url.isHttps() && !Internal.isLoopback(url);
  }

  TokenEndpointClient http() {
    return new TokenEndpointClient(client != null ? client : new OkHttpClient());
  }

  /** Returns what sends the token requests through {@code http}, with DPoP proofs if configured. */
  TokenExchange exchange(TokenEndpointClient http) {
    return new TokenExchange(http, dpop, clock);
  }

  /**
   * Returns the client's authentication, after checking that the method, the secret and the key fit
   * together.
   *
   * @param publicClientAllowed false for a grant that a public client cannot use.
   * @param grant what needs the client authenticated, for the message when it is not.
   */
  ClientAuth clientAuth(boolean publicClientAllowed, String grant) {
    String id = clientId;
    if (id == null) throw new IllegalStateException("no client id: call clientId(id)");
    ClientAuthentication method = clientAuthentication;
    int ways =
        (clientSecret != null ? 1 : 0)
            + (signer != null ? 1 : 0)
            + (assertionSource != null ? 1 : 0);
    if (ways > 1) {
      throw new IllegalStateException(
          "clientSecret(secret), privateKey(key, keyId) and clientAssertion(source) exclude each"
              + " other: call one of them");
    }
    boolean assertion = signer != null || assertionSource != null;
    String orNone = publicClientAllowed ? ", or use NONE" : "";
    if (method == ClientAuthentication.PRIVATE_KEY_JWT && !assertion) {
      throw new IllegalStateException(
          "PRIVATE_KEY_JWT needs a private key or an assertion: call privateKey(key, keyId) or"
              + " clientAssertion(source)"
              + orNone);
    }
    if ((method == ClientAuthentication.CLIENT_SECRET_BASIC
            || method == ClientAuthentication.CLIENT_SECRET_POST)
        && clientSecret == null) {
      throw new IllegalStateException(
          method + " needs a client secret: call clientSecret(secret)" + orNone);
    }
    if (method == ClientAuthentication.NONE && clientSecret != null) {
      throw new IllegalStateException(
          "a public client (NONE) sends no secret: remove clientSecret(...) or pick "
              + "CLIENT_SECRET_BASIC or CLIENT_SECRET_POST");
    }
    if (method == ClientAuthentication.NONE && assertion) {
      throw new IllegalStateException(
          "a public client (NONE) sends no assertion: remove privateKey(...) or"
              + " clientAssertion(...), or pick PRIVATE_KEY_JWT");
    }
    if (signer != null
        && method != ClientAuthentication.CLIENT_SECRET_BASIC
        && method != ClientAuthentication.CLIENT_SECRET_POST
        && !endpointName.equals("token")
        && !hasIssuer()
        && assertionAudience == null) {
      // RFC 7523 §3: the aud identifies the authorization server, not the endpoint it goes to.
      throw new IllegalStateException(
          "a client assertion for the "
              + endpointName
              + " endpoint needs the server's token endpoint or issuer as its audience: call"
              + " issuer(url), or assertionAudience(url) with the token endpoint's URL");
    }
    boolean isPublic = method == ClientAuthentication.NONE || (clientSecret == null && !assertion);
    if (isPublic && !publicClientAllowed) {
      throw new IllegalStateException(
          grant
              + " needs an authenticated client: call clientSecret(secret),"
              + " privateKey(key, keyId) or clientAssertion(source)");
    }
    return new ClientAuth(
        id, clientSecret, signer, assertionSource, method, assertionAudience, clock);
  }
}
