package dev.retrofitauth.oauth2;

import dev.retrofitauth.oauth2.OAuth2RefreshApi.ClientAuthentication;
import java.io.UnsupportedEncodingException;
import java.net.URLEncoder;
import java.util.Objects;
import okhttp3.Credentials;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;

/**
 * Builds the refresh request (RFC 6749 §6): the form, and the client's authentication (§2.3).
 * Immutable and thread-safe.
 */
final class TokenRequests {
  private final HttpUrl tokenEndpoint;
  private final String clientId;
  private final @Nullable String clientSecret;
  private final ClientAuthentication clientAuthentication;
  private final @Nullable String scope;

  TokenRequests(
      HttpUrl tokenEndpoint,
      String clientId,
      @Nullable String clientSecret,
      ClientAuthentication clientAuthentication,
      @Nullable String scope) {
    this.tokenEndpoint = tokenEndpoint;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.clientAuthentication = clientAuthentication;
    this.scope = scope;
  }

  /** Returns the request that exchanges {@code refreshToken} for new tokens. */
  Request refresh(String refreshToken) {
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
    return request.post(form.build()).build();
  }

  private static String formEncode(String value) {
    try {
      return URLEncoder.encode(value, "UTF-8");
    } catch (UnsupportedEncodingException e) {
      throw new AssertionError(e);
    }
  }
}
