package dev.retrofitauth.kotlin

import dev.retrofitauth.Tokens
import dev.retrofitauth.fleet.FleetServer
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Suspend refreshes, run by the library, against a server that rotates refresh tokens. */
class SuspendRefreshTest {
  private val server = FleetServer("access-0", "refresh-0")
  private val app = RotatingApp(server)

  @AfterEach
  fun stop() {
    server.close()
  }

  @Test
  fun thousandSuspendCallersShareOneRefreshAndHoldNoThreadWhileTheyWait() = runBlocking {
    val gate = CompletableDeferred<Unit>()
    val auth = refreshManager {
      allowCleartext()
      refreshTokens { current ->
        gate.await() // Suspends: the refresh thread's own coroutine waits here.
        app.refresh(current)
      }
    }
    auth.signIn(Tokens.of("access-0", "refresh-0"))
    val api = app.api(auth)
    server.expireAccessToken()
    val threadsBefore = Thread.activeCount()

    val calls = (1..1_000).map { async(Dispatchers.Default) { api.data() } }
    awaitUntil("1,000 calls wait for the refresh") {
      auth.stats().callsWaitingForRefresh() == 1_000
    }
    val threadsWhileWaiting = Thread.activeCount()
    gate.complete(Unit)
    val bodies = withTimeout(60_000) { calls.awaitAll() }

    assertEquals(List(1_000) { "ok" }, bodies)
    assertEquals(1, server.refreshes())
    assertEquals(0, server.reusedRefreshTokens())
    // Waiting calls hold no thread: OkHttp's 64 and the server's connections, not 1,000.
    assertTrue(
      threadsWhileWaiting - threadsBefore < 200,
      "threads: $threadsBefore before, $threadsWhileWaiting while 1,000 calls waited",
    )
  }

  /**
   * The caller is cancelled after the server rotated the refresh token, while its answer is on the
   * way: a refresh run in the caller's coroutine would be cancelled there and lose the new tokens,
   * and the next refresh would present the old refresh token, which ends the session.
   */
  @Test
  fun cancellingTheCallerDuringItsRefreshKeepsTheRotatedTokens() = runBlocking {
    val rotated = CompletableDeferred<Unit>()
    val gate = CompletableDeferred<Unit>()
    val auth = refreshManager {
      allowCleartext()
      refreshTokens { current ->
        val tokens = app.refresh(current)
        rotated.complete(Unit)
        gate.await()
        tokens
      }
    }
    auth.signIn(Tokens.of("access-0", "refresh-0"))
    val api = app.api(auth)
    server.expireAccessToken()

    val caller = launch(Dispatchers.Default) { api.data() }
    withTimeout(30_000) { rotated.await() }
    caller.cancelAndJoin()
    gate.complete(Unit)

    awaitUntil("the refresh saves the rotated tokens") {
      auth.currentTokens()?.accessToken() == "access-1"
    }
    assertEquals("refresh-1", auth.currentTokens()!!.refreshToken())
    assertEquals("ok", withTimeout(30_000) { api.data() })
    server.expireAccessToken()
    assertEquals("ok", withTimeout(30_000) { api.data() }, "the next refresh works too")
    assertEquals(2, server.refreshes())
    assertEquals(0, server.reusedRefreshTokens())
  }

  @Test
  fun awaitRefreshNowSuspendsForTheRefreshAndACancelledWaiterDoesNotCancelIt() = runBlocking {
    val gate = CompletableDeferred<Unit>()
    val auth = refreshManager {
      allowCleartext()
      refreshTokens { current ->
        gate.await()
        app.refresh(current)
      }
    }
    auth.signIn(Tokens.of("access-0", "refresh-0"))
    val cancelled = launch(Dispatchers.Default) { auth.awaitRefreshNow() }
    awaitUntil("the refresh started") { auth.authState.value == AuthState.Refreshing }
    cancelled.cancelAndJoin()
    val waiting = async(Dispatchers.Default) { auth.awaitRefreshNow() }
    gate.complete(Unit)
    assertEquals("access-1", withTimeout(30_000) { waiting.await() }.accessToken())
    assertEquals(1, server.refreshes(), "one refresh for both waiters")
  }

  @Test
  fun aSuspendTokenSourceFetchesOneMachineTokenForConcurrentCallers() = runBlocking {
    val auth = refreshManager {
      allowCleartext()
      fetchTokens(Dispatchers.IO) { RotatingApp.parse(app.tokenService.clientCredentials()) }
    }
    val api = app.api(auth)
    val calls = (1..200).map { async(Dispatchers.Default) { api.data() } }
    assertEquals(List(200) { "ok" }, withTimeout(60_000) { calls.awaitAll() })
    assertEquals(1, server.clientCredentialsGrants())
  }
}
