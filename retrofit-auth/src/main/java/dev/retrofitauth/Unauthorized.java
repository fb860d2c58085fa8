package dev.retrofitauth;

import dev.retrofitauth.RequestTags.AuthMark;
import dev.retrofitauth.internal.Challenges;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.ByteString;
import org.jspecify.annotations.Nullable;

/**
 * The one answer to "is this response ours to fix?", for {@link AuthCall} and {@link
 * AuthAuthenticator} alike: status, {@link NoAuth} and {@link NoRetry}, one retry at most, the
 * request's own token, its origin, a body that can be sent again, the {@code WWW-Authenticate}
 * challenge, and the app's {@link RefreshRule}.
 */
final class Unauthorized {
  private final Origins origins;
  private final Listeners listeners;
  private final boolean answersClaims;
  private final @Nullable TokenSourceWithRequirements scopeSource;

  /**
   * {@code refreshApi} and {@code source}: the session's, which may ask for a token that meets a
   * claims challenge, or, for a source, a scope challenge that it accepts.
   */
  Unauthorized(
      Origins origins,
      Listeners listeners,
      @Nullable RefreshApi refreshApi,
      @Nullable TokenSource source) {
    this.origins = origins;
    this.listeners = listeners;
    this.answersClaims = Grant.answersClaims(refreshApi, source);
    this.scopeSource =
        source instanceof TokenSourceWithRequirements ? (TokenSourceWithRequirements) source : null;
  }

  /** True if the session's token source may ask for {@code scope}, which a challenge named. */
  private boolean answersScope(@Nullable String scope) {
    TokenSourceWithRequirements source = scopeSource;
    return source != null
        && scope != null
        && hasText(scope)
        && source.accepts(TokenRequirements.scope(scope.trim()));
  }

  /**
   * Returns the {@code Authorization} header whose token a refresh should replace, if {@code
   * response} is a 401 (or what the {@link RefreshRule} names) that a refresh may fix; null to hand
   * the response over as it is.
   */
  @Nullable String tokenToRefresh(Response response, MethodPolicy policy) {
    boolean unauthorized = response.code() == 401;
    boolean ruled = response.request().tag(RequestTags.RuleMatch.class) != null;
    if ((!unauthorized && !ruled) || policy.noAuth || policy.noRetry) return null;
    for (Response prior = response.priorResponse(); prior != null; prior = prior.priorResponse()) {
      if (prior.code() == 401) return null; // Retried once already (by auth.authenticator()).
    }
    Response network = response.networkResponse();
    if (network == null) return null; // From the cache.
    Request sent = network.request();
    // Withheld on purpose (another origin, cleartext, the caller's own header): not ours to fix.
    if (sent.tag(AuthMark.class) != AuthMark.ATTACHED) return null;
    String header = sent.header(RequestTags.AUTHORIZATION);
    if (header == null) return null; // OkHttp removed it on a redirect to another origin.
    if (!origins.mayReceiveToken(sent.url())) return null;
    RequestBody body = sent.body();
    if (body != null && body.isOneShot()) return null; // It cannot be sent again.
    if (unauthorized && !challengeAllowsRefresh(response)) return null;
    return header;
  }

  /**
   * What the 401's challenge says the new token must have: its claims for {@code
   * insufficient_claims}, its scope for {@code insufficient_scope}, when the session can ask for
   * them; null for a plain refresh. Call it for a response that {@link #tokenToRefresh} took.
   */
  @Nullable TokenRequirements requirements(Response response) {
    if (response.code() != 401) return null;
    for (Challenges.Challenge challenge : Challenges.parse(response.headers("WWW-Authenticate"))) {
      if (!challenge.is("Bearer") && !challenge.is("DPoP")) continue;
      String error = challenge.param("error");
      String claims = challenge.param("claims");
      String scope = challenge.param("scope");
      if ("insufficient_claims".equals(error) && answersClaims && hasText(claims)) {
        return TokenRequirements.claims(decodeClaims(claims));
      }
      if ("insufficient_scope".equals(error) && answersScope(scope)) {
        return TokenRequirements.scope(scope.trim());
      }
    }
    return null;
  }

  private static boolean hasText(@Nullable String value) {
    return value != null && !value.trim().isEmpty();
  }

  /**
   * A claims challenge's {@code claims}: base64 of the JSON in Continuous Access Evaluation, or the
   * JSON itself. Either way, the JSON.
   */
  private static String decodeClaims(String claims) {
    String trimmed = claims.trim();
    if (trimmed.startsWith("{")) return trimmed;
    ByteString decoded = ByteString.decodeBase64(trimmed);
    if (decoded != null) {
      String json = decoded.utf8().trim();
      if (json.startsWith("{")) return json;
    }
    return trimmed;
  }

  /**
   * Reads the 401's {@code WWW-Authenticate} challenges for the token's schemes (RFC 6750 §3, RFC
   * 9470, RFC 9449). No challenge, no error, {@code invalid_token} or an unknown error: a refresh
   * may help. {@code insufficient_claims} with {@code claims}, or {@code insufficient_scope} with
   * {@code scope}: a refresh that asks for them may help, if the session's RefreshApi or
   * TokenSource can (see {@link #requirements}); a plain refresh cannot. {@code invalid_request},
   * {@code invalid_dpop_proof}, or a nonce request that remains after its one resend: it cannot.
   * {@code insufficient_user_authentication}: it cannot, and the listeners are told that the user
   * must step up.
   */
  private boolean challengeAllowsRefresh(Response response) {
    Challenges.Challenge stepUp = null;
    boolean hopeless = false;
    for (Challenges.Challenge challenge : Challenges.parse(response.headers("WWW-Authenticate"))) {
      if (!challenge.is("Bearer") && !challenge.is("DPoP")) continue;
      String error = challenge.param("error");
      if (error == null) continue;
      switch (error) {
        case "insufficient_user_authentication":
          stepUp = challenge;
          break;
        case "insufficient_claims":
          if (!answersClaims || !hasText(challenge.param("claims"))) hopeless = true;
          break;
        case "insufficient_scope":
          if (!answersScope(challenge.param("scope"))) hopeless = true;
          break;
        case "invalid_request":
        case "use_dpop_nonce":
        case "invalid_dpop_proof": // A new token cannot fix a proof (clock, redirect, algorithm).
          hopeless = true;
          break;
        default:
          break; // invalid_token, or a code this library does not know: refresh as for a 401.
      }
    }
    if (stepUp != null) {
      listeners.stepUpRequired(
          new StepUpChallenge(stepUp.param("acr_values"), maxAge(stepUp.param("max_age"))));
      return false;
    }
    return !hopeless;
  }

  private static long maxAge(@Nullable String value) {
    if (value == null) return -1L;
    try {
      long seconds = Long.parseLong(value.trim());
      return seconds >= 0 ? seconds : -1L;
    } catch (NumberFormatException e) {
      return -1L;
    }
  }
}
