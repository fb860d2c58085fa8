package dev.retrofitauth.oauth2;

import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.util.Objects;

/**
 * A security token that a token exchange (RFC 8693) sends: the subject token, the token of the
 * party the new token is for, such as the user whose request a server is handling, or the actor
 * token, of the party that acts for it ({@link OAuth2TokenSource.TokenExchangeBuilder#subjectToken}
 * and {@link OAuth2TokenSource.TokenExchangeBuilder#actorToken}).
 *
 * <p>It is asked once per token exchange, on the manager's refresh thread, so that the exchange
 * always sends the current token. An {@link IOException} fails that exchange before anything is
 * sent, as a transient failure: the manager tries again with its backoff.
 */
public interface SecurityTokenSource {
  /** Returns the token to send now. */
  String token() throws IOException;

  /**
   * The access token that {@code manager} holds when the exchange is sent, such as the user's token
   * from the session that called this server, or this service's own machine token. It is read as it
   * is, never refreshed here: a manager refreshes its token on its own calls. If {@code manager} is
   * signed out, or its token has expired, the exchange fails with an {@link IOException} and
   * nothing is sent.
   */
  static SecurityTokenSource of(RefreshManager manager) {
    Objects.requireNonNull(manager, "manager == null");
    return new SecurityTokenSource() {
      @Override
      public String token() throws IOException {
        Tokens tokens = manager.currentTokens();
        if (tokens == null) {
          throw new IOException(
              "the manager whose token is to be exchanged is signed out: sign it in first");
        }
        if (tokens.hasExpiry() && tokens.expiresAtMillis() <= System.currentTimeMillis()) {
          // Sent, it would get invalid_grant, which ends the exchanging session for good.
          throw new IOException(
              "the token to be exchanged has expired, and was not sent: its manager refreshes it"
                  + " on its next call");
        }
        return tokens.accessToken();
      }

      @Override
      public String toString() {
        return "SecurityTokenSource.of(" + manager + ")";
      }
    };
  }
}
