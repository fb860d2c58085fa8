package dev.retrofitauth;

import java.io.IOException;

/**
 * Hears how the session changes. Register one with {@link RefreshManager.Builder#addListener}.
 *
 * <pre>{@code
 * RefreshManager auth = RefreshManager.builder()
 *     .refreshApi(refreshApi)
 *     .addListener(new AuthListener() {
 *       @Override public void onSignedOut(SignOutReason reason) {
 *         mainThread.execute(() -> showLoginScreen()); // listeners run on the manager's threads
 *       }
 *
 *       @Override public void onStoreFailed(Exception cause) {
 *         log.warn("tokens not saved", cause); // names the store, never a token
 *       }
 *     })
 *     .build();
 * }</pre>
 *
 * <p>Each event is delivered once, on the thread that caused it (often the manager's refresh
 * executor, never the main thread by itself: post UI work there yourself), when the manager holds
 * no lock and is in a state in which a listener may call any of its methods. Keep the methods
 * short: a slow listener delays the calls that wait for a refresh. No event carries a token. An
 * exception thrown by a listener cannot break the calls it reports on: the other listeners still
 * hear the event, then the exception goes to the thread's uncaught-exception handler.
 *
 * <p>All methods do nothing by default; override the ones you need.
 */
public abstract class AuthListener {
  /** Why the session ended. */
  public enum SignOutReason {
    /** The {@link RefreshApi} threw {@link RefreshRejectedException}. The tokens were cleared. */
    REFRESH_REJECTED,
    /** The application called {@link RefreshManager#signOut()}. The tokens were cleared. */
    SIGN_OUT_CALLED,
    /**
     * The server answered 401 and no refresh was possible (there is no {@link RefreshApi} or no
     * refresh token), and the manager was built with {@link
     * RefreshManager.Builder#clearTokensWhenUnrefreshable(boolean)}, so the tokens were cleared.
     * Without that option the tokens are kept and {@link #onNoRefreshPossible()} is told instead.
     */
    NO_REFRESH_POSSIBLE,
    /**
     * Another process that shares the {@link SharedTokenStore} signed out: when this process came
     * to refresh, the store held no tokens. The tokens were cleared here too, rather than refreshed
     * and saved again, which would sign the other process back in.
     */
    SIGNED_OUT_ELSEWHERE
  }

  /** {@link RefreshManager#signIn(Tokens)} stored new tokens. */
  public void onSignedIn() {}

  /**
   * A refresh started: one per refresh, however many calls wait for it, before the event that tells
   * how it ended ({@link #onRefreshed()}, {@link #onRefreshFailed}, {@link #onSignedOut}); a
   * refresh that ran out of time is told failed first, and may still end later. For a progress
   * indicator, or a state such as "refreshing".
   */
  public void onRefreshStarted() {}

  /** A refresh succeeded and its tokens were saved. */
  public void onRefreshed() {}

  /**
   * A refresh failed for a reason that may go away. The tokens were kept. {@code cause} is what the
   * {@link RefreshApi} threw, or the failure the manager saw.
   */
  public void onRefreshFailed(IOException cause) {}

  /** The session ended for {@code reason}: the tokens were cleared. */
  public void onSignedOut(SignOutReason reason) {}

  /**
   * The server answered 401 and no refresh was possible: there is no {@link RefreshApi} or no
   * refresh token. The tokens were kept, and the 401 went to the caller. Told once per access
   * token. (With {@link RefreshManager.Builder#clearTokensWhenUnrefreshable(boolean)} the tokens
   * are cleared and {@link #onSignedOut} is told instead.)
   */
  public void onNoRefreshPossible() {}

  /**
   * A resource server answered 401 with {@code error="insufficient_user_authentication"} (RFC
   * 9470): the user must authenticate again, more strongly, as {@code challenge} says. No refresh
   * was tried, and the 401 went to the caller.
   */
  public void onStepUpRequired(StepUpChallenge challenge) {}

  /**
   * The {@link TokenRevoker} of {@link RefreshManager.Builder#revokeOnSignOut} failed to revoke the
   * tokens that were signed out. They were cleared from the app all the same.
   */
  public void onRevokeFailed(IOException cause) {}

  /**
   * The {@link TokenStore} failed to load or write, or found data it could not read. The manager
   * keeps working with the tokens it holds in memory.
   */
  public void onStoreFailed(Exception cause) {}
}
