package dev.retrofitauth;

import dev.retrofitauth.RequestTags.AuthMark;
import dev.retrofitauth.RequestTags.DPoPNonce;
import dev.retrofitauth.RequestTags.DPoPSigned;
import dev.retrofitauth.internal.Internal.AuthComponent;
import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Signs a fresh DPoP proof for each network hop that carries the token (RFC 9449 §4): the first
 * request, a redirect to the same origin, the authenticator's retry with a new token. Each proof
 * names its hop's method and URL, has a new {@code jti}, and the {@code ath} of the token that hop
 * carries. A hop without the token (OkHttp removed it on a redirect to another origin) gets no
 * proof, and only the origins that receive the token have their {@code DPoP-Nonce} kept. Without a
 * DPoP key it passes every request through.
 */
final class DPoPNetworkInterceptor implements Interceptor, AuthComponent {
  private final @Nullable DPoP dpop;
  private final Origins origins;

  DPoPNetworkInterceptor(@Nullable DPoP dpop, Origins origins) {
    this.dpop = dpop;
    this.origins = origins;
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    if (chain.connection() == null) {
      throw new IllegalStateException(
          "auth.networkInterceptor() was added as an application interceptor. Add it with "
              + "OkHttpClient.Builder.addNetworkInterceptor(auth.networkInterceptor()): it signs a"
              + " proof for each network hop, redirects and retries included.");
    }
    Request request = chain.request();
    DPoP dpop = this.dpop;
    String authorization = request.header(RequestTags.AUTHORIZATION);
    if (dpop == null
        || authorization == null
        || request.tag(AuthMark.class) != AuthMark.ATTACHED
        || !origins.mayReceiveToken(request.url())) {
      return chain.proceed(request); // Not a hop that carries our token.
    }
    String accessToken = authorization.substring(authorization.indexOf(' ') + 1);
    DPoPNonce asked = request.tag(DPoPNonce.class);
    String proof =
        asked != null
            ? dpop.proofForResource(request.method(), request.url(), accessToken, asked.value)
            : dpop.proofForResource(request.method(), request.url(), accessToken);
    Response response =
        chain.proceed(
            request
                .newBuilder()
                .header(RequestTags.DPOP, proof)
                .tag(DPoPSigned.class, DPoPSigned.SIGNED)
                .build());
    dpop.rememberNonce(response, false);
    return response;
  }

  @Override
  public String toString() {
    return "RefreshManager.networkInterceptor()";
  }
}
