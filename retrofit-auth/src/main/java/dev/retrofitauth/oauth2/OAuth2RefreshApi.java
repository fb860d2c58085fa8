package dev.retrofitauth.oauth2;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonEncodingException;
import com.squareup.moshi.JsonReader;
import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.Tokens;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import okhttp3.Authenticator;
import okhttp3.Credentials;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
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
 *   <li>{@code invalid_client}, {@code unauthorized_client}, {@code unsupported_grant_type}, {@code
 *       invalid_scope}, {@code invalid_request}, a 401 without an error code, and any other 4xx: a
 *       {@linkplain RefreshFailedException#permanent permanent} {@link RefreshFailedException}. The
 *       client is misconfigured; the manager keeps the tokens and does not try again until the next
 *       sign-in.
 *   <li>408, 429 and 5xx: a transient failure, with the server's {@code Retry-After} honoured.
 *   <li>A network failure, or a 200 whose body is not a usable token response: a transient {@link
 *       IOException}.
 * </ul>
 *
 * <p>No message names a token. Instances are immutable and thread-safe.
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

  private static final Set<String> CONFIGURATION_ERRORS =
      Collections.unmodifiableSet(
          new HashSet<>(
              Arrays.asList(
                  "invalid_client",
                  "unauthorized_client",
                  "unsupported_grant_type",
                  "invalid_scope",
                  "invalid_request")));

  private final HttpUrl tokenEndpoint;
  private final OkHttpClient client;
  private final String clientId;
  private final @Nullable String clientSecret;
  private final ClientAuthentication clientAuthentication;
  private final @Nullable String scope;
  private final RefreshManager.Clock clock;

  private OAuth2RefreshApi(Builder builder, HttpUrl tokenEndpoint, String clientId) {
    this.tokenEndpoint = tokenEndpoint;
    this.client = withoutAuth(builder.client != null ? builder.client : new OkHttpClient());
    this.clientId = clientId;
    this.clientSecret = builder.clientSecret;
    this.clientAuthentication =
        builder.clientAuthentication != null
            ? builder.clientAuthentication
            : builder.clientSecret != null
                ? ClientAuthentication.CLIENT_SECRET_BASIC
                : ClientAuthentication.NONE;
    this.scope = builder.scope;
    this.clock = builder.clock;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a copy of {@code client} without retrofit-auth's interceptor and authenticator: the
   * refresh request must never carry the access token, nor wait for the refresh it is part of.
   */
  private static OkHttpClient withoutAuth(OkHttpClient client) {
    OkHttpClient.Builder builder = client.newBuilder();
    removeAuth(builder.interceptors());
    removeAuth(builder.networkInterceptors());
    if (isAuthComponent(client.authenticator())) builder.authenticator(Authenticator.NONE);
    return builder.build();
  }

  private static void removeAuth(List<Interceptor> interceptors) {
    for (Iterator<Interceptor> i = interceptors.iterator(); i.hasNext(); ) {
      if (isAuthComponent(i.next())) i.remove();
    }
  }

  private static boolean isAuthComponent(Object component) {
    Package p = component.getClass().getPackage();
    return p != null && p.getName().equals("dev.retrofitauth");
  }

  @Override
  public Tokens refresh(Tokens current) throws IOException {
    String refreshToken = current.refreshToken();
    if (refreshToken == null) throw new IllegalArgumentException("current has no refresh token");
    FormBody.Builder form =
        new FormBody.Builder()
            .add("grant_type", "refresh_token")
            .add("refresh_token", refreshToken);
    if (scope != null) form.add("scope", scope);
    Request.Builder request =
        new Request.Builder().url(tokenEndpoint).header("Accept", "application/json");
    switch (clientAuthentication) {
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
      case NONE:
        form.add("client_id", clientId);
        break;
    }
    long sentAt = clock.currentTimeMillis();
    try (Response response = client.newCall(request.post(form.build()).build()).execute()) {
      int code = response.code();
      if (code >= 200 && code < 300) return readTokens(response, sentAt);
      String error = readErrorCode(response.body());
      if ("invalid_grant".equals(error)) {
        throw new RefreshRejectedException(
            "the token endpoint rejected the refresh token (HTTP " + code + ", invalid_grant)");
      }
      if (code == 408 || code == 429 || code >= 500) {
        String message = "the token endpoint answered HTTP " + code;
        long retryAfter = retryAfterMillis(response);
        if (retryAfter > 0L) {
          throw RefreshFailedException.retryAfter(
              message + ", retry after " + retryAfter + " ms", retryAfter, TimeUnit.MILLISECONDS);
        }
        throw new IOException(message);
      }
      String detail = "HTTP " + code + (error != null ? ", " + error : "");
      if (code == 401 || (error != null && CONFIGURATION_ERRORS.contains(error))) {
        throw RefreshFailedException.permanent(
            "the token endpoint refused the client's request ("
                + detail
                + "): check the client id, secret, authentication method, grant type and scope");
      }
      throw RefreshFailedException.permanent(
          "the token endpoint answered " + detail + ": check the token endpoint URL");
    }
  }

  private Tokens readTokens(Response response, long sentAt) throws IOException {
    long receivedAt = clock.currentTimeMillis();
    String access = null;
    String refresh = null;
    String tokenType = null;
    long expiresIn = -1L;
    ResponseBody body = response.body();
    if (body == null) throw new IOException("the token response has no body");
    try {
      JsonReader reader = JsonReader.of(body.source());
      reader.beginObject();
      while (reader.hasNext()) {
        switch (reader.nextName()) {
          case "access_token":
            access = nextStringOrNull(reader);
            break;
          case "refresh_token":
            refresh = nextStringOrNull(reader);
            break;
          case "token_type":
            tokenType = nextStringOrNull(reader);
            break;
          case "expires_in":
            expiresIn = nextSecondsOrMinusOne(reader);
            break;
          default:
            reader.skipValue();
        }
      }
      reader.endObject();
    } catch (JsonDataException | JsonEncodingException | EOFException e) {
      // The parser's message is left out: it may quote the body, which holds tokens.
      throw new IOException(
          "the token endpoint returned a malformed token response ("
              + e.getClass().getSimpleName()
              + ")");
    }
    if (access == null || access.isEmpty()) {
      throw new IOException("the token response has no access_token");
    }
    if (tokenType != null && !tokenType.equalsIgnoreCase("bearer")) {
      throw RefreshFailedException.permanent(
          "the token endpoint issued a token of an unsupported type: " + tokenType);
    }
    if (refresh != null && refresh.isEmpty()) refresh = null;
    long expiresAt;
    if (expiresIn >= 0L) {
      // Relative, so the device clock's error cancels out. Counted from when the request left,
      // which errs on the early side by one round trip.
      expiresAt = sentAt + TimeUnit.SECONDS.toMillis(expiresIn);
    } else {
      long exp = Jwts.expiresAtMillis(access);
      expiresAt =
          exp == Tokens.NO_EXPIRY ? Tokens.NO_EXPIRY : exp + clockSkew(response, receivedAt);
      if (expiresAt < 0L) expiresAt = Tokens.NO_EXPIRY;
    }
    try {
      return Tokens.of(access, refresh, expiresAt);
    } catch (IllegalArgumentException e) {
      throw new IOException(
          "the token response has a token that cannot be sent: " + e.getMessage());
    }
  }

  /**
   * Returns how far the device clock is ahead of the server's, from the response's {@code Date}, so
   * that the server's absolute times can be read in device time; 0 if there is no date.
   */
  private static long clockSkew(Response response, long receivedAt) {
    Date serverDate = response.headers().getDate("Date");
    return serverDate != null ? receivedAt - serverDate.getTime() : 0L;
  }

  private long retryAfterMillis(Response response) {
    String value = response.header("Retry-After");
    if (value == null) return 0L;
    try {
      long seconds = Long.parseLong(value.trim());
      return seconds > 0 ? TimeUnit.SECONDS.toMillis(seconds) : 0L;
    } catch (NumberFormatException notSeconds) {
      Date date = response.headers().getDate("Retry-After");
      if (date == null) return 0L;
      // An HTTP date is in the server's clock: measure it from the server's Date when it has one.
      Date serverNow = response.headers().getDate("Date");
      long now = serverNow != null ? serverNow.getTime() : clock.currentTimeMillis();
      return Math.max(0L, date.getTime() - now);
    }
  }

  private static @Nullable String readErrorCode(@Nullable ResponseBody body) {
    if (body == null) return null;
    try {
      JsonReader reader = JsonReader.of(body.source());
      String error = null;
      reader.beginObject();
      while (reader.hasNext()) {
        if (reader.nextName().equals("error") && reader.peek() == JsonReader.Token.STRING) {
          error = reader.nextString();
        } else {
          reader.skipValue();
        }
      }
      reader.endObject();
      // RFC 6749 §5.2 limits error codes to printable ASCII; anything else is not echoed.
      return error != null && error.matches("[\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]{1,64}")
          ? error
          : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static @Nullable String nextStringOrNull(JsonReader reader) throws IOException {
    if (reader.peek() == JsonReader.Token.NULL) return reader.nextNull();
    if (reader.peek() != JsonReader.Token.STRING) throw new JsonDataException("expected a string");
    return reader.nextString();
  }

  /** Reads {@code expires_in}, which some servers send as a string. */
  private static long nextSecondsOrMinusOne(JsonReader reader) throws IOException {
    JsonReader.Token token = reader.peek();
    if (token == JsonReader.Token.NULL) {
      reader.nextNull();
      return -1L;
    }
    if (token != JsonReader.Token.NUMBER && token != JsonReader.Token.STRING) {
      throw new JsonDataException("expected a number");
    }
    try {
      long seconds = reader.nextLong();
      return seconds >= 0 ? seconds : -1L;
    } catch (NumberFormatException | JsonDataException e) {
      throw new JsonDataException("expected a number");
    }
  }

  private static String formEncode(String value) {
    try {
      return java.net.URLEncoder.encode(value, "UTF-8");
    } catch (java.io.UnsupportedEncodingException e) {
      throw new AssertionError(e);
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
      HttpUrl parsed = HttpUrl.parse(url);
      if (parsed == null) {
        throw new IllegalArgumentException("url is not an http or https URL: " + url);
      }
      this.tokenEndpoint = parsed;
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
     * retrofit-auth's interceptor and authenticator are removed from the copy that is used.
     * Defaults to a new {@link OkHttpClient}.
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
      if (!endpoint.isHttps() && !allowCleartext && !isLoopback(endpoint.host())) {
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

    private static boolean isLoopback(String host) {
      return host.equals("localhost") || host.equals("::1") || host.matches("127(\\.\\d{1,3}){3}");
    }
  }
}
