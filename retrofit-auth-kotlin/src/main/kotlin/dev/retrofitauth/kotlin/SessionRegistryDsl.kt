package dev.retrofitauth.kotlin

import dev.retrofitauth.KeyedSessions
import dev.retrofitauth.RefreshManager
import dev.retrofitauth.SessionRegistry
import java.util.concurrent.Executor
import java.util.concurrent.TimeUnit
import kotlin.time.Duration

/**
 * Builds a [SessionRegistry] from a Kotlin block:
 * ```
 * val sessions = sessionRegistry {
 *   credential(userAuth)                         // the default credential
 *   credential("partner") { fetchTokens { partnerTokens() } }
 *   keyed<UserId>("user") { userId ->
 *     tokenStore(userStores.buildFor(userId.value))
 *     refreshTokens { current -> tokenService.refresh(current.refreshToken()!!).toTokens() }
 *   }
 * }
 * ```
 */
public fun sessionRegistry(configure: SessionRegistryScope.() -> Unit): SessionRegistry {
  val scope = SessionRegistryScope(SessionRegistry.builder())
  scope.configure()
  return scope.builder.build()
}

/**
 * The options of a [sessionRegistry] block: the `SessionRegistry.Builder` methods, with the
 * sessions described by [refreshManager] blocks; [builder] reaches the rest.
 */
@RetrofitAuthDsl
public class SessionRegistryScope internal constructor(
  /** The Java builder under this block. */
  public val builder: SessionRegistry.Builder
) {
  /** The default credential: the methods and interfaces without `@Credential` use it. */
  public fun credential(manager: RefreshManager) {
    builder.add(manager)
  }

  /** A named credential, for `@Credential(name)`. */
  public fun credential(name: String, manager: RefreshManager) {
    builder.add(name, manager)
  }

  /** A named credential built from a [refreshManager] block, so it has an [authState]. */
  public fun credential(name: String, configure: RefreshManagerScope.() -> Unit) {
    builder.add(name, refreshManager(configure))
  }

  /**
   * A session per key of type [K], from the call's `@Tag K` parameter; [configure] describes the
   * session of one key. The registry builds these sessions and evicts idle ones, so they have no
   * [authState]: watch them with a `listener`.
   */
  public inline fun <reified K : Any> keyed(
    name: String,
    noinline configure: RefreshManagerScope.(key: K) -> Unit,
  ) {
    keyed(name, K::class.java, configure)
  }

  /** Like the reified [keyed], for a key type known at run time. */
  public fun <K : Any> keyed(
    name: String,
    keyType: Class<K>,
    configure: RefreshManagerScope.(key: K) -> Unit,
  ) {
    builder.addKeyed(name, keyType, scoped(configure))
  }

  /**
   * A session per set of scopes of `@Credential(value = name, scope = ...)`; [configure] gets the
   * scopes as written there, separated by spaces.
   */
  public fun perScope(name: String, configure: RefreshManagerScope.(scope: String) -> Unit) {
    builder.addPerScope(name, scoped(configure))
  }

  public fun maxSessions(max: Int) {
    builder.maxSessions(max)
  }

  public fun sessionIdleTimeout(timeout: Duration) {
    require(timeout.isPositive() && timeout.isFinite()) {
      "sessionIdleTimeout must be positive and finite: $timeout"
    }
    builder.sessionIdleTimeout(timeout.inWholeMilliseconds, TimeUnit.MILLISECONDS)
  }

  public fun refreshExecutor(executor: Executor) {
    builder.refreshExecutor(executor)
  }

  private fun <K : Any> scoped(
    configure: RefreshManagerScope.(key: K) -> Unit
  ): KeyedSessions.Factory<K> = KeyedSessions.Factory { key ->
    RefreshManagerScope(RefreshManager.builder()).apply { configure(key) }.builder
  }
}
