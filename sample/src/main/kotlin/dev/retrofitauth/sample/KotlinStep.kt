package dev.retrofitauth.sample

import dev.retrofitauth.AuthCallAdapterFactory
import dev.retrofitauth.NoAuth
import dev.retrofitauth.TokenStore
import dev.retrofitauth.kotlin.AuthState
import dev.retrofitauth.kotlin.authState
import dev.retrofitauth.kotlin.refreshManager
import java.io.PrintStream
import java.util.concurrent.CopyOnWriteArrayList
import java.util.function.BiConsumer
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import okhttp3.Dispatcher
import okhttp3.OkHttpClient
import retrofit2.Retrofit
import retrofit2.converter.moshi.MoshiConverterFactory
import retrofit2.http.Field
import retrofit2.http.FormUrlEncoded
import retrofit2.http.GET
import retrofit2.http.POST
import retrofit2.http.Path

/**
 * Step 8, in Kotlin with retrofit-auth-kotlin: a suspend refresh (a suspend Retrofit call, with no
 * runBlocking in the app), suspend API calls, and the auth state as a StateFlow. A caller
 * cancelled while the refresh runs does not cancel it.
 */
internal object KotlinStep {
  interface TokenService {
    @NoAuth
    @FormUrlEncoded
    @POST("login")
    suspend fun login(
      @Field("username") username: String,
      @Field("password") password: String,
    ): Sample.TokenJson

    @NoAuth
    @FormUrlEncoded
    @POST("oauth/token")
    suspend fun refresh(
      @Field("refresh_token") refreshToken: String,
      @Field("grant_type") grantType: String = "refresh_token",
    ): Sample.TokenJson
  }

  interface Api {
    @GET("api/news/{n}") suspend fun news(@Path("n") n: Int): Sample.Page
  }

  @JvmStatic
  fun run(out: PrintStream, server: DemoServer, check: BiConsumer<Boolean, String>) = runBlocking {
    val calls = 100
    out.println()
    out.println("8. Kotlin: a suspend refresh, suspend calls, and the auth state as a StateFlow")
    val retrofit =
      Retrofit.Builder().baseUrl(server.url()).addConverterFactory(MoshiConverterFactory.create())
    val tokenService = retrofit.client(OkHttpClient()).build().create(TokenService::class.java)

    val auth = refreshManager {
      tokenStore(TokenStore.inMemory())
      expiryLeeway(1.seconds) // Tokens live 5 s here.
      refreshTokens { current -> Sample.toTokens(tokenService.refresh(current.refreshToken()!!)) }
    }
    val states = CopyOnWriteArrayList<AuthState>()
    val watcher = launch(Dispatchers.Unconfined) { auth.authState.collect { states += it } }

    val client =
      OkHttpClient.Builder()
        .dispatcher(Dispatcher().apply { maxRequestsPerHost = 64 })
        .addInterceptor(auth.interceptor())
        .build()
    val api =
      retrofit.client(client).addCallAdapterFactory(AuthCallAdapterFactory.create(auth)).build()
        .create(Api::class.java)

    auth.signIn(Sample.toTokens(tokenService.login("ada", "secret")))
    server.resetCounters()
    server.expireAccessTokens()
    server.holdTokenEndpoint() // The refresh waits there until every call has its 401.
    val cancelled = launch(Dispatchers.Default) { api.news(0) }
    val results = (1..calls).map { n -> async(Dispatchers.Default) { runCatching { api.news(n) } } }
    withTimeout(30_000) { while (auth.stats().callsWaitingForRefresh() < calls + 1) delay(1) }
    cancelled.cancelAndJoin() // A screen closed: its call stops waiting, the refresh goes on.
    server.openTokenEndpoint()
    val succeeded = withTimeout(30_000) { results.awaitAll() }.count { it.isSuccess }
    watcher.cancelAndJoin()
    client.dispatcher.executorService.shutdown()

    out.println(
      "   $calls suspend calls and 1 cancelled: $succeeded succeeded; refreshes: " +
        "${server.refreshes.get()}; states: ${states.joinToString(" -> ")}"
    )
    check.accept(succeeded == calls, "every suspend call succeeded")
    check.accept(server.refreshes.get() == 1, "the calls shared one suspend refresh")
    check.accept(
      states ==
        listOf(AuthState.SignedOut(null), AuthState.Valid, AuthState.Refreshing, AuthState.Valid),
      "the StateFlow went signed out -> valid -> refreshing -> valid, once each",
    )
    check.accept(
      auth.authState.value == AuthState.Valid,
      "the cancelled caller did not cancel the refresh",
    )
  }
}
