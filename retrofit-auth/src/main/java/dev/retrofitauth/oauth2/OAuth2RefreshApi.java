package dev.retrofitauth.oauth2;

import dev.retrofitauth.Clock;
import dev.retrofitauth.DPoP;
import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.RefreshApiWithRequirements;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.TokenRequirements;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.internal.UsesDPoP;
import dev.retrofitauth.oauth2.TokenRequests.Grant;
import java.io.IOException;
import java.security.PrivateKey;
import java.util.Objects;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RefreshApi} for an OAuth 2 token endpoint: it POSTs {@code grant_type=refresh_token}
 * (RFC 6749 §6) and reads the token response.
 *
 * <pre>{@code
 * RefreshApi refreshApi = OAuth2RefreshApi.builder()
 *     .tokenEndpoint("https://auth.example.com/oauth/token")
 *     .clientId("my-app")
 *     .clientSecret(secret) // omit for a public client
 *     .client(okHttpClient) // optional; the auth interceptor is removed from its copy
 *     .build();
 * }</pre>
 *
 * <p>Instead of the token endpoint, the builder may be given the {@linkplain Builder#issuer
 * issuer}: the endpoint is then read from the server's metadata on the first refresh. The client
 * authenticates with a secret, with a signed assertion ({@link
 * ClientAuthentication#PRIVATE_KEY_JWT} and {@link Builder#privateKey}), or not at all (a public
 * client).
 *
 * <p>What the endpoint answers becomes:
 *
 * <ul>
 *   <li>200: new {@link Tokens}. A response without {@code refresh_token} keeps the old one (the
 *       manager does that). The expiry comes from {@code expires_in}, or else from the {@code exp}
 *       of a JWT access token corrected by the response's {@code Date} for the device's clock.
 *       {@code token_type} {@code DPoP} gives tokens of type {@link Tokens#DPOP}; an unknown type,
 *       or {@code DPoP} without a {@linkplain Builder#dpop DPoP key}, is a permanent {@link
 *       RefreshFailedException}.
 *   <li>{@code invalid_grant}: {@link RefreshRejectedException}; the session ends.
 *   <li>{@code invalid_client}, {@code unauthorized_client}, {@code unsupported_grant_type} and
 *       {@code invalid_scope}: a {@linkplain RefreshFailedException#permanent permanent} {@link
 *       RefreshFailedException}. The client is misconfigured; the manager keeps the tokens and does
 *       not try again until the next sign-in.
 *   <li>{@code use_dpop_nonce}: with a {@linkplain Builder#dpop DPoP key}, one resend with the
 *       server's new nonce; a second {@code use_dpop_nonce}, or one without a key, is a transient
 *       {@link IOException}.
 *   <li>408, 429 and 5xx: a transient {@link IOException}, with the server's {@code Retry-After}
 *       honoured.
 *   <li>Any other error: {@code invalid_request}, an unknown error code, or a 4xx without an OAuth
 *       error (a proxy's 403, a 404 during a deploy, a 400 or 401 without a body): a transient
 *       {@link IOException}, so the manager backs off and tries again.
 *   <li>A redirect: a transient {@link IOException}. Redirects are not followed, so that the
 *       refresh token and the client secret go only to the configured endpoint.
 *   <li>A network failure, or a 200 whose body is not a usable token response: a transient {@link
 *       IOException}.
 * </ul>
 *
 * <p>No message names a token. Text from the server that a message quotes (an error code, a token
 * type) is cut to 64 characters, with line breaks and other control characters escaped, so it
 * cannot forge log lines. Instances are immutable and thread-safe.
 */
public final class OAuth2RefreshApi implements RefreshApiWithRequirements, UsesDPoP {
  private final AuthorizationServer server;
  private final ClientAuth clientAuth;
  private final @Nullable String scope;
  private final TokenExchange exchange;

  private OAuth2RefreshApi(
      Builder builder, TokenExchange exchange, AuthorizationServer server, ClientAuth client) {
    this.server = server;
    this.clientAuth = client;
    this.scope = builder.scope;
    this.exchange = exchange;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@inheritDoc}
   *
   * <p>With an {@linkplain Builder#issuer issuer}, the first call reads the server's metadata.
   */
  @Override
  public Tokens refresh(Tokens current) throws IOException {
    return refresh(current, (String) null);
  }

  /**
   * Refreshes for a resource server's claims challenge: the refresh request carries its {@code
   * claims} (OpenID Connect Core §5.5). A scope challenge's scope is not asked for: a refresh
   * cannot widen a grant's scope.
   */
  @Override
  public Tokens refresh(Tokens current, TokenRequirements requirements) throws IOException {
    try {
      return refresh(current, requirements.claims());
    } catch (RefreshFailedException | RefreshRejectedException e) {
      // A resource server chose the claims: their refusal fails the calls that wait for this
      // refresh, and never signs the user out. A dead refresh token shows on the next refresh.
      throw new IOException("the refresh for a resource server's claims challenge failed", e);
    }
  }

  private Tokens refresh(Tokens current, @Nullable String claims) throws IOException {
    String refreshToken = current.refreshToken();
    if (refreshToken == null) throw new IllegalArgumentException("current has no refresh token");
    return exchange.exchange(
        server.tokenEndpoint(),
        endpoint ->
            TokenRequests.refresh(
                endpoint, clientAuth, server.authMethodsSupported(), refreshToken, scope, claims),
        Grant.REFRESH_TOKEN,
        "the refresh token and client secret");
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
    return "OAuth2RefreshApi{" + server + ", " + clientAuth + "}";
  }

  /** Configures and builds an {@link OAuth2RefreshApi}. */
  public static final class Builder {
    final HelperConfig config = new HelperConfig("token");
    @Nullable String scope;

    Builder() {}

    /**
     * The token endpoint's URL. It must be https, except on loopback. Set it or {@link #issuer}.
     */
    public Builder tokenEndpoint(String url) {
      config.endpoint(url);
      return this;
    }

    /**
     * The authorization server's issuer URL, exactly as the server names it, to find the token
     * endpoint in its metadata on the first refresh (RFC 8414: {@code
     * /.well-known/oauth-authorization-server} first, then OpenID's {@code
     * /.well-known/openid-configuration}). Set it or {@link #tokenEndpoint}.
     */
    public Builder issuer(String url) {
      config.issuer(url);
      return this;
    }

    /**
     * The protected resource (the API) whose tokens these are, by its resource identifier, such as
     * {@code https://api.example.com}: instead of {@link #issuer} or {@link #tokenEndpoint}, the
     * first refresh reads the resource's metadata (RFC 9728, {@code
     * /.well-known/oauth-protected-resource} inserted between the host and the path), takes the
     * first authorization server it names as the issuer, and reads that server's metadata as {@link
     * #issuer} does. Both are read once and kept; a read that fails is not kept.
     *
     * <p>The metadata is used only if its {@code resource} is {@code url} exactly, as given here,
     * so that a document about another resource cannot name the authorization server the client's
     * credentials go to; the authorization server's metadata must name the issuer exactly. It must
     * be https, except on loopback.
     */
    public Builder protectedResource(String url) {
      config.protectedResource(url);
      return this;
    }

    /** The client id. Required. */
    public Builder clientId(String clientId) {
      config.clientId(clientId);
      return this;
    }

    /** The client secret of a confidential client. Leave it unset for a public client. */
    public Builder clientSecret(String clientSecret) {
      config.clientSecret(clientSecret);
      return this;
    }

    /**
     * The private key that signs the client's assertions for {@link
     * ClientAuthentication#PRIVATE_KEY_JWT}: RSA (RS256, 2048 bits or more) or EC P-256 (ES256).
     * {@code keyId} is sent as the JWT's {@code kid}: the id the server knows the public key by.
     */
    public Builder privateKey(PrivateKey key, String keyId) {
      config.privateKey(key, keyId, null);
      return this;
    }

    /**
     * Like {@link #privateKey(PrivateKey, String)}, signing with {@code algorithm}: {@code RS256}
     * or {@code PS256} for an RSA key, {@code ES256} for EC P-256, {@code ES384} for EC P-384.
     *
     * @throws IllegalArgumentException if the key does not fit the algorithm.
     */
    public Builder privateKey(PrivateKey key, String keyId, String algorithm) {
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
    public Builder clientAssertion(ClientAssertionSource source) {
      config.clientAssertion(source);
      return this;
    }

    /**
     * The {@code aud} of the client's assertions: the token endpoint's URL by default, or the
     * issuer if the server asks for that.
     */
    public Builder assertionAudience(String audience) {
      config.assertionAudience(audience);
      return this;
    }

    /**
     * How the client authenticates. Defaults to {@link ClientAuthentication#PRIVATE_KEY_JWT} with a
     * private key, {@link ClientAuthentication#CLIENT_SECRET_BASIC} with a secret and {@link
     * ClientAuthentication#NONE} without either.
     */
    public Builder clientAuthentication(ClientAuthentication clientAuthentication) {
      config.clientAuthentication(clientAuthentication);
      return this;
    }

    /** The scope to ask for, space-separated. By default none is sent: the grant's scope. */
    public Builder scope(String scope) {
      this.scope = checkScope(scope);
      return this;
    }

    static String checkScope(String scope) {
      Objects.requireNonNull(scope, "scope == null");
      if (scope.trim().isEmpty()) throw new IllegalArgumentException("scope is blank");
      return scope;
    }

    /**
     * The client to send the refresh with. Its configuration (timeouts, TLS, proxy) is kept, but
     * retrofit-auth's interceptor and authenticator are removed from the copy that is used, and
     * that copy does not follow redirects. Defaults to a new {@link OkHttpClient}.
     *
     * <p>The client's own interceptors stay, and they see these requests whole: the client secret,
     * the refresh token and the tokens in the answer. Do not pass a client with a logging
     * interceptor at {@code BODY} level (or {@code HEADERS} without {@code
     * redactHeader("Authorization")}); pass one without it. Each call is limited to 30 seconds in
     * all (or the client's shorter call timeout), so that a server that answers one byte at a time
     * cannot hold a refresh for ever.
     */
    public Builder client(OkHttpClient client) {
      config.client(client);
      return this;
    }

    /**
     * Binds the tokens to {@code dpop}'s key (RFC 9449): every token request carries a DPoP proof,
     * the endpoint's {@code DPoP-Nonce} is echoed (a {@code use_dpop_nonce} error gets one resend
     * with the new nonce), and {@code token_type DPoP} gives {@link Tokens} of type {@link
     * Tokens#DPOP}. Give the manager the same key with {@link RefreshManager.Builder#dpop}: the
     * tokens, the refresh token of a public client included, are useless without it.
     */
    public Builder dpop(DPoP dpop) {
      config.dpop(dpop);
      return this;
    }

    /**
     * Allows a cleartext {@code http} token endpoint that is not on loopback. Defaults to false.
     */
    public Builder allowCleartext(boolean allowCleartext) {
      config.allowCleartext(allowCleartext);
      return this;
    }

    /**
     * The device clock, used for expiries and assertions. Defaults to {@link
     * System#currentTimeMillis()}.
     */
    public Builder clock(Clock clock) {
      config.clock(clock);
      return this;
    }

    public OAuth2RefreshApi build() {
      TokenEndpointClient http = config.http();
      AuthorizationServer server = config.server(http);
      return new OAuth2RefreshApi(
          this, config.exchange(http), server, config.clientAuth(true, "refresh_token"));
    }
  }
}
