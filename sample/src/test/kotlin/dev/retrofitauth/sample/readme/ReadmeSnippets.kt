package dev.retrofitauth.sample.readme

import dev.retrofitauth.RefreshApi
import dev.retrofitauth.RefreshManager
import dev.retrofitauth.SessionRegistry
import dev.retrofitauth.TokenStore
import dev.retrofitauth.Tokens
import dev.retrofitauth.kotlin.AuthState
import dev.retrofitauth.kotlin.authState
import dev.retrofitauth.kotlin.awaitRefreshNow
import dev.retrofitauth.kotlin.refreshManager
import dev.retrofitauth.kotlin.sessionRegistry
import java.io.File
import java.io.IOException
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import retrofit2.Response
import retrofit2.http.Field
import retrofit2.http.FormUrlEncoded
import retrofit2.http.GET
import retrofit2.http.POST

// Every `kotlin` block of README.md, compiled: the text between `readme:begin NAME` and
// `readme:end`, which ReadmeTest compares with the README. What the blocks take as given is
// declared around them.

class TokenResponse(val accessToken: String, val refreshToken: String?)

fun TokenResponse.toTokens(): Tokens = Tokens.of(accessToken, refreshToken)

interface TokenService {
  @FormUrlEncoded
  @POST("oauth/token")
  suspend fun refresh(@Field("refresh_token") refreshToken: String): TokenResponse
}

class User

fun suspendRefreshApi(tokenService: TokenService): RefreshApi {
  // readme:begin kotlin-refresh-api
  val refreshApi = RefreshApi { current ->
    runBlocking { tokenService.refresh(current.refreshToken()!!).toTokens() } // a suspend Retrofit call
  }
  // readme:end
  return refreshApi
}

fun showSignIn() {}

fun showProgress() {}

fun showContent() {}

fun showOffline(@Suppress("UNUSED_PARAMETER") cause: IOException) {}

fun kotlinFirst(
  tokenService: TokenService,
  filesDir: File,
  scope: CoroutineScope,
): RefreshManager {
  // readme:begin kotlin-dsl
  val auth = refreshManager {
    tokenStore(TokenStore.file(File(filesDir, "tokens.json")))
    refreshTokens { current -> tokenService.refresh(current.refreshToken()!!).toTokens() } // suspend
    refreshTimeout(30.seconds)
  }

  scope.launch { // lifecycleScope, viewModelScope
    auth.authState.collect { state ->
      when (state) {
        is AuthState.SignedOut -> showSignIn()
        AuthState.Refreshing -> showProgress()
        AuthState.Valid -> showContent()
        is AuthState.Failed -> showOffline(state.cause)
      }
    }
  }
  // readme:end
  return auth
}

class UserId(val value: String)

fun kotlinRegistry(tokenService: TokenService, userStores: (String) -> TokenStore): SessionRegistry {
  // readme:begin kotlin-registry
  val sessions = sessionRegistry {
    keyed<UserId>("user") { userId ->
      tokenStore(userStores(userId.value))
      refreshTokens { current -> tokenService.refresh(current.refreshToken()!!).toTokens() }
    }
    credential("partner") { fetchTokens { partnerTokens() } }
  }
  // readme:end
  return sessions
}

suspend fun partnerTokens(): Tokens = Tokens.of("partner")

suspend fun refreshOnDemand(auth: RefreshManager): Tokens {
  // readme:begin kotlin-await-refresh
  val tokens = auth.awaitRefreshNow() // suspends; cancelling the caller does not cancel the refresh
  // readme:end
  return tokens
}

object SuspendApi {
  // readme:begin kotlin-suspend-api
  interface Api {
    @GET("me") suspend fun me(): User                 // a final 401 throws HttpException
    @GET("me") suspend fun meResponse(): Response<User>
  }
  // readme:end
}

/**
 * Just enough of Gradle's Kotlin DSL for the README's build script to compile: this checks its
 * syntax and the shape of its calls, not that Gradle resolves it.
 */
class GradleBuildScript {
  class Repositories {
    fun mavenLocal() {}

    fun mavenCentral() {}
  }

  class Dependencies {
    fun implementation(@Suppress("UNUSED_PARAMETER") notation: String) {}
  }

  fun repositories(block: Repositories.() -> Unit) = Repositories().block()

  fun dependencies(block: Dependencies.() -> Unit) = Dependencies().block()
}

fun GradleBuildScript.download() {
  // readme:begin gradle-download
  repositories {
    mavenLocal()      // retrofit-auth, installed as above
    mavenCentral()
  }

  dependencies {
    implementation("dev.retrofitauth:retrofit-auth:0.2.0")
    implementation("com.squareup.retrofit2:retrofit:3.0.0")
    implementation("com.squareup.retrofit2:converter-moshi:3.0.0")   // or another converter
    // OkHttp 5 instead of the 4.12 that Retrofit brings (Gradle picks okhttp-jvm by itself):
    // implementation("com.squareup.okhttp3:okhttp:5.3.2")
  }
  // readme:end
}
