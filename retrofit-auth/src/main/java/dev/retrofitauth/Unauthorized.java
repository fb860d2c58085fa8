package dev.retrofitauth;

import dev.retrofitauth.AuthInterceptor.AuthMark;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * The one answer to "is this response ours to fix?", for {@link AuthCall} and {@link
 * AuthAuthenticator} alike.
 */
final class Unauthorized {
  private Unauthorized() {}

  /**
   * Returns the {@code Authorization} header that {@code response}'s request carried if the
   * response is a 401 that a refresh may fix, or null to hand the response over as it is.
   */
  static @Nullable String sentHeader(Response response, MethodPolicy policy, RefreshManager auth) {
    if (response.code() != 401 || policy.noAuth || policy.noRetry) return null;
    for (Response prior = response.priorResponse(); prior != null; prior = prior.priorResponse()) {
      if (prior.code() == 401) return null; // Retried once already (by auth.authenticator()).
    }
    Response network = response.networkResponse();
    if (network == null) return null; // From the cache.
    Request sent = network.request();
    // Withheld on purpose (another origin, cleartext, the caller's own header): not ours to fix.
    if (sent.tag(AuthMark.class) != AuthMark.ATTACHED) return null;
    String header = sent.header(AuthInterceptor.AUTHORIZATION);
    if (header == null) return null; // OkHttp removed it on a redirect to another origin.
    if (!auth.origins.mayReceiveToken(sent.url())) return null;
    RequestBody body = sent.body();
    if (body != null && body.isOneShot()) return null; // It cannot be sent again.
    return header;
  }
}
