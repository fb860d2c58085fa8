package dev.retrofitauth.kotlin

import dev.retrofitauth.AuthCallAdapterFactory
import dev.retrofitauth.Credential
import dev.retrofitauth.Tokens
import java.util.concurrent.TimeUnit
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.runBlocking
import okhttp3.OkHttpClient
import okhttp3.mockwebserver.Dispatcher
import okhttp3.mockwebserver.MockResponse
import okhttp3.mockwebserver.MockWebServer
import okhttp3.mockwebserver.RecordedRequest
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Test
import retrofit2.Retrofit
import retrofit2.converter.scalars.ScalarsConverterFactory
import retrofit2.http.GET
import retrofit2.http.Tag

/** The builder DSLs: what they configure reaches the managers and the registry. */
class DslTest {
  interface Api {
    @Credential("user") @GET("me") suspend fun me(@Tag user: String): String

    @Credential("partner") @GET("partner") suspend fun partner(): String
  }

  /** Answers with the request's Authorization header, and 401 to a token ending in "-old". */
  private val server =
    MockWebServer().apply {
      dispatcher =
        object : Dispatcher() {
          override fun dispatch(request: RecordedRequest): MockResponse {
            val authorization = request.getHeader("Authorization").orEmpty()
            if (authorization.endsWith("-old")) return MockResponse().setResponseCode(401)
            return MockResponse().setBody(authorization)
          }
        }
      start()
    }

  @AfterEach
  fun stop() {
    server.shutdown()
  }

  @Test
  fun aRegistryOfKeyedAndNamedCredentialsRoutesEachCallToItsSession() = runBlocking {
    val sessions = sessionRegistry {
      keyed<String>("user") { userId ->
        allowCleartext()
        refreshTokens { Tokens.of("access-$userId-new", "refresh-$userId") }
      }
      credential("partner") {
        allowCleartext()
        fetchTokens { Tokens.of("machine") }
      }
      maxSessions(100)
      sessionIdleTimeout(10.seconds)
    }
    val users = sessions.keyed("user", String::class.java)
    users.signIn("ann", Tokens.of("access-ann-old", "refresh-ann"))
    users.signIn("bob", Tokens.of("access-bob", "refresh-bob"))
    val client = OkHttpClient.Builder().addInterceptor(sessions.interceptor()).build()
    val api =
      Retrofit.Builder()
        .baseUrl(server.url("/"))
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(sessions))
        .addConverterFactory(ScalarsConverterFactory.create())
        .build()
        .create(Api::class.java)

    assertEquals("Bearer access-ann-new", api.me("ann"), "ann's 401 refreshed ann's session")
    assertEquals("Bearer access-bob", api.me("bob"))
    assertEquals("Bearer machine", api.partner())
    assertEquals(
      AuthState.Valid,
      sessions.manager("partner").authState.value,
      "a credential from a refreshManager block has its state",
    )
  }

  @Test
  fun durationsReachTheJavaBuilderAndItsChecksStillApply() {
    val auth = refreshManager {
      refreshTimeout(1_500.milliseconds)
      refreshTokens { it }
      builder.expiryLeeway(3, TimeUnit.SECONDS) // Every Java option, through the builder.
    }
    assertEquals(AuthState.SignedOut(null), auth.authState.value)
    val negative =
      assertThrows(IllegalArgumentException::class.java) {
        refreshManager { refreshAhead((-1).seconds) }
      }
    assertEquals("refreshAhead is negative: -1s", negative.message)
    val infinite =
      assertThrows(IllegalArgumentException::class.java) {
        refreshManager { refreshTimeout(kotlin.time.Duration.INFINITE) }
      }
    assertEquals("refreshTimeout is infinite; give a finite duration", infinite.message)
  }
}
