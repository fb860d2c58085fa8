package dev.retrofitauth

import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import okhttp3.Dispatcher
import okhttp3.OkHttpClient
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import retrofit2.HttpException
import retrofit2.Response
import retrofit2.http.GET

/** Kotlin suspend functions get a wrapped Call back and behave as in plain Retrofit. */
class SuspendTest {
  interface Api {
    @GET("api/me") suspend fun me(): String

    @GET("api/me") suspend fun meResponse(): Response<String>

    @NoAuth @GET("api/public") suspend fun open(): Response<String>

    @NoRetry @GET("api/poll") suspend fun poll(): Response<String>
  }

  private lateinit var refreshApi: GatedRefreshApi
  private lateinit var store: RecordingStore
  private lateinit var fixture: Fixture
  private lateinit var api: Api

  @BeforeEach
  fun setUp() {
    refreshApi =
      GatedRefreshApi { _ ->
        fixture.server.acceptOnly("new")
        Tokens.of("new", "r2")
      }
    store = RecordingStore()
    val dispatcher = Dispatcher().apply {
      maxRequests = 200
      maxRequestsPerHost = 200
    }
    fixture =
      Fixture.create(
        RefreshManager.builder().refreshApi(refreshApi).tokenStore(store),
        OkHttpClient.Builder().dispatcher(dispatcher),
      )
    api = fixture.create(Api::class.java)
    fixture.server.acceptOnly("other")
  }

  @AfterEach
  fun tearDown() {
    fixture.close()
  }

  @Test
  fun concurrentSuspendCallsShareOneRefresh() = runBlocking {
    refreshApi.hold()
    val arrived = fixture.server.closeGate(100)
    val calls = (1..100).map { async(Dispatchers.IO) { api.me() } }
    assertTrue(arrived.await(30, TimeUnit.SECONDS))
    fixture.server.openGate()
    Await.until("all wait") { Await.waiting(fixture.auth) == 100 }

    refreshApi.release()

    val bodies = withTimeout(30_000) { calls.awaitAll() }
    assertEquals(List(100) { "ok /api/me" }, bodies)
    assertEquals(1, refreshApi.calls.get())
    assertEquals(100, fixture.server.count("Bearer new"))
  }

  @Test
  fun cancelledCoroutineCancelsOnlyItsCallAndTokensAreStillRotatedAndSaved() = runBlocking {
    refreshApi.hold()
    val cancelled = async(Dispatchers.IO) { api.me() }
    val other = async(Dispatchers.IO) { api.me() }
    Await.until("both wait") { Await.waiting(fixture.auth) == 2 }

    cancelled.cancel()
    Await.until("waiter removed") { Await.waiting(fixture.auth) == 1 }
    refreshApi.release()

    assertEquals("ok /api/me", withTimeout(30_000) { other.await() })
    assertTrue(cancelled.isCancelled)
    assertEquals(Tokens.of("new", "r2"), fixture.auth.currentTokens())
    assertEquals(Tokens.of("new", "r2"), store.load())
    assertEquals(1, fixture.server.count("Bearer new"))
  }

  @Test
  fun finalUnauthorizedIsResponseOrHttpException() = runBlocking {
    refreshApi.answer { throw RefreshRejectedException("revoked") }

    assertEquals(401, api.meResponse().code())
    fixture.auth.signIn(Tokens.of("old", "r1"))
    val e = assertThrows(HttpException::class.java) { runBlocking { api.me() } }
    assertEquals(401, e.code())
  }

  @Test
  fun noAuthAndNoRetryWorkOnSuspendMethods() = runBlocking {
    assertEquals(401, api.open().code())
    assertNull(fixture.server.requests[0].getHeader("Authorization"))
    assertEquals(401, api.poll().code())
    assertEquals("Bearer old", fixture.server.requests[1].getHeader("Authorization"))
    assertEquals(0, refreshApi.calls.get())
  }
}
