package dev.retrofitauth;

import java.io.IOException;

/**
 * Acquires tokens that no one signs in for: machine tokens of a backend or a worker, such as OAuth
 * 2's {@code client_credentials} grant or a JWT bearer assertion. Use it instead of a {@link
 * RefreshApi} with {@link RefreshManager.Builder#tokenSource}; {@code dev.retrofitauth.oauth2} has
 * ready ones.
 *
 * <pre>{@code
 * RefreshManager auth = RefreshManager.builder()
 *     .tokenSource(() -> Tokens.of(fetchServiceToken(), null, expiresAt))
 *     .build(); // no signIn(): the first call acquires a token
 * }</pre>
 *
 * <p>The manager calls it on its own executor, never on an OkHttp dispatcher thread and never while
 * it holds a lock, through the same single flight as a refresh: the first calls share one
 * acquisition, and a 401 or an expiry within the leeway acquires again, once for all the calls that
 * wait.
 */
public interface TokenSource {
  /**
   * Returns new tokens. A refresh token in them is kept but not used: the next acquisition calls
   * this method again.
   *
   * @throws RefreshFailedException {@linkplain RefreshFailedException#permanent permanent} if the
   *     client is misconfigured (OAuth 2's {@code invalid_client}, {@code unauthorized_client},
   *     {@code invalid_scope}): calls then fail at once with it, without asking again, until {@link
   *     RefreshManager#signOut()} resets the manager.
   * @throws IOException for any failure that may go away; the next call after the backoff asks
   *     again.
   */
  Tokens fetch() throws IOException;
}
