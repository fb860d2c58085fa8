package dev.retrofitauth.kotlin

import dev.retrofitauth.AuthListener
import dev.retrofitauth.Clock
import dev.retrofitauth.DPoP
import dev.retrofitauth.RefreshApi
import dev.retrofitauth.RefreshManager
import dev.retrofitauth.RefreshRule
import dev.retrofitauth.TokenRevoker
import dev.retrofitauth.TokenSource
import dev.retrofitauth.TokenStore
import dev.retrofitauth.Tokens
import java.util.concurrent.Executor
import java.util.concurrent.TimeUnit
import kotlin.time.Duration
import kotlinx.coroutines.CoroutineDispatcher

/** Keeps the DSL's scopes apart: a nested block sees only its own functions. */
@DslMarker public annotation class RetrofitAuthDsl

/**
 * Builds a [RefreshManager] from a Kotlin block, as `RefreshManager.builder()` does from Java:
 * ```
 * val auth = refreshManager {
 *   tokenStore(TokenStore.file(File(context.filesDir, "tokens.json")))
 *   refreshTokens { current -> tokenService.refresh(current.refreshToken()!!).toTokens() }
 *   refreshTimeout(30.seconds)
 * }
 * auth.authState.collect { state -> ... }
 * ```
 * A manager built here also has an [authState] flow.
 */
public fun refreshManager(configure: RefreshManagerScope.() -> Unit): RefreshManager {
  val scope = RefreshManagerScope(RefreshManager.builder())
  scope.configure()
  return scope.build()
}

/**
 * The options of a [refreshManager] block. Each function is the `RefreshManager.Builder` method of
 * the same name, with Kotlin's [Duration] and suspend functions; [builder] reaches the rest.
 */
@RetrofitAuthDsl
public class RefreshManagerScope internal constructor(
  /** The Java builder under this block, for an option that has no function here. */
  public val builder: RefreshManager.Builder
) {
  private val states = AuthStateListener()

  init {
    builder.addListener(states)
  }

  /** Where the tokens are kept; in memory by default. */
  public fun tokenStore(store: TokenStore) {
    builder.tokenStore(store)
  }

  /**
   * How a refresh token becomes new tokens: a suspend function, run as [asRefreshApi] runs it, on
   * the manager's refresh thread or on [dispatcher], never in a caller's coroutine.
   */
  public fun refreshTokens(
    dispatcher: CoroutineDispatcher? = null,
    refresh: suspend (current: Tokens) -> Tokens,
  ) {
    builder.refreshApi(SuspendRefreshApi { current -> refresh(current) }.asRefreshApi(dispatcher))
  }

  /** How tokens are fetched without any (a token source): a suspend function, run as above. */
  public fun fetchTokens(dispatcher: CoroutineDispatcher? = null, fetch: suspend () -> Tokens) {
    builder.tokenSource(SuspendTokenSource { fetch() }.asTokenSource(dispatcher))
  }

  /** A blocking [RefreshApi], such as `OAuth2RefreshApi`. */
  public fun refreshApi(refreshApi: RefreshApi) {
    builder.refreshApi(refreshApi)
  }

  /** A blocking [TokenSource], such as `OAuth2TokenSource`. */
  public fun tokenSource(tokenSource: TokenSource) {
    builder.tokenSource(tokenSource)
  }

  public fun refreshTimeout(timeout: Duration) {
    builder.refreshTimeout(timeout.millis("refreshTimeout"), TimeUnit.MILLISECONDS)
  }

  public fun expiryLeeway(leeway: Duration) {
    builder.expiryLeeway(leeway.millis("expiryLeeway"), TimeUnit.MILLISECONDS)
  }

  public fun refreshAhead(ahead: Duration) {
    builder.refreshAhead(ahead.millis("refreshAhead"), TimeUnit.MILLISECONDS)
  }

  public fun refreshBackoff(initial: Duration, max: Duration) {
    builder.refreshBackoff(
      initial.millis("refreshBackoff initial"),
      max.millis("refreshBackoff max"),
      TimeUnit.MILLISECONDS,
    )
  }

  public fun maxRetryAfter(maxRetryAfter: Duration) {
    builder.maxRetryAfter(maxRetryAfter.millis("maxRetryAfter"), TimeUnit.MILLISECONDS)
  }

  public fun allowedOrigin(url: String) {
    builder.addAllowedOrigin(url)
  }

  public fun allowCleartext(allow: Boolean = true) {
    builder.allowCleartext(allow)
  }

  public fun queueMode(enabled: Boolean = true) {
    builder.queueMode(enabled)
  }

  public fun maxConcurrentRetries(max: Int) {
    builder.maxConcurrentRetries(max)
  }

  public fun maxQueuedCalls(max: Int) {
    builder.maxQueuedCalls(max)
  }

  public fun clearTokensWhenUnrefreshable(clear: Boolean = true) {
    builder.clearTokensWhenUnrefreshable(clear)
  }

  public fun revokeOnSignOut(revoker: TokenRevoker) {
    builder.revokeOnSignOut(revoker)
  }

  public fun dpop(dpop: DPoP) {
    builder.dpop(dpop)
  }

  public fun refreshWhen(rule: RefreshRule) {
    builder.refreshWhen(rule)
  }

  public fun refreshExecutor(executor: Executor) {
    builder.refreshExecutor(executor)
  }

  public fun clock(clock: Clock) {
    builder.clock(clock)
  }

  public fun listener(listener: AuthListener) {
    builder.addListener(listener)
  }

  internal fun build(): RefreshManager {
    val manager = builder.build()
    states.attach(manager)
    return manager
  }
}

/** Whole milliseconds, refusing what the Java builder would take for something else. */
private fun Duration.millis(name: String): Long {
  require(!isNegative()) { "$name is negative: $this" }
  require(isFinite()) { "$name is infinite; give a finite duration" }
  return inWholeMilliseconds
}
