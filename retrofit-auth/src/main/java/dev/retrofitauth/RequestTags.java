package dev.retrofitauth;

/**
 * The marks the edge puts on requests, as OkHttp request tags of private types, so that what one
 * part of the edge did can be read by another across OkHttp: the interceptor, the network
 * interceptor, the wrapped call and the 401 check. They hold no token.
 */
final class RequestTags {
  static final String AUTHORIZATION = "Authorization";
  static final String DPOP = "DPoP";

  private RequestTags() {}

  /** The application interceptor handled the request, and what it did with the token. */
  enum AuthMark {
    ATTACHED,
    WITHHELD
  }

  /** The app's {@link RefreshRule} says the response to this request means an expired token. */
  enum RuleMatch {
    TOKEN_EXPIRED
  }

  /** The network interceptor signed a DPoP proof for this hop. */
  enum DPoPSigned {
    SIGNED
  }

  /** The nonce that a {@code use_dpop_nonce} challenge asked for: the resend's proof uses it. */
  static final class DPoPNonce {
    final String value;

    DPoPNonce(String value) {
      this.value = value;
    }
  }
}
