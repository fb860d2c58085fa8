package dev.retrofitauth.oauth2;

import dev.retrofitauth.Clock;
import dev.retrofitauth.DPoP;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshRejectedException;
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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okio.ByteString;
import org.jspecify.annotations.Nullable;

/**
 * A {@link dev.retrofitauth.TokenSource} for an OAuth 2 token endpoint: machine tokens from the
 * {@code client_credentials} grant (RFC 6749 §4.4) or from a JWT bearer assertion (RFC 7523 §2.1,
 * the way Google service accounts get tokens), and tokens for another audience from a token
 * exchange (RFC 8693, see {@link TokenExchangeBuilder}).
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
 * names a token, a secret or key material. Instances are thread-safe, and immutable except for the
 * refresh token that a token exchange source keeps.
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
  // The configured scopes and the step-up scopes: all a challenge may ask for.
  private final Set<String> allowedScopes;
  // The configured scope widened by scope challenges; null until one came.
  private volatile @Nullable String steppedUpScope;
  private final List<String> resources;
  private final @Nullable String audience;
  private final Clock clock;

  // The token exchange's settings; null or empty for the other grants.
  private final @Nullable SecurityTokenSource subjectToken;
  private final @Nullable String subjectTokenType;
  private final @Nullable SecurityTokenSource actorToken;
  private final @Nullable String actorTokenType;
  private final @Nullable String requestedTokenType;
  private final List<String> audiences;

  /**
   * The refresh token of the last token exchange or refresh, or null: the next fetch of a token
   * exchange source uses it first. Cleared only by the fetch whose refresh it failed.
   */
  // The refresh token of the last answer, with the subject token it was issued for.
  private final AtomicReference<@Nullable KeptRefreshToken> refreshToken = new AtomicReference<>();

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
    this.allowedScopes = allowedScopes(b.scope, b.stepUpScopes);
    this.resources = Collections.unmodifiableList(new ArrayList<>(b.resources));
    this.audience = b.audience;
    this.clock = b.config.clock;
    this.subjectToken = null;
    this.subjectTokenType = null;
    this.actorToken = null;
    this.actorTokenType = null;
    this.requestedTokenType = null;
    this.audiences = Collections.emptyList();
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
    this.allowedScopes = allowedScopes(b.scope, b.stepUpScopes);
    this.resources = Collections.emptyList();
    this.audience = null;
    this.clock = b.config.clock;
    this.subjectToken = null;
    this.subjectTokenType = null;
    this.actorToken = null;
    this.actorTokenType = null;
    this.requestedTokenType = null;
    this.audiences = Collections.emptyList();
  }

  private OAuth2TokenSource(
      TokenExchangeBuilder b,
      SecurityTokenSource subjectToken,
      TokenEndpointClient http,
      AuthorizationServer server) {
    this.grant = Grant.TOKEN_EXCHANGE;
    this.server = server;
    this.exchange = b.config.exchange(http);
    this.clientAuth = b.config.clientAuth(true, "token exchange");
    this.signer = null;
    this.assertionSource = null;
    this.assertionIssuer = null;
    this.assertionSubject = null;
    this.assertionAudience = null;
    this.assertionLifetimeMillis = 0L;
    this.scope = b.scope;
    this.allowedScopes = allowedScopes(b.scope, b.stepUpScopes);
    this.resources = Collections.unmodifiableList(new ArrayList<>(b.resources));
    this.audience = null;
    this.clock = b.config.clock;
    this.subjectToken = subjectToken;
    this.subjectTokenType = b.subjectTokenType;
    this.actorToken = b.actorToken;
    this.actorTokenType = b.actorTokenType;
    this.requestedTokenType = b.requestedTokenType;
    this.audiences = Collections.unmodifiableList(new ArrayList<>(b.audiences));
  }

  /** Returns a builder for a source that uses the {@code client_credentials} grant. */
  public static ClientCredentialsBuilder clientCredentials() {
    return new ClientCredentialsBuilder();
  }

  /** Returns a builder for a source that uses the JWT bearer grant. */
  public static JwtBearerBuilder jwtBearer() {
    return new JwtBearerBuilder();
  }

  /** Returns a builder for a source that exchanges a subject's token (RFC 8693). */
  public static TokenExchangeBuilder tokenExchange() {
    return new TokenExchangeBuilder();
  }

  /**
   * {@inheritDoc}
   *
   * <p>With an issuer, the first call reads the server's metadata. Every call signs new assertions.
   * A token exchange source first uses the refresh token of its last answer, if it had one.
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
    Tokens tokens;
    try {
      tokens = fetch(widened, requirements.claims());
    } catch (RefreshFailedException e) {
      // A resource server chose what this request asked for: its refusal fails the calls that
      // wait for it, and never the session for good.
      throw new IOException("the token request for a resource server's challenge failed", e);
    }
    if (widened != null && !widened.equals(current)) steppedUpScope = widened;
    return tokens;
  }

  /**
   * True for claims, and for a scope challenge whose scopes are all configured or allowed by {@code
   * stepUpScopes}.
   */
  @Override
  public boolean accepts(TokenRequirements requirements) {
    String challenged = requirements.scope();
    if (challenged == null) return true;
    for (String each : challenged.split(" ")) {
      if (!each.isEmpty() && !allowedScopes.contains(each)) return false;
    }
    return true;
  }

  private static Set<String> allowedScopes(@Nullable String scope, @Nullable String stepUp) {
    Set<String> allowed = new HashSet<>();
    for (String scopes : new String[] {scope, stepUp}) {
      if (scopes == null) continue;
      for (String each : scopes.split(" ")) {
        if (!each.isEmpty()) allowed.add(each);
      }
    }
    return Collections.unmodifiableSet(allowed);
  }

  private Tokens fetch(@Nullable String scope, @Nullable String claims) throws IOException {
    if (grant == Grant.TOKEN_EXCHANGE) return refreshOrExchange(scope, claims);
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
   * Refreshes with the refresh token that the last answer carried, if it was issued for the subject
   * token the source gives now; exchanges the subject token otherwise, or if the server rejects the
   * refresh token ({@code invalid_grant}: it expired, or was revoked). The subject token is read
   * first, every time: a subject that signed out (its source throws) or changed gets no token from
   * an older subject's refresh token. Any other failure of the refresh is thrown, and the refresh
   * token is kept for the next fetch.
   */
  private Tokens refreshOrExchange(@Nullable String scope, @Nullable String claims)
      throws IOException {
    ClientAuth client = Objects.requireNonNull(clientAuth);
    // Read once per fetch, not per request: a DPoP nonce resend sends the same tokens.
    String subject = Objects.requireNonNull(subjectToken).token();
    String subjectHash = ByteString.encodeUtf8(subject).sha256().hex();
    KeptRefreshToken kept = refreshToken.get();
    if (kept != null && !kept.subjectHash.equals(subjectHash)) {
      refreshToken.compareAndSet(kept, null); // Issued for another subject token: never use it.
      kept = null;
    }
    if (kept != null) {
      KeptRefreshToken used = kept;
      try {
        return keepRefreshToken(
            exchange.exchange(
                server.tokenEndpoint(),
                endpoint ->
                    TokenRequests.refresh(
                        endpoint,
                        client,
                        server.authMethodsSupported(),
                        used.refreshToken,
                        null,
                        claims),
                Grant.REFRESH_TOKEN,
                "the refresh token and the client's credentials"),
            subjectHash);
      } catch (RefreshRejectedException rejected) {
        // The subject token may still be good: exchange it again. Never seen by the manager,
        // which would take it for a signed-out session.
        refreshToken.compareAndSet(used, null);
      }
    }
    String actor = actorToken != null ? actorToken.token() : null;
    return keepRefreshToken(
        exchange.exchange(
            server.tokenEndpoint(),
            endpoint ->
                TokenRequests.tokenExchange(
                    endpoint,
                    client,
                    server.authMethodsSupported(),
                    subject,
                    Objects.requireNonNull(subjectTokenType),
                    actor,
                    actorTokenType,
                    requestedTokenType,
                    audiences,
                    resources,
                    scope,
                    claims),
            Grant.TOKEN_EXCHANGE,
            "the subject token and the client's credentials"),
        subjectHash);
  }

  /** Keeps the refresh token in {@code tokens}, if they have one, for the next fetch. */
  private Tokens keepRefreshToken(Tokens tokens, String subjectHash) {
    String received = tokens.refreshToken();
    if (received != null) refreshToken.set(new KeptRefreshToken(received, subjectHash));
    return tokens;
  }

  /** A token exchange's refresh token, and a hash of the subject token it was issued for. */
  private static final class KeptRefreshToken {
    final String refreshToken;
    final String subjectHash;

    KeptRefreshToken(String refreshToken, String subjectHash) {
      this.refreshToken = refreshToken;
      this.subjectHash = subjectHash;
    }
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
    if (grant == Grant.TOKEN_EXCHANGE) {
      return "OAuth2TokenSource{token_exchange, " + server + ", " + clientAuth + "}";
    }
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
    @Nullable String stepUpScopes;
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

    /**
     * The protected resource (the API) the tokens are for: its metadata names the authorization
     * server, read on the first fetch as {@link OAuth2RefreshApi.Builder#protectedResource}
     * describes. Instead of {@link #issuer} or {@link #tokenEndpoint}.
     */
    public ClientCredentialsBuilder protectedResource(String url) {
      config.protectedResource(url);
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

    /**
     * The scopes that a resource server's scope challenge ({@code error="insufficient_scope"}) may
     * add to the ones asked for, space-separated: none by default, so a challenge goes to the
     * caller. With them, a challenge for scopes among these (and the configured ones) makes one
     * token request for the union, which later requests keep; any other scope is never asked for.
     */
    public ClientCredentialsBuilder stepUpScopes(String scopes) {
      Objects.requireNonNull(scopes, "scopes == null");
      if (scopes.trim().isEmpty()) throw new IllegalArgumentException("stepUpScopes is empty");
      this.stepUpScopes = scopes;
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
    @Nullable String stepUpScopes;

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
     * The protected resource (the API) the tokens are for: its metadata names the authorization
     * server, read on the first fetch as {@link OAuth2RefreshApi.Builder#protectedResource}
     * describes. Instead of {@link #issuer} or {@link #tokenEndpoint}.
     */
    public JwtBearerBuilder protectedResource(String url) {
      config.protectedResource(url);
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

    /**
     * The scopes that a resource server's scope challenge ({@code error="insufficient_scope"}) may
     * add to the ones asked for, space-separated: none by default, so a challenge goes to the
     * caller. With them, a challenge for scopes among these (and the configured ones) makes one
     * token request for the union, which later requests keep; any other scope is never asked for.
     */
    public JwtBearerBuilder stepUpScopes(String scopes) {
      Objects.requireNonNull(scopes, "scopes == null");
      if (scopes.trim().isEmpty()) throw new IllegalArgumentException("stepUpScopes is empty");
      this.stepUpScopes = scopes;
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

  /**
   * Configures and builds a token exchange {@link OAuth2TokenSource} (RFC 8693): the server trades
   * a subject's token, such as the token a user called this server with, for a token for another
   * audience, such as an API this server calls for that user.
   *
   * <pre>{@code
   * RefreshManager orders = RefreshManager.builder()
   *     .tokenSource(OAuth2TokenSource.tokenExchange()
   *         .tokenEndpoint("https://auth.example.com/oauth/token") // or issuer(url)
   *         .clientId("gateway")
   *         .clientSecret(secret) // or privateKey(key, keyId), clientAssertion(source), none
   *         .subjectToken(SecurityTokenSource.of(userAuth)) // the user's own session
   *         .audience("https://orders.example.com")
   *         .build())
   *     .build();
   * }</pre>
   *
   * <p>A manager holds one exchanged token and runs one exchange at a time, which all its calls
   * share: give each subject its own manager. A server that acts for many users gives each user a
   * session of a keyed credential, from one builder and {@link #buildFor}:
   *
   * <pre>{@code
   * OAuth2TokenSource.TokenExchangeBuilder orders = OAuth2TokenSource.tokenExchange()
   *     .tokenEndpoint("https://auth.example.com/oauth/token")
   *     .clientId("gateway")
   *     .clientSecret(secret)
   *     .audience("https://orders.example.com");
   * SessionRegistry sessions = SessionRegistry.builder()
   *     .addKeyed("orders", UserId.class, user -> RefreshManager.builder()
   *         .tokenSource(orders.buildFor(() -> inboundTokens.tokenOf(user))))
   *     .build();
   * }</pre>
   *
   * <p>{@link #build()} and {@link #buildFor} read the builder and leave it as it was. A builder
   * that is no longer changed can build sources from any thread; one whose subject is set per
   * source with {@link #subjectToken} cannot, since two threads could each build with the other's
   * subject: use {@code buildFor} there.
   *
   * <p>When the server's answer carries a refresh token, the source keeps it, and its next fetch
   * refreshes with it ({@code grant_type=refresh_token}, with the same client authentication)
   * instead of exchanging again; if the server rejects it ({@code invalid_grant}), the source drops
   * it and exchanges the subject token again. {@code invalid_grant}, {@code invalid_request} and
   * {@code invalid_target} from the exchange are permanent, as the client's configuration errors
   * are: calls fail at once, without asking again, until {@link
   * dev.retrofitauth.RefreshManager#signOut()}.
   */
  public static final class TokenExchangeBuilder {
    static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

    final HelperConfig config = new HelperConfig("token");
    @Nullable SecurityTokenSource subjectToken;
    String subjectTokenType = ACCESS_TOKEN_TYPE;
    @Nullable SecurityTokenSource actorToken;
    @Nullable String actorTokenType;
    @Nullable String requestedTokenType;
    final List<String> audiences = new ArrayList<>();
    final List<String> resources = new ArrayList<>();
    @Nullable String scope;
    @Nullable String stepUpScopes;

    TokenExchangeBuilder() {}

    /**
     * The token endpoint's URL. It must be https, except on loopback. Set it or {@link #issuer}.
     */
    public TokenExchangeBuilder tokenEndpoint(String url) {
      config.endpoint(url);
      return this;
    }

    /**
     * The issuer URL, exactly as the server names it, to find the token endpoint in the server's
     * metadata on the first fetch. Set it or {@link #tokenEndpoint}.
     */
    public TokenExchangeBuilder issuer(String url) {
      config.issuer(url);
      return this;
    }

    /** The client id. Required. */
    public TokenExchangeBuilder clientId(String clientId) {
      config.clientId(clientId);
      return this;
    }

    /** The client secret. Set it, {@link #privateKey} or {@link #clientAssertion}, or none. */
    public TokenExchangeBuilder clientSecret(String clientSecret) {
      config.clientSecret(clientSecret);
      return this;
    }

    /**
     * The private key for {@code private_key_jwt}, as for {@link
     * ClientCredentialsBuilder#privateKey(PrivateKey, String)}.
     */
    public TokenExchangeBuilder privateKey(PrivateKey key, String keyId) {
      config.privateKey(key, keyId, null);
      return this;
    }

    /**
     * Like {@link #privateKey(PrivateKey, String)}, signing with {@code algorithm}: {@code RS256}
     * or {@code PS256} for an RSA key, {@code ES256} for EC P-256, {@code ES384} for EC P-384.
     *
     * @throws IllegalArgumentException if the key does not fit the algorithm.
     */
    public TokenExchangeBuilder privateKey(PrivateKey key, String keyId, String algorithm) {
      config.privateKey(key, keyId, HelperConfig.checkAlgorithm(algorithm));
      return this;
    }

    /**
     * A client assertion from outside, sent as {@code client_assertion}, as for {@link
     * ClientCredentialsBuilder#clientAssertion}.
     */
    public TokenExchangeBuilder clientAssertion(ClientAssertionSource source) {
      config.clientAssertion(source);
      return this;
    }

    /**
     * The {@code aud} of the client's assertions: the token endpoint's URL by default, or the
     * issuer if the server asks for that.
     */
    public TokenExchangeBuilder assertionAudience(String audience) {
      config.assertionAudience(audience);
      return this;
    }

    /**
     * How the client authenticates. Defaults to {@link ClientAuthentication#PRIVATE_KEY_JWT} with a
     * private key or an assertion, {@link ClientAuthentication#CLIENT_SECRET_BASIC} with a secret
     * (or {@code CLIENT_SECRET_POST} if the server's metadata lists only that), and {@code NONE}
     * (only the {@code client_id} is sent) with neither: RFC 8693 leaves it to the server whether a
     * client must authenticate.
     */
    public TokenExchangeBuilder clientAuthentication(ClientAuthentication method) {
      config.clientAuthentication(method);
      return this;
    }

    /**
     * Where the token to exchange comes from: the subject's, such as the token a user called this
     * server with. It is asked for each exchange. Required.
     */
    public TokenExchangeBuilder subjectToken(SecurityTokenSource source) {
      this.subjectToken = Objects.requireNonNull(source, "source == null");
      return this;
    }

    /**
     * The type of the subject token, an RFC 8693 §3 URI such as {@code
     * urn:ietf:params:oauth:token-type:id_token} or {@code urn:ietf:params:oauth:token-type:jwt}.
     * Defaults to {@code urn:ietf:params:oauth:token-type:access_token}.
     */
    public TokenExchangeBuilder subjectTokenType(String type) {
      this.subjectTokenType = checkType(type, "subjectTokenType");
      return this;
    }

    /**
     * The token of the party that acts for the subject (RFC 8693 §1.1, delegation), such as this
     * service's own machine token, and its type (an RFC 8693 §3 URI). By default none is sent.
     */
    public TokenExchangeBuilder actorToken(SecurityTokenSource source, String type) {
      Objects.requireNonNull(source, "source == null");
      this.actorTokenType = checkType(type, "actorTokenType");
      this.actorToken = source;
      return this;
    }

    /**
     * The type of token to ask for, an RFC 8693 §3 URI. By default none is sent, and the server
     * chooses; the token must be one a manager can send, a Bearer or DPoP access token.
     */
    public TokenExchangeBuilder requestedTokenType(String type) {
      this.requestedTokenType = checkType(type, "requestedTokenType");
      return this;
    }

    /**
     * Adds a logical name of the service the token is for (RFC 8693 §2.1 {@code audience}), such as
     * a client id the server knows. May be called more than once.
     */
    public TokenExchangeBuilder audience(String audience) {
      Objects.requireNonNull(audience, "audience == null");
      if (audience.isEmpty()) throw new IllegalArgumentException("audience is empty");
      audiences.add(audience);
      return this;
    }

    /**
     * Adds a resource indicator (RFC 8693 §2.1, RFC 8707): the absolute URI of an API the token is
     * for. May be called more than once.
     */
    public TokenExchangeBuilder resource(String resource) {
      resources.add(HelperConfig.checkResource(resource));
      return this;
    }

    /**
     * The scopes that a resource server's scope challenge ({@code error="insufficient_scope"}) may
     * add to the ones asked for, space-separated: none by default, so a challenge goes to the
     * caller. With them, a challenge for scopes among these (and the configured ones) makes one
     * token request for the union, which later requests keep; any other scope is never asked for.
     */
    public TokenExchangeBuilder stepUpScopes(String scopes) {
      Objects.requireNonNull(scopes, "scopes == null");
      if (scopes.trim().isEmpty()) throw new IllegalArgumentException("stepUpScopes is empty");
      this.stepUpScopes = scopes;
      return this;
    }

    /** The scope to ask for, space-separated. By default none is sent. */
    public TokenExchangeBuilder scope(String scope) {
      this.scope = OAuth2RefreshApi.Builder.checkScope(scope);
      return this;
    }

    /** The client to send requests with, as for {@link ClientCredentialsBuilder#client}. */
    public TokenExchangeBuilder client(OkHttpClient client) {
      config.client(client);
      return this;
    }

    /** Binds the tokens to {@code dpop}'s key, as {@link OAuth2RefreshApi.Builder#dpop} does. */
    public TokenExchangeBuilder dpop(DPoP dpop) {
      config.dpop(dpop);
      return this;
    }

    /** Allows cleartext {@code http} endpoints that are not on loopback. Defaults to false. */
    public TokenExchangeBuilder allowCleartext(boolean allowCleartext) {
      config.allowCleartext(allowCleartext);
      return this;
    }

    /** The clock for expiries and assertions. Defaults to {@link System#currentTimeMillis()}. */
    public TokenExchangeBuilder clock(Clock clock) {
      config.clock(clock);
      return this;
    }

    private static String checkType(String type, String name) {
      Objects.requireNonNull(type, "type == null");
      if (type.isEmpty()) throw new IllegalArgumentException(name + " is empty");
      return type;
    }

    /**
     * Returns a new source for {@code subjectToken}, with every other setting of this builder,
     * which it reads and does not change: one builder, configured once, serves every subject of a
     * keyed credential, from any thread. A {@link #subjectToken} set on the builder is not used.
     */
    public OAuth2TokenSource buildFor(SecurityTokenSource subjectToken) {
      Objects.requireNonNull(subjectToken, "subjectToken == null");
      TokenEndpointClient http = config.http();
      return new OAuth2TokenSource(this, subjectToken, http, config.server(http));
    }

    /** Returns a new source; the builder is left as it was, to build more. */
    public OAuth2TokenSource build() {
      SecurityTokenSource subject = subjectToken;
      if (subject == null) {
        throw new IllegalStateException("no subject token: call subjectToken(source)");
      }
      TokenEndpointClient http = config.http();
      return new OAuth2TokenSource(this, subject, http, config.server(http));
    }
  }
}
