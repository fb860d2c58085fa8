package dev.retrofitauth.kotlin

import dev.retrofitauth.AuthCallAdapterFactory
import dev.retrofitauth.RefreshManager
import dev.retrofitauth.Tokens
import dev.retrofitauth.fleet.FleetServer
import java.util.concurrent.TimeUnit
import java.util.concurrent.locks.LockSupport
import okhttp3.Dispatcher
import okhttp3.OkHttpClient
import retrofit2.Retrofit
import retrofit2.converter.scalars.ScalarsConverterFactory
import retrofit2.http.Field
import retrofit2.http.FormUrlEncoded
import retrofit2.http.GET
import retrofit2.http.POST

/**
 * An app on a [FleetServer], the token server that rotates refresh tokens and ends the session when
 * one is presented twice, with an API that answers only the current access token: the suspend
 * Retrofit services an app has, and its token service's refresh as a suspend call.
 */
class RotatingApp(val server: FleetServer) {
  interface Api {
    @GET("api/data") suspend fun data(): String
  }

  interface TokenService {
    @FormUrlEncoded
    @POST("token")
    suspend fun refresh(
      @Field("refresh_token") refreshToken: String,
      @Field("grant_type") grantType: String = "refresh_token",
      @Field("client_id") clientId: String = "app",
    ): String

    @FormUrlEncoded
    @POST("token")
    suspend fun clientCredentials(
      @Field("grant_type") grantType: String = "client_credentials",
      @Field("client_id") clientId: String = "app",
    ): String
  }

  private val plain = OkHttpClient()

  /** The token service, on a client of its own: no auth interceptor on the token endpoint. */
  val tokenService: TokenService =
    Retrofit.Builder()
      .baseUrl(server.url("/"))
      .client(plain)
      .addConverterFactory(ScalarsConverterFactory.create())
      .build()
      .create(TokenService::class.java)

  /** Exchanges [current]'s refresh token at the server, as an app's suspend refresh does. */
  suspend fun refresh(current: Tokens): Tokens =
    parse(tokenService.refresh(current.refreshToken()!!))

  /** The API, through [auth], with room for [calls] calls in flight at once. */
  fun api(auth: RefreshManager, calls: Int = 64): Api {
    val dispatcher = Dispatcher().apply {
      maxRequests = calls
      maxRequestsPerHost = calls
    }
    val client =
      OkHttpClient.Builder()
        .dispatcher(dispatcher)
        .readTimeout(30, TimeUnit.SECONDS)
        .addInterceptor(auth.interceptor())
        .build()
    return Retrofit.Builder()
      .baseUrl(server.url("/"))
      .client(client)
      .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
      .addConverterFactory(ScalarsConverterFactory.create())
      .build()
      .create(Api::class.java)
  }

  companion object {
    private val ACCESS = Regex("\"access_token\":\"([^\"]+)\"")
    private val REFRESH = Regex("\"refresh_token\":\"([^\"]+)\"")

    /** The two tokens of a token response's JSON. */
    fun parse(json: String): Tokens =
      Tokens.of(
        ACCESS.find(json)?.groupValues?.get(1) ?: error("no access token in the response"),
        REFRESH.find(json)?.groupValues?.get(1),
      )
  }
}

/**
 * Waits until [condition] holds, or fails after 30 s with [what]: a condition with a deadline, as
 * the core's `Await.until`, never a pause for something to happen.
 */
fun awaitUntil(what: String, condition: () -> Boolean) {
  val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
  while (!condition()) {
    if (System.nanoTime() > deadline) throw AssertionError("timed out waiting: $what")
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1))
  }
}
