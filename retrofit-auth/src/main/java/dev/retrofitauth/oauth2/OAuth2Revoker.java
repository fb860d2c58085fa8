package dev.retrofitauth.oauth2;

import dev.retrofitauth.Clock;
import dev.retrofitauth.TokenRevoker;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.security.PrivateKey;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * A {@link TokenRevoker} for an OAuth 2 revocation endpoint (RFC 7009): it POSTs the refresh token,
 * or the access token if there is none, with its {@code token_type_hint}, and the client's
 * authentication.
 *
 * <pre>{@code
 * RefreshManager auth = RefreshManager.builder()
 *     .refreshApi(refreshApi)
 *     .revokeOnSignOut(OAuth2Revoker.builder()
 *         .issuer("https://auth.example.com") // or revocationEndpoint(url)
 *         .clientId("my-app")
 *         .build())
 *     .build();
 * }</pre>
 *
 * <p>A 2xx means the token is revoked, or was already invalid (RFC 7009 §2.2). Any other answer, a
 * redirect included (it is not followed, so the token goes only to the configured endpoint), is an
 * {@link IOException} that names the status and the server's OAuth error code, shortened and
 * escaped; no message names a token or a secret. Instances are immutable and thread-safe.
 */
public final class OAuth2Revoker implements TokenRevoker {
  private final AuthorizationServer server;
  private final ClientAuth clientAuth;
  private final TokenEndpointClient http;
  // With an issuer, a client assertion's aud is the token endpoint of the server's metadata.
  private final boolean discovered;

  private OAuth2Revoker(
      AuthorizationServer server,
      ClientAuth clientAuth,
      TokenEndpointClient http,
      boolean discovered) {
    this.server = server;
    this.clientAuth = clientAuth;
    this.http = http;
    this.discovered = discovered;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@inheritDoc}
   *
   * <p>With an issuer, the first call reads the server's metadata, which must name a {@code
   * revocation_endpoint}.
   */
  @Override
  public void revoke(Tokens tokens) throws IOException {
    String refreshToken = tokens.refreshToken();
    String token = refreshToken != null ? refreshToken : tokens.accessToken();
    String hint = refreshToken != null ? "refresh_token" : "access_token";
    HttpUrl endpoint = server.revocationEndpoint();
    // Read only for an assertion: a server whose metadata names no token endpoint still revokes.
    HttpUrl tokenEndpoint =
        discovered && clientAuth.needsAudience(server.authMethodsSupported())
            ? server.tokenEndpoint()
            : null;
    Request request =
        TokenRequests.revocation(
            endpoint, tokenEndpoint, clientAuth, server.authMethodsSupported(), token, hint);
    try (Response response =
        http.execute(
            request, "the revocation endpoint", "the token and the client's credentials")) {
      if (response.isSuccessful()) return;
      String error = TokenErrorMapper.readErrorCode(response);
      throw new IOException(
          "the revocation endpoint answered HTTP "
              + response.code()
              + (error != null ? ", " + ServerText.sanitize(error) : ""));
    }
  }

  @Override
  public String toString() {
    return "OAuth2Revoker{" + server + ", " + clientAuth + "}";
  }

  /** Configures and builds an {@link OAuth2Revoker}. */
  public static final class Builder {
    private final HelperConfig config = new HelperConfig("revocation");

    Builder() {}

    /**
     * The revocation endpoint's URL. It must be https, except on loopback. Set it or {@link
     * #issuer}.
     */
    public Builder revocationEndpoint(String url) {
      config.endpoint(url);
      return this;
    }

    /**
     * The issuer URL, exactly as the server names it, to find the {@code revocation_endpoint} in
     * the server's metadata on the first revocation. Set it or {@link #revocationEndpoint}.
     */
    public Builder issuer(String url) {
      config.issuer(url);
      return this;
    }

    /**
     * The protected resource (the API) whose tokens these are: its metadata names the authorization
     * server, read on the first revocation as {@link OAuth2RefreshApi.Builder#protectedResource}
     * describes. Instead of {@link #issuer} or {@link #revocationEndpoint}.
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

    /** The client secret of a confidential client. Leave it and the key unset for a public one. */
    public Builder clientSecret(String clientSecret) {
      config.clientSecret(clientSecret);
      return this;
    }

    /**
     * The private key for {@code private_key_jwt}: RSA (RS256) or EC P-256 (ES256); {@code keyId}
     * is sent as {@code kid}. The assertion's {@code aud} is the server's token endpoint, as RFC
     * 7523 §3 asks and Keycloak requires, never the revocation endpoint: with {@link #issuer}, the
     * one its metadata names; with {@link #revocationEndpoint}, set {@link #assertionAudience}.
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
     * The {@code aud} of the client's assertions: the server's token endpoint URL, or its issuer if
     * the server asks for that. Defaults to the token endpoint of the server's metadata.
     */
    public Builder assertionAudience(String audience) {
      config.assertionAudience(audience);
      return this;
    }

    /**
     * How the client authenticates. Defaults as for {@link
     * OAuth2RefreshApi.Builder#clientAuthentication}.
     */
    public Builder clientAuthentication(ClientAuthentication clientAuthentication) {
      config.clientAuthentication(clientAuthentication);
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
    public Builder client(OkHttpClient client) {
      config.client(client);
      return this;
    }

    /** Allows cleartext {@code http} endpoints that are not on loopback. Defaults to false. */
    public Builder allowCleartext(boolean allowCleartext) {
      config.allowCleartext(allowCleartext);
      return this;
    }

    /** The clock for client assertions. Defaults to {@link System#currentTimeMillis()}. */
    public Builder clock(Clock clock) {
      config.clock(clock);
      return this;
    }

    public OAuth2Revoker build() {
      TokenEndpointClient http = config.http();
      AuthorizationServer server = config.server(http);
      return new OAuth2Revoker(
          server, config.clientAuth(true, "revocation"), http, config.hasIssuer());
    }
  }
}
