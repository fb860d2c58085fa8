package dev.retrofitauth;

import java.io.IOException;

/**
 * Exchanges a refresh token for new tokens. The application implements it, usually with a Retrofit
 * method annotated {@link NoAuth}.
 *
 * <pre>{@code
 * RefreshApi refreshApi = current -> {
 *   Response<TokenJson> response = authService.refresh(current.refreshToken()).execute();
 *   if (response.code() == 400 || response.code() == 401) {
 *     throw new RefreshRejectedException("refresh token revoked");
 *   }
 *   if (!response.isSuccessful()) throw new IOException("refresh failed: HTTP " + response.code());
 *   return Tokens.of(response.body().accessToken, response.body().refreshToken);
 * };
 * }</pre>
 *
 * <p>The manager calls it on its own executor, never on an OkHttp dispatcher thread and never while
 * it holds a lock. It never runs two refreshes of the same tokens at once; only after {@link
 * RefreshManager#signIn} may a refresh of the new tokens start while an abandoned one still runs.
 * Blocking calls such as {@code Call.execute()} are the right tool here. The method the
 * implementation calls must be annotated {@link NoAuth}: the refresh request must not carry the
 * expired access token, and its 401 must not wait for the refresh it is part of.
 */
public interface RefreshApi {
  /**
   * Returns new tokens for {@code current}, which always has a {@linkplain Tokens#refreshToken()
   * refresh token}. If the result has no refresh token, the manager keeps the current one.
   *
   * @throws RefreshRejectedException if the server refused the refresh token; the session ends.
   * @throws IOException for any failure that may go away, such as a network error or an HTTP 5xx.
   *     The tokens are kept.
   */
  Tokens refresh(Tokens current) throws IOException;
}
