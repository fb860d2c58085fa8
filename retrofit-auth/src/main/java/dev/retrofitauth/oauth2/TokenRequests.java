package dev.retrofitauth.oauth2;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;

/**
 * Builds the requests the helpers send: the token requests of each grant (RFC 6749 §4.4, §6; RFC
 * 7523 §2.1; RFC 8693 §2.1) and the revocation request (RFC 7009 §2.1), each with the client's
 * authentication.
 */
final class TokenRequests {
  /** The grant types, which also decide how an error response is read. */
  enum Grant {
    REFRESH_TOKEN("refresh_token"),
    CLIENT_CREDENTIALS("client_credentials"),
    JWT_BEARER("urn:ietf:params:oauth:grant-type:jwt-bearer"),
    TOKEN_EXCHANGE("urn:ietf:params:oauth:grant-type:token-exchange");

    final String value;

    Grant(String value) {
      this.value = value;
    }
  }

  private TokenRequests() {}

  /** Returns the request that exchanges {@code refreshToken} for new tokens (RFC 6749 §6). */
  static Request refresh(
      HttpUrl endpoint,
      ClientAuth client,
      @Nullable Set<String> serverMethods,
      String refreshToken,
      @Nullable String scope,
      @Nullable String claims)
      throws IOException {
    FormBody.Builder form = grant(Grant.REFRESH_TOKEN).add("refresh_token", refreshToken);
    if (scope != null) form.add("scope", scope);
    if (claims != null) form.add("claims", claims);
    return post(endpoint, endpoint, form, client, serverMethods);
  }

  /**
   * Returns a {@code client_credentials} request (RFC 6749 §4.4.2), with the resource indicators of
   * RFC 8707 and the {@code audience} parameter that some servers (Auth0) ask for instead.
   */
  static Request clientCredentials(
      HttpUrl endpoint,
      ClientAuth client,
      @Nullable Set<String> serverMethods,
      @Nullable String scope,
      List<String> resources,
      @Nullable String audience,
      @Nullable String claims)
      throws IOException {
    FormBody.Builder form = grant(Grant.CLIENT_CREDENTIALS);
    if (scope != null) form.add("scope", scope);
    for (String resource : resources) form.add("resource", resource);
    if (audience != null) form.add("audience", audience);
    if (claims != null) form.add("claims", claims);
    return post(endpoint, endpoint, form, client, serverMethods);
  }

  /** Returns a JWT bearer grant request (RFC 7523 §2.1), without client authentication. */
  static Request jwtBearer(
      HttpUrl endpoint, String assertion, @Nullable String scope, @Nullable String claims)
      throws IOException {
    FormBody.Builder form = grant(Grant.JWT_BEARER).add("assertion", assertion);
    if (scope != null) form.add("scope", scope);
    if (claims != null) form.add("claims", claims);
    return post(endpoint, endpoint, form, null, null);
  }

  /**
   * Returns a token exchange request (RFC 8693 §2.1): the subject token, the actor token if there
   * is one, and the audiences, resources and scope of the token to issue, in the order of §2.1.
   */
  static Request tokenExchange(
      HttpUrl endpoint,
      ClientAuth client,
      @Nullable Set<String> serverMethods,
      String subjectToken,
      String subjectTokenType,
      @Nullable String actorToken,
      @Nullable String actorTokenType,
      @Nullable String requestedTokenType,
      List<String> audiences,
      List<String> resources,
      @Nullable String scope,
      @Nullable String claims)
      throws IOException {
    FormBody.Builder form = grant(Grant.TOKEN_EXCHANGE);
    for (String resource : resources) form.add("resource", resource);
    for (String audience : audiences) form.add("audience", audience);
    if (scope != null) form.add("scope", scope);
    if (requestedTokenType != null) form.add("requested_token_type", requestedTokenType);
    form.add("subject_token", subjectToken).add("subject_token_type", subjectTokenType);
    if (actorToken != null && actorTokenType != null) {
      form.add("actor_token", actorToken).add("actor_token_type", actorTokenType);
    }
    if (claims != null) form.add("claims", claims);
    return post(endpoint, endpoint, form, client, serverMethods);
  }

  /**
   * Returns a revocation request (RFC 7009 §2.1) for {@code token}, a refresh or access token; a
   * client assertion is for {@code tokenEndpoint} (null if the client set its audience).
   */
  static Request revocation(
      HttpUrl endpoint,
      @Nullable HttpUrl tokenEndpoint,
      ClientAuth client,
      @Nullable Set<String> serverMethods,
      String token,
      String tokenTypeHint)
      throws IOException {
    FormBody.Builder form =
        new FormBody.Builder().add("token", token).add("token_type_hint", tokenTypeHint);
    return post(endpoint, tokenEndpoint, form, client, serverMethods);
  }

  private static FormBody.Builder grant(Grant grant) {
    return new FormBody.Builder().add("grant_type", grant.value);
  }

  private static Request post(
      HttpUrl endpoint,
      @Nullable HttpUrl tokenEndpoint,
      FormBody.Builder form,
      @Nullable ClientAuth client,
      @Nullable Set<String> serverMethods)
      throws IOException {
    Request.Builder request =
        new Request.Builder().url(endpoint).header("Accept", "application/json");
    if (client != null) client.apply(request, form, endpoint, tokenEndpoint, serverMethods);
    return request.post(form.build()).build();
  }
}
