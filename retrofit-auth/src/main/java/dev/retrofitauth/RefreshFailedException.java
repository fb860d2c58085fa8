package dev.retrofitauth;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Thrown by a {@link RefreshApi} to say more about a failed refresh than a plain {@link
 * IOException} can: that the server asked the client to wait before it tries again ({@code
 * Retry-After}), or that the failure is permanent because the client itself is misconfigured (OAuth
 * 2's {@code invalid_client}, {@code invalid_scope}, ...).
 *
 * <p>Either way the tokens are kept and the waiting calls fail with an {@link IOException} whose
 * cause is this exception. After a {@linkplain #retryAfter retry-after} failure no refresh starts
 * before the server's delay has passed. After a {@linkplain #permanent permanent} failure no
 * refresh starts again until {@link RefreshManager#signIn} or {@link RefreshManager#signOut}, so a
 * misconfigured client never loops against the token endpoint.
 *
 * <p>The message must never contain a token.
 */
public final class RefreshFailedException extends IOException {
  private static final long serialVersionUID = 1L;

  private final boolean permanent;
  private final long retryAfterMillis;

  private RefreshFailedException(String message, boolean permanent, long retryAfterMillis) {
    super(message);
    this.permanent = permanent;
    this.retryAfterMillis = retryAfterMillis;
  }

  /** A failure that will not go away until the application's configuration changes. */
  public static RefreshFailedException permanent(String message) {
    Objects.requireNonNull(message, "message == null");
    return new RefreshFailedException(message, true, 0L);
  }

  /** A transient failure; the server asked not to be asked again for {@code delay}. */
  public static RefreshFailedException retryAfter(String message, long delay, TimeUnit unit) {
    Objects.requireNonNull(message, "message == null");
    Objects.requireNonNull(unit, "unit == null");
    if (delay < 0) throw new IllegalArgumentException("delay < 0: " + delay);
    return new RefreshFailedException(message, false, unit.toMillis(delay));
  }

  /** True if no refresh should be tried again until the user signs in again. */
  public boolean isPermanent() {
    return permanent;
  }

  /** How long the server asked the client to wait, in milliseconds; 0 if it did not say. */
  public long retryAfterMillis() {
    return retryAfterMillis;
  }
}
