package dev.retrofitauth.oauth2;

import dev.retrofitauth.Clock;
import dev.retrofitauth.DPoP;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.TokenRequirements;
import dev.retrofitauth.TokenSourceWithRequirements;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.internal.JwsSigner;
import dev.retrofitauth.internal.UsesDPoP;
import dev.retrofitauth.oauth2.TokenRequests.Grant;
import java.io.IOException;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * A {@link TokenSource} for an OAuth 2 token endpoint: machine tokens from the {@code
 * client_credentials} grant (RFC 6749 §4.4) or from a JWT bearer assertion (RFC 7523 §2.1, the way
 * Google service accounts get tokens).
 *
 * <pre>{@code
 * RefreshManager auth = RefreshManager.builder()
 *     .tokenSource(OAuth2TokenSource.clientCredentials()
 *         .issuer("https://auth.example.com") // or tokenEndpoint(url)
 *         .clientId("reporting-job")
 *         .clientSecret(secret) // or privateKey(key, keyId) for private_key_jwt
 *         .scope("reports:read")
 *         .build())
 *     .build();
 * }</pre>
 *
 * <p>It sends requests the way {@link OAuth2RefreshApi} does: through a copy of the app's client
 * without retrofit-auth's interceptor, never following a redirect, reading at most 1 MiB. A 2xx
 * becomes {@link Tokens}. {@code invalid_client}, {@code unauthorized_client}, {@code
 * unsupported_grant_type} and {@code invalid_scope}, and for the JWT bearer grant also {@code
 * invalid_grant} (asking again with the same key and claims cannot help), are a {@linkplain
 * RefreshFailedException#permanent permanent} {@link RefreshFailedException}; every other failure
 * is a transient {@link IOException}. With a DPoP key, token requests carry proofs and token types
 * are read as {@link OAuth2RefreshApi.Builder#dpop} describes. No message or {@code toString()}
 * names a token, a secret or key material. Instances are immutable and thread-safe.
 */
public final class OAuth2TokenSource implements TokenSourceWithRequirements, UsesDPoP {
  private final Grant grant;
  private final AuthorizationServer server;
  private final TokenExchange exchange;
  private final @Nullable ClientAuth clientAuth;
  private final @Nullable JwsSigner signer;
  private final @Nullable ClientAssertionSource assertionSource;
  private final @Nullable String assertionIssuer;
  private final @Nullable String assertionSubject;
  private final @Nullable String assertionAudience;
  private final long assertionLifetimeMillis;
  private final @Nullable String scope;
  // The configured scope widened by scope challenges; null until one came.
  private volatile @Nullable String steppedUpScope;
  private final List<String> resources;
  private final @Nullable String audience;
  private final Clock clock;

  private OAuth2TokenSource(
      ClientCredentialsBuilder b, TokenEndpointClient http, AuthorizationServer server) {
    this.grant = Grant.CLIENT_CREDENTIALS;
    this.server = server;
    this.exchange = b.config.exchange(http);
    this.clientAuth = b.config.clientAuth(false, "client_credentials");
    this.signer = null;
    this.assertionSource = null;
    this.assertionIssuer = null;
    this.assertionSubject = null;
    this.assertionAudience = null;
    this.assertionLifetimeMillis = 0L;
    this.scope = b.scope;
    this.resources = Collections.unmodifiableList(new ArrayList<>(b.resources));
    this.audience = b.audience;
    this.clock = b.config.clock;
  }

  private OAuth2TokenSource(
      JwtBearerBuilder b,
      TokenEndpointClient http,
      AuthorizationServer server,
      @Nullable JwsSigner signer,
      @Nullable ClientAssertionSource assertionSource) {
    this.grant = Grant.JWT_BEARER;
    this.server = server;
    this.exchange = b.config.exchange(http);
    this.clientAuth = null;
    this.signer = signer;
    this.assertionSource = assertionSource;
    this.assertionIssuer = b.assertionIssuer;
    this.assertionSubject = b.assertionSubject;
    this.assertionAudience = b.assertionAudience;
    this.assertionLifetimeMillis = b.assertionLifetimeMillis;
    this.scope = b.scope;
    this.resources = Collections.emptyList();
    this.audience = null;
    this.clock = b.config.clock;
  }

  /** Returns a builder for a source that uses the {@code client_credentials} grant. */
  public static ClientCredentialsBuilder clientCredentials() {
    return new ClientCredentialsBuilder();
  }

  /** Returns a builder for a source that uses the JWT bearer grant. */
  public static JwtBearerBuilder jwtBearer() {
    return new JwtBearerBuilder();
  }

  /**
   * {@inheritDoc}
   *
   * <p>With an issuer, the first call reads the server's metadata. Every call signs new assertions.
   */
  @Override
  public Tokens fetch() throws IOException {
    return fetch(steppedUpScope != null ? steppedUpScope : scope, null);
  }

  /**
   * Fetches for a resource server's challenge: with its {@code claims}, and with its scope added to
   * the scope asked for so far (scope step-up). A widened scope stays: later fetches ask for it
   * too, so that the next token does not lose it.
   */
  @Override
  public Tokens fetch(TokenRequirements requirements) throws IOException {
    String current = steppedUpScope != null ? steppedUpScope : scope;
    String widened = requirements.scopeWith(current);
    Tokens tokens = fetch(widened, requirements.claims());
    if (widened != null && !widened.equals(current)) steppedUpScope = widened;
    return tokens;
  }

  private Tokens fetch(@Nullable String scope, @Nullable String claims) throws IOException {
    ClientAuth client = clientAuth;
    if (client != null) {
      return exchange.exchange(
          server.tokenEndpoint(),
          endpoint ->
              TokenRequests.clientCredentials(
                  endpoint,
                  client,
                  server.authMethodsSupported(),
                  scope,
                  resources,
                  audience,
                  claims),
          grant,
          "the client's credentials");
    }
    return exchange.exchange(
        server.tokenEndpoint(),
        endpoint ->
            TokenRequests.jwtBearer(
                endpoint,
                assertionSource != null ? assertionSource.assertion() : assertion(endpoint, scope),
                scope,
                claims),
        grant,
        "signed assertions");
  }

  /**
   * Returns the JWT bearer assertion (RFC 7523 §3). The scope goes in it too, where Google reads
   * it, as well as in the form, where RFC 7521 §4.1 puts it.
   */
  private String assertion(HttpUrl tokenEndpoint, @Nullable String scope) throws IOException {
    long now = clock.currentTimeMillis();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", Objects.requireNonNull(assertionIssuer));
    if (assertionSubject != null) claims.put("sub", assertionSubject);
    claims.put("aud", assertionAudience != null ? assertionAudience : tokenEndpoint.toString());
    claims.put("iat", now / 1000L);
    claims.put("exp", (now + assertionLifetimeMillis) / 1000L);
    claims.put("jti", JwsSigner.newJti());
    if (scope != null) claims.put("scope", scope);
    return Objects.requireNonNull(signer).sign(ClientAuth.typJwt(), claims);
  }

  /**
   * The DPoP key this helper proves its token requests with, or null. A manager whose grant this is
   * takes it as its own, or checks that its own is the same key.
   */
  @Override
  public @Nullable DPoP dpop() {
    return exchange.dpop();
  }

  @Override
  public String toString() {
    return clientAuth != null
        ? "OAuth2TokenSource{client_credentials, " + server + ", " + clientAuth + "}"
        : "OAuth2TokenSource{jwt_bearer, "
            + server
            + (assertionSource != null
                ? ", " + assertionSource
                : ", iss=" + assertionIssuer + ", " + signer)
            + "}";
  }

  /** Configures and builds a {@code client_credentials} {@link OAuth2TokenSource}. */
  public static final class ClientCredentialsBuilder {
    final HelperConfig config = new HelperConfig("token");
    @Nullable String scope;
    final List<String> resources = new ArrayList<>();
    @Nullable String audience;

    ClientCredentialsBuilder() {}

    /**
     * The token endpoint's URL. It must be https, except on loopback. Set it or {@link #issuer}.
     */
    public ClientCredentialsBuilder tokenEndpoint(String url) {
      config.endpoint(url);
      return this;
    }

    /**
     * The issuer URL, exactly as the server names it, to find the token endpoint in the server's
     * metadata on the first fetch. Set it or {@link #tokenEndpoint}.
     */
    public ClientCredentialsBuilder issuer(String url) {
      config.issuer(url);
      return this;
    }

    /** The client id. Required. */
    public ClientCredentialsBuilder clientId(String clientId) {
      config.clientId(clientId);
      return this;
    }

    /** The client secret. Set it or {@link #privateKey}. */
    public ClientCredentialsBuilder clientSecret(String clientSecret) {
      config.clientSecret(clientSecret);
      return this;
    }

    /**
     * The private key for {@code private_key_jwt}: RSA (RS256, 2048 bits or more) or EC P-256
     * (ES256); {@code keyId} is sent as {@code kid}. Set it or {@link #clientSecret}.
     */
    public ClientCredentialsBuilder privateKey(PrivateKey key, String keyId) {
      config.privateKey(key, keyId, null);
      return this;
    }

    /**
     * Like {@link #privateKey(PrivateKey, String)}, signing with {@code algorithm}: {@code RS256}
     * or {@code PS256} for an RSA key, {@code ES256} for EC P-256, {@code ES384} for EC P-384.
     *
     * @throws IllegalArgumentException if the key does not fit the algorithm.
     */
    public ClientCredentialsBuilder privateKey(PrivateKey key, String keyId, String algorithm) {
      config.privateKey(key, keyId, HelperConfig.checkAlgorithm(algorithm));
      return this;
    }

    /**
     * A client assertion from outside, sent as {@code client_assertion} ({@code private_key_jwt}):
     * the platform's workload identity token, as in {@code
     * clientAssertion(ClientAssertionSource.fromFile(new
     * File(System.getenv("AZURE_FEDERATED_TOKEN_FILE"))))}. Asked for each token request; instead
     * of {@code clientSecret} or {@code privateKey}.
     */
    public ClientCredentialsBuilder clientAssertion(ClientAssertionSource source) {
      config.clientAssertion(source);
      return this;
    }

    /**
     * The {@code aud} of the client's assertions: the token endpoint's URL by default, or the
     * issuer if the server asks for that.
     */
    public ClientCredentialsBuilder assertionAudience(String audience) {
      config.assertionAudience(audience);
      return this;
    }

    /**
     * How the client authenticates. Defaults to {@link ClientAuthentication#PRIVATE_KEY_JWT} with a
     * private key and {@link ClientAuthentication#CLIENT_SECRET_BASIC} with a secret (or {@code
     * CLIENT_SECRET_POST} if the server's metadata lists only that). {@code NONE} is refused: the
     * grant is for clients that can authenticate.
     */
    public ClientCredentialsBuilder clientAuthentication(ClientAuthentication method) {
      config.clientAuthentication(method);
      return this;
    }

    /** The scope to ask for, space-separated. By default none is sent. */
    public ClientCredentialsBuilder scope(String scope) {
      this.scope = OAuth2RefreshApi.Builder.checkScope(scope);
      return this;
    }

    /**
     * Adds a resource indicator (RFC 8707): the absolute URI of an API the token is for. May be
     * called more than once.
     */
    public ClientCredentialsBuilder resource(String resource) {
      resources.add(HelperConfig.checkResource(resource));
      return this;
    }

    /** The {@code audience} parameter that some servers (Auth0) use instead of {@code resource}. */
    public ClientCredentialsBuilder audience(String audience) {
      Objects.requireNonNull(audience, "audience == null");
      if (audience.isEmpty()) throw new IllegalArgumentException("audience is empty");
      this.audience = audience;
      return this;
    }

    /**
     * The client to send requests with; retrofit-auth's interceptor and authenticator are removed
     * from the copy that is used, which does not follow redirects. Defaults to a new client.
     *
     * <p>The client's own interceptors stay, and they see these requests whole: the client secret,
     * the refresh token and the tokens in the answer. Do not pass a client with a logging
     * interceptor at {@code BODY} level (or {@code HEADERS} without {@code
     * redactHeader("Authorization")}); pass one without it. Each call is limited to 30 seconds in
     * all (or the client's shorter call timeout), so that a server that answers one byte at a time
     * cannot hold a refresh for ever.
     */
    public ClientCredentialsBuilder client(OkHttpClient client) {
      config.client(client);
      return this;
    }

    /** Binds the tokens to {@code dpop}'s key, as {@link OAuth2RefreshApi.Builder#dpop} does. */
    public ClientCredentialsBuilder dpop(DPoP dpop) {
      config.dpop(dpop);
      return this;
    }

    /** Allows cleartext {@code http} endpoints that are not on loopback. Defaults to false. */
    public ClientCredentialsBuilder allowCleartext(boolean allowCleartext) {
      config.allowCleartext(allowCleartext);
      return this;
    }

    /** The clock for expiries and assertions. Defaults to {@link System#currentTimeMillis()}. */
    public ClientCredentialsBuilder clock(Clock clock) {
      config.clock(clock);
      return this;
    }

    public OAuth2TokenSource build() {
      TokenEndpointClient http = config.http();
      return new OAuth2TokenSource(this, http, config.server(http));
    }
  }

  /** Configures and builds a JWT bearer grant {@link OAuth2TokenSource}. */
  public static final class JwtBearerBuilder {
    final HelperConfig config = new HelperConfig("token");
    @Nullable String assertionIssuer;
    @Nullable String assertionSubject;
    @Nullable String assertionAudience;
    long assertionLifetimeMillis = TimeUnit.MINUTES.toMillis(5);
    @Nullable String scope;

    JwtBearerBuilder() {}

    /**
     * The token endpoint's URL. It must be https, except on loopback. Set it or {@link #issuer}.
     */
    public JwtBearerBuilder tokenEndpoint(String url) {
      config.endpoint(url);
      return this;
    }

    /**
     * The authorization server's issuer URL, to find the token endpoint in its metadata on the
     * first fetch. Not the assertion's {@code iss}: that is {@link #assertionIssuer}.
     */
    public JwtBearerBuilder issuer(String url) {
      config.issuer(url);
      return this;
    }

    /**
     * The key that signs the assertion: RSA (RS256, 2048 bits or more) or EC P-256 (ES256); {@code
     * keyId} is sent as {@code kid} (a Google service account's {@code private_key_id}). Required.
     */
    public JwtBearerBuilder privateKey(PrivateKey key, String keyId) {
      config.privateKey(key, keyId, null);
      return this;
    }

    /**
     * Like {@link #privateKey(PrivateKey, String)}, signing with {@code algorithm}: {@code RS256}
     * or {@code PS256} for an RSA key, {@code ES256} for EC P-256, {@code ES384} for EC P-384.
     *
     * @throws IllegalArgumentException if the key does not fit the algorithm.
     */
    public JwtBearerBuilder privateKey(PrivateKey key, String keyId, String algorithm) {
      config.privateKey(key, keyId, HelperConfig.checkAlgorithm(algorithm));
      return this;
    }

    /** The assertion's {@code iss}, such as a service account's e-mail address. Required. */
    public JwtBearerBuilder assertionIssuer(String iss) {
      this.assertionIssuer = checkClaim(iss, "iss");
      return this;
    }

    /**
     * The assertion's {@code sub}: the principal the token is for, such as the user a Google
     * service account acts for. RFC 7523 requires it; by default none is sent, which Google wants
     * when the account acts for itself.
     */
    public JwtBearerBuilder assertionSubject(String sub) {
      this.assertionSubject = checkClaim(sub, "sub");
      return this;
    }

    /** The assertion's {@code aud}. Defaults to the token endpoint's URL. */
    public JwtBearerBuilder assertionAudience(String aud) {
      this.assertionAudience = checkClaim(aud, "aud");
      return this;
    }

    /** How long each assertion is valid, from when it is signed. Defaults to 5 minutes. */
    public JwtBearerBuilder assertionLifetime(long lifetime, TimeUnit unit) {
      Objects.requireNonNull(unit, "unit == null");
      if (lifetime <= 0L) throw new IllegalArgumentException("lifetime <= 0: " + lifetime);
      this.assertionLifetimeMillis = unit.toMillis(lifetime);
      return this;
    }

    /** The scope to ask for, space-separated: in the form and as the assertion's claim. */
    public JwtBearerBuilder scope(String scope) {
      this.scope = OAuth2RefreshApi.Builder.checkScope(scope);
      return this;
    }

    /**
     * The grant's assertion from outside, instead of one signed here with {@link #privateKey}: a
     * token that a platform issues and rotates, read for each token request, as in {@code
     * assertion(ClientAssertionSource.fromFile(tokenFile))}.
     */
    public JwtBearerBuilder assertion(ClientAssertionSource source) {
      config.clientAssertion(source);
      return this;
    }

    /** The client to send requests with, as for {@link ClientCredentialsBuilder#client}. */
    public JwtBearerBuilder client(OkHttpClient client) {
      config.client(client);
      return this;
    }

    /** Binds the tokens to {@code dpop}'s key, as {@link OAuth2RefreshApi.Builder#dpop} does. */
    public JwtBearerBuilder dpop(DPoP dpop) {
      config.dpop(dpop);
      return this;
    }

    /** Allows cleartext {@code http} endpoints that are not on loopback. Defaults to false. */
    public JwtBearerBuilder allowCleartext(boolean allowCleartext) {
      config.allowCleartext(allowCleartext);
      return this;
    }

    /** The clock for expiries and assertions. Defaults to {@link System#currentTimeMillis()}. */
    public JwtBearerBuilder clock(Clock clock) {
      config.clock(clock);
      return this;
    }

    private static String checkClaim(String value, String claim) {
      Objects.requireNonNull(value, claim + " == null");
      if (value.isEmpty()) throw new IllegalArgumentException(claim + " is empty");
      return value;
    }

    public OAuth2TokenSource build() {
      TokenEndpointClient http = config.http();
      AuthorizationServer server = config.server(http);
      JwsSigner signer = config.signer();
      ClientAssertionSource source = config.assertionSource();
      if (signer != null && source != null) {
        throw new IllegalStateException(
            "privateKey(key, keyId) and assertion(source) exclude each other: sign the assertion"
                + " here, or take it from outside");
      }
      if (signer == null && source == null) {
        throw new IllegalStateException(
            "no assertion: call privateKey(key, keyId) to sign one, or assertion(source)");
      }
      if (signer != null && assertionIssuer == null) {
        throw new IllegalStateException("no assertion issuer: call assertionIssuer(iss)");
      }
      return new OAuth2TokenSource(this, http, server, signer, source);
    }
  }
}
