package dev.retrofitauth;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * Thrown by a {@link RefreshApi} when the server refused the refresh token, for example with OAuth
 * 2's {@code invalid_grant}. The session is over: the manager clears the stored tokens, tells its
 * listeners that the user was signed out, and hands every waiting call its original 401.
 *
 * <p>Any other {@link IOException} from a {@link RefreshApi} is treated as transient: the tokens
 * are kept and the next 401 may try again.
 *
 * <p>The message must never contain a token.
 */
public final class RefreshRejectedException extends IOException {
  private static final long serialVersionUID = 1L;

  public RefreshRejectedException(String message) {
    super(message);
  }

  public RefreshRejectedException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
