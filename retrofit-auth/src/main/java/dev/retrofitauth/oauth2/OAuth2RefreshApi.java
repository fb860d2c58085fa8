package dev.retrofitauth.oauth2;

import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.internal.Internal;
import java.io.IOException;
import java.util.Objects;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
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
 * <p>What the endpoint answers becomes:
 *
 * <ul>
 *   <li>200: new {@link Tokens}. A response without {@code refresh_token} keeps the old one (the
 *       manager does that). The expiry comes from {@code expires_in}, or else from the {@code exp}
 *       of a JWT access token corrected by the response's {@code Date} for the device's clock.
 *   <li>{@code invalid_grant}: {@link RefreshRejectedException}; the session ends.
 *   <li>{@code invalid_client}, {@code unauthorized_client}, {@code unsupported_grant_type} and
 *       {@code invalid_scope}: a {@linkplain RefreshFailedException#permanent permanent} {@link
 *       RefreshFailedException}. The client is misconfigured; the manager keeps the tokens and does
 *       not try again until the next sign-in.
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
public final class OAuth2RefreshApi implements RefreshApi {
  /** How the client authenticates to the token endpoint (RFC 6749 §2.3). */
  public enum ClientAuthentication {
    /** HTTP Basic with the client id and secret. The default when a secret is set. */
    CLIENT_SECRET_BASIC,
    /** {@code client_id} and {@code client_secret} in the form body. */
    CLIENT_SECRET_POST,
    /** A public client: {@code client_id} in the form body, no secret. */
    NONE
  }

  private final HttpUrl tokenEndpoint;
  private final String clientId;
  private final RefreshManager.Clock clock;
  private final TokenRequests requests;
  private final TokenEndpointClient endpoint;
  private final TokenResponseReader responses;
  private final TokenErrorMapper errors;

  private OAuth2RefreshApi(Builder builder, HttpUrl tokenEndpoint, String clientId) {
    this.tokenEndpoint = tokenEndpoint;
    this.clientId = clientId;
    this.clock = builder.clock;
    ClientAuthentication clientAuthentication =
        builder.clientAuthentication != null
            ? builder.clientAuthentication
            : builder.clientSecret != null
                ? ClientAuthentication.CLIENT_SECRET_BASIC
                : ClientAuthentication.NONE;
    this.requests =
        new TokenRequests(
            tokenEndpoint, clientId, builder.clientSecret, clientAuthentication, builder.scope);
    this.endpoint =
        new TokenEndpointClient(builder.client != null ? builder.client : new OkHttpClient());
    this.responses = new TokenResponseReader(clock);
    this.errors = new TokenErrorMapper(clock);
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public Tokens refresh(Tokens current) throws IOException {
    String refreshToken = current.refreshToken();
    if (refreshToken == null) throw new IllegalArgumentException("current has no refresh token");
    Request request = requests.refresh(refreshToken);
    long sentAt = clock.currentTimeMillis();
    try (Response response = endpoint.execute(request)) {
      if (response.isSuccessful()) return responses.read(response, sentAt);
      throw errors.toException(response);
    }
  }

  @Override
  public String toString() {
    return "OAuth2RefreshApi{tokenEndpoint=" + tokenEndpoint + ", clientId=" + clientId + "}";
  }

  /** Configures and builds an {@link OAuth2RefreshApi}. */
  public static final class Builder {
    private @Nullable HttpUrl tokenEndpoint;
    private @Nullable String clientId;
    private @Nullable String clientSecret;
    private @Nullable ClientAuthentication clientAuthentication;
    private @Nullable String scope;
    private @Nullable OkHttpClient client;
    private boolean allowCleartext;
    private RefreshManager.Clock clock = System::currentTimeMillis;

    Builder() {}

    /** The token endpoint's URL. It must be https, except on loopback. Required. */
    public Builder tokenEndpoint(String url) {
      Objects.requireNonNull(url, "url == null");
      this.tokenEndpoint = Internal.parseUrl(url);
      return this;
    }

    /** The client id. Required. */
    public Builder clientId(String clientId) {
      Objects.requireNonNull(clientId, "clientId == null");
      if (clientId.isEmpty()) throw new IllegalArgumentException("clientId is empty");
      this.clientId = clientId;
      return this;
    }

    /** The client secret of a confidential client. Leave it unset for a public client. */
    public Builder clientSecret(String clientSecret) {
      Objects.requireNonNull(clientSecret, "clientSecret == null");
      if (clientSecret.isEmpty()) throw new IllegalArgumentException("clientSecret is empty");
      this.clientSecret = clientSecret;
      return this;
    }

    /**
     * How the client authenticates. Defaults to {@link ClientAuthentication#CLIENT_SECRET_BASIC}
     * with a secret and {@link ClientAuthentication#NONE} without.
     */
    public Builder clientAuthentication(ClientAuthentication clientAuthentication) {
      this.clientAuthentication =
          Objects.requireNonNull(clientAuthentication, "clientAuthentication == null");
      return this;
    }

    /** The scope to ask for, space-separated. By default none is sent: the grant's scope. */
    public Builder scope(String scope) {
      Objects.requireNonNull(scope, "scope == null");
      if (scope.trim().isEmpty()) throw new IllegalArgumentException("scope is blank");
      this.scope = scope;
      return this;
    }

    /**
     * The client to send the refresh with. Its configuration (timeouts, TLS, proxy) is kept, but
     * retrofit-auth's interceptor and authenticator are removed from the copy that is used, and
     * that copy does not follow redirects. Defaults to a new {@link OkHttpClient}.
     */
    public Builder client(OkHttpClient client) {
      this.client = Objects.requireNonNull(client, "client == null");
      return this;
    }

    /**
     * Allows a cleartext {@code http} token endpoint that is not on loopback. Defaults to false.
     */
    public Builder allowCleartext(boolean allowCleartext) {
      this.allowCleartext = allowCleartext;
      return this;
    }

    /** The device clock, used for expiries. Defaults to {@link System#currentTimeMillis()}. */
    public Builder clock(RefreshManager.Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock == null");
      return this;
    }

    public OAuth2RefreshApi build() {
      HttpUrl endpoint = tokenEndpoint;
      if (endpoint == null) {
        throw new IllegalStateException("no token endpoint: call tokenEndpoint(url)");
      }
      String id = clientId;
      if (id == null) throw new IllegalStateException("no client id: call clientId(id)");
      if (!endpoint.isHttps() && !allowCleartext && !Internal.isLoopback(endpoint)) {
        throw new IllegalStateException(
            "the token endpoint is cleartext http: use https, or call allowCleartext(true)");
      }
      ClientAuthentication method = clientAuthentication;
      if (method != null && method != ClientAuthentication.NONE && clientSecret == null) {
        throw new IllegalStateException(
            method + " needs a client secret: call clientSecret(secret), or use NONE");
      }
      if (method == ClientAuthentication.NONE && clientSecret != null) {
        throw new IllegalStateException(
            "a public client (NONE) sends no secret: remove clientSecret(...) or pick "
                + "CLIENT_SECRET_BASIC or CLIENT_SECRET_POST");
      }
      return new OAuth2RefreshApi(this, endpoint, id);
    }
  }
}
