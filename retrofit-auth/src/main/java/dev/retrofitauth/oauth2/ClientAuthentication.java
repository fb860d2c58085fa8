package dev.retrofitauth.oauth2;

/** How the client authenticates to the authorization server (RFC 6749 §2.3, RFC 7523 §2.2). */
public enum ClientAuthentication {
  /**
   * HTTP Basic with the client id and secret. The default when a secret is set, unless the server's
   * metadata lists only {@code client_secret_post}.
   */
  CLIENT_SECRET_BASIC,
  /** {@code client_id} and {@code client_secret} in the form body. */
  CLIENT_SECRET_POST,
  /**
   * A JWT signed with the client's private key ({@code private_key_jwt}): {@code iss} and {@code
   * sub} are the client id, {@code aud} is the endpoint the request goes to, it expires after 60
   * seconds and has a new random {@code jti}. The default when a private key is set.
   */
  PRIVATE_KEY_JWT,
  /** A public client: {@code client_id} in the form body, no secret. */
  NONE
}
