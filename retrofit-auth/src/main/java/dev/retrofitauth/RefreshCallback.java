package dev.retrofitauth;

import java.io.IOException;

/**
 * Hears how a refresh that the app asked for with {@link
 * RefreshManager#refreshNow(RefreshCallback)} ended. It is called once, on the thread that ended
 * the refresh (usually the manager's refresh executor), never while the manager holds a lock.
 */
public interface RefreshCallback {
  /** The refresh succeeded; {@code tokens} are the manager's tokens now. */
  void onRefreshed(Tokens tokens);

  /**
   * The refresh failed: transiently, or it was rejected, or there was nothing to refresh with. The
   * message says which; it never names a token.
   */
  void onFailure(IOException e);
}
