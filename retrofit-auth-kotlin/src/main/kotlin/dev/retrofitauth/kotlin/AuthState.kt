package dev.retrofitauth.kotlin

import dev.retrofitauth.AuthListener
import dev.retrofitauth.RefreshManager
import java.io.IOException
import java.util.Collections
import java.util.WeakHashMap
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow

/**
 * Where a session stands, as [RefreshManager.authState] tells it: one value per change, never one
 * per call.
 */
public sealed class AuthState {
  /**
   * No tokens: never signed in, or signed out for [reason] (null before the first sign-in, or when
   * the manager was built with no tokens in its store).
   */
  public data class SignedOut(val reason: AuthListener.SignOutReason?) : AuthState()

  /** Signed in, with tokens that the last sign-in or refresh brought. */
  public object Valid : AuthState() {
    override fun toString(): String = "Valid"
  }

  /** A refresh runs; the calls that need it wait. */
  public object Refreshing : AuthState() {
    override fun toString(): String = "Refreshing"
  }

  /**
   * The last refresh failed for [cause], a reason that may go away (the network, a 5xx), or no
   * refresh was possible for a 401; the tokens were kept. The next refresh starts over.
   */
  public data class Failed(val cause: IOException) : AuthState()
}

/**
 * The auth state of a manager built with [refreshManager]: [AuthState.SignedOut] until a sign-in,
 * [AuthState.Refreshing] while a refresh runs, then [AuthState.Valid] or [AuthState.Failed], and
 * [AuthState.SignedOut] with its reason when the session ends. A `StateFlow`: collectors get the
 * latest value first, and equal values are not repeated.
 *
 * @throws IllegalStateException if the manager was not built with [refreshManager], which is what
 *   registers the listener behind the flow.
 */
public val RefreshManager.authState: StateFlow<AuthState>
  get() =
    STATES[this]
      ?: throw IllegalStateException(
        "authState needs a manager built with refreshManager { ... }, which listens for it; " +
          "this one was built with RefreshManager.builder()"
      )

// The flows of the managers that refreshManager built, which the managers keep alive: an entry
// goes when its manager does.
private val STATES: MutableMap<RefreshManager, StateFlow<AuthState>> =
  Collections.synchronizedMap(WeakHashMap())

/** The listener behind [authState]: each event sets the state, outside the manager's locks. */
internal class AuthStateListener : AuthListener() {
  private val state = MutableStateFlow<AuthState>(AuthState.SignedOut(null))

  /** Starts from what [manager] holds after it loaded its store, and publishes the flow. */
  fun attach(manager: RefreshManager) {
    if (manager.currentTokens() != null) {
      state.compareAndSet(AuthState.SignedOut(null), AuthState.Valid)
    }
    STATES[manager] = state.asStateFlow()
  }

  override fun onSignedIn() {
    state.value = AuthState.Valid
  }

  override fun onRefreshStarted() {
    state.value = AuthState.Refreshing
  }

  override fun onRefreshed() {
    state.value = AuthState.Valid
  }

  override fun onRefreshFailed(cause: IOException) {
    state.value = AuthState.Failed(cause)
  }

  override fun onSignedOut(reason: SignOutReason) {
    state.value = AuthState.SignedOut(reason)
  }

  override fun onNoRefreshPossible() {
    state.value =
      AuthState.Failed(IOException("the server answered 401, and no refresh was possible"))
  }
}
