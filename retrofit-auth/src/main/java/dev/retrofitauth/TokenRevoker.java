package dev.retrofitauth;

import java.io.IOException;

/**
 * Revokes tokens at the server when the app signs out, such as OAuth 2's revocation endpoint (RFC
 * 7009). Opt in with {@link RefreshManager.Builder#revokeOnSignOut}; {@code
 * dev.retrofitauth.oauth2.OAuth2Revoker} is a ready one.
 *
 * <p>{@link RefreshManager#signOut()} never waits for it: it runs afterwards on the manager's
 * executor, best effort, and a failure is told to {@link AuthListener#onRevokeFailed}.
 */
public interface TokenRevoker {
  /**
   * Revokes {@code tokens}, the ones that were signed out: the refresh token if there is one (which
   * usually revokes its access tokens too), else the access token.
   */
  void revoke(Tokens tokens) throws IOException;
}
