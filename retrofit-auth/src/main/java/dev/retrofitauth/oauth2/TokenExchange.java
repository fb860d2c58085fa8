package dev.retrofitauth.oauth2;

import dev.retrofitauth.Clock;
import dev.retrofitauth.DPoP;
import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.oauth2.TokenRequests.Grant;
import java.io.IOException;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Sends one token request and turns the answer into {@link Tokens} or the exception that tells the
 * manager what to do next. With a DPoP key (RFC 9449) every request carries a new proof, every
 * response's {@code DPoP-Nonce} is kept, and a {@code use_dpop_nonce} error gets exactly one resend
 * with the new nonce (§8). Immutable and thread-safe; the nonces live in the {@link DPoP}.
 */
final class TokenExchange {
  /** Builds a token request anew, with new assertions, so a resend never replays a {@code jti}. */
  interface RequestFactory {
    Request create(HttpUrl tokenEndpoint) throws IOException;
  }

  private final TokenEndpointClient http;
  private final @Nullable DPoP dpop;
  private final Clock clock;
  private final TokenResponseReader responses;
  private final TokenErrorMapper errors;

  TokenExchange(TokenEndpointClient http, @Nullable DPoP dpop, Clock clock) {
    this.http = http;
    this.dpop = dpop;
    this.clock = clock;
    this.responses = new TokenResponseReader(clock);
    this.errors = new TokenErrorMapper(clock);
  }

  @Nullable DPoP dpop() {
    return dpop;
  }

  /**
   * Sends the request that {@code factory} builds for {@code tokenEndpoint}, a second time only if
   * the endpoint asks for a DPoP nonce.
   *
   * @param secrets what the request carries, for the message if the endpoint redirects.
   */
  Tokens exchange(HttpUrl tokenEndpoint, RequestFactory factory, Grant grant, String secrets)
      throws IOException {
    boolean resent = false;
    while (true) {
      Request request = withProof(factory.create(tokenEndpoint), tokenEndpoint);
      long sentAt = clock.currentTimeMillis();
      try (Response response = send(request, secrets)) {
        if (response.isSuccessful()) return checkType(responses.read(response, sentAt));
        String error = TokenErrorMapper.readErrorCode(response);
        if (!"use_dpop_nonce".equals(error)) throw errors.toException(response, grant, error);
        checkNonceResend(response, resent);
        resent = true;
      }
    }
  }

  private Request withProof(Request request, HttpUrl tokenEndpoint) throws IOException {
    if (dpop == null) return request;
    // No ath: the token request carries no access token. DPoP adds the endpoint's latest nonce.
    String proof = dpop.proofForTokenRequest("POST", tokenEndpoint);
    return request.newBuilder().header("DPoP", proof).build();
  }

  /** Sends {@code request}, keeps the response's nonce even from a redirect, refuses a redirect. */
  private Response send(Request request, String secrets) throws IOException {
    Response response = http.send(request, TokenEndpointClient.TOKEN_ENDPOINT);
    if (dpop != null) dpop.rememberNonce(response, true);
    return TokenEndpointClient.refuseRedirect(
        response, TokenEndpointClient.TOKEN_ENDPOINT, secrets);
  }

  /** Returns if a resend with the nonce of {@code response}, a {@code use_dpop_nonce}, may help. */
  private void checkNonceResend(Response response, boolean resent) throws IOException {
    String detail = " (HTTP " + response.code() + ", use_dpop_nonce)";
    if (dpop == null) {
      throw new IOException(
          "the token endpoint asked for a DPoP proof with a nonce"
              + detail
              + ": configure dpop(...) on this helper, with the key the manager uses");
    }
    if (resent) {
      throw new IOException(
          "the token endpoint asked for a new DPoP nonce again" + detail + ", after one resend");
    }
    String nonce = response.header("DPoP-Nonce");
    if (nonce == null || nonce.isEmpty()) {
      throw new IOException(
          "the token endpoint asked for a DPoP nonce" + detail + " without a DPoP-Nonce header");
    }
  }

  /** A DPoP token is bound to a key; without the key it could never be used. */
  private Tokens checkType(Tokens tokens) throws IOException {
    if (dpop == null && tokens.tokenType().equals(Tokens.DPOP)) {
      throw RefreshFailedException.permanent(
          "the token endpoint issued a DPoP token, which is unusable without its key: configure"
              + " dpop(...) on this helper, and the same key on the manager");
    }
    return tokens;
  }
}
