package dev.retrofitauth.kotlin

import dev.retrofitauth.AuthListener.SignOutReason
import dev.retrofitauth.RefreshManager
import dev.retrofitauth.RefreshRejectedException
import dev.retrofitauth.TokenStore
import dev.retrofitauth.Tokens
import dev.retrofitauth.fleet.FleetServer
import java.io.IOException
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Test

/**
 * The auth state as a StateFlow, collected on an unconfined dispatcher, which runs the collector
 * in the thread that set the value, so that no value is skipped.
 */
class AuthStateTest {
  private val server = FleetServer("access-0", "refresh-0")
  private val app = RotatingApp(server)

  @AfterEach
  fun stop() {
    server.close()
  }

  @Test
  fun eachExpiryIsOneRefreshingThenValidHoweverManyCallsWait() = runBlocking {
    val auth = refreshManager {
      allowCleartext()
      refreshTokens { current -> app.refresh(current) }
    }
    val states = CopyOnWriteArrayList<AuthState>()
    val collector = launch(Dispatchers.Unconfined) { auth.authState.collect { states += it } }
    auth.signIn(Tokens.of("access-0", "refresh-0"))
    val api = app.api(auth)
    repeat(3) {
      server.expireAccessToken()
      val calls = (1..100).map { async(Dispatchers.Default) { api.data() } }
      withTimeout(30_000) { calls.awaitAll() }
    }
    auth.signOut()
    collector.cancelAndJoin()

    assertEquals(
      listOf(
        AuthState.SignedOut(null),
        AuthState.Valid,
        AuthState.Refreshing,
        AuthState.Valid,
        AuthState.Refreshing,
        AuthState.Valid,
        AuthState.Refreshing,
        AuthState.Valid,
        AuthState.SignedOut(SignOutReason.SIGN_OUT_CALLED),
      ),
      states,
    )
    assertEquals(3, server.refreshes())
  }

  @Test
  fun aFailedRefreshIsFailedWithItsCauseAndARejectedOneSignsOut() = runBlocking {
    val failure = IOException("the token endpoint is down")
    var answer: suspend () -> Tokens = { throw failure }
    val auth = refreshManager { refreshTokens { answer() } }
    auth.signIn(Tokens.of("access-0", "refresh-0"))
    val states = CopyOnWriteArrayList<AuthState>()
    val collector = launch(Dispatchers.Unconfined) { auth.authState.collect { states += it } }

    assertThrows(IOException::class.java) { auth.refreshNow() }
    answer = { throw RefreshRejectedException("invalid_grant") }
    assertThrows(IOException::class.java) { auth.refreshNow() }
    collector.cancelAndJoin()

    assertEquals(
      listOf(
        AuthState.Valid,
        AuthState.Refreshing,
        AuthState.Failed(failure),
        AuthState.Refreshing,
        AuthState.SignedOut(SignOutReason.REFRESH_REJECTED),
      ),
      states,
    )
    assertSame(failure, (states[2] as AuthState.Failed).cause)
  }

  @Test
  fun aManagerWhoseStoreHoldsTokensStartsValid() {
    val store = TokenStore.inMemory()
    store.save(Tokens.of("access-0", "refresh-0"))
    val auth = refreshManager {
      tokenStore(store)
      refreshTokens { it }
    }
    assertEquals(AuthState.Valid, auth.authState.value)
    assertEquals(AuthState.SignedOut(null), refreshManager { refreshTokens { it } }.authState.value)
  }

  @Test
  fun aManagerBuiltWithTheJavaBuilderHasNoStateAndSaysHowToGetOne() {
    val e =
      assertThrows(IllegalStateException::class.java) {
        RefreshManager.builder().build().authState
      }
    assertEquals(
      "authState needs a manager built with refreshManager { ... }, which listens for it; " +
        "this one was built with RefreshManager.builder()",
      e.message,
    )
  }
}
