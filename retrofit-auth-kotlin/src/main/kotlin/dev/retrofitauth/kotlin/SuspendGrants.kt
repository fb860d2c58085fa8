package dev.retrofitauth.kotlin

import dev.retrofitauth.RefreshApi
import dev.retrofitauth.TokenSource
import dev.retrofitauth.Tokens
import java.io.IOException
import java.io.InterruptedIOException
import kotlin.coroutines.CoroutineContext
import kotlin.coroutines.EmptyCoroutineContext
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.runBlocking

/**
 * A [RefreshApi] as a suspend function: exchanges the current tokens for new ones, as in
 * `SuspendRefreshApi { current -> tokenService.refresh(current.refreshToken()!!).toTokens() }`
 * with a `suspend` Retrofit call. Throw [dev.retrofitauth.RefreshRejectedException] when the server
 * rejects the refresh token, and an [IOException] for a failure that may go away.
 *
 * The library runs it with [asRefreshApi]: on its own refresh thread, in a coroutine that belongs
 * to no caller, so that cancelling the callers that wait for a refresh never cancels the refresh,
 * and the tokens it returns are always saved.
 */
public fun interface SuspendRefreshApi {
  public suspend fun refresh(current: Tokens): Tokens
}

/**
 * A [TokenSource] as a suspend function: fetches tokens without any (a machine token, from the
 * client credentials grant for example). Run as [SuspendRefreshApi] is, by [asTokenSource].
 */
public fun interface SuspendTokenSource {
  public suspend fun fetch(): Tokens
}

/**
 * This suspend refresh as the [RefreshApi] a `RefreshManager` runs. Each refresh runs as a
 * coroutine of its own on the manager's refresh thread, which waits for it; with a [dispatcher]
 * (`Dispatchers.IO`, say), on that dispatcher instead. No caller's coroutine is its parent: a
 * cancelled caller stops waiting, and the refresh goes on and is saved.
 *
 * If the manager gives up on a refresh (at twice its refresh timeout) and interrupts its thread,
 * the coroutine is cancelled and the refresh fails with an [InterruptedIOException].
 */
public fun SuspendRefreshApi.asRefreshApi(dispatcher: CoroutineDispatcher? = null): RefreshApi {
  val api = this
  return SuspendRefreshAdapter(api, dispatcher ?: EmptyCoroutineContext)
}

/** This suspend token source as the [TokenSource] a `RefreshManager` runs; see [asRefreshApi]. */
public fun SuspendTokenSource.asTokenSource(dispatcher: CoroutineDispatcher? = null): TokenSource {
  val source = this
  return SuspendTokenSourceAdapter(source, dispatcher ?: EmptyCoroutineContext)
}

private class SuspendRefreshAdapter(
  private val api: SuspendRefreshApi,
  private val context: CoroutineContext,
) : RefreshApi {
  override fun refresh(current: Tokens): Tokens = runHere(context) { api.refresh(current) }

  override fun toString(): String = "SuspendRefreshApi($api)"
}

private class SuspendTokenSourceAdapter(
  private val source: SuspendTokenSource,
  private val context: CoroutineContext,
) : TokenSource {
  override fun fetch(): Tokens = runHere(context) { source.fetch() }

  override fun toString(): String = "SuspendTokenSource($source)"
}

/**
 * Runs [block] as a root coroutine and blocks this thread, the manager's refresh thread, until it
 * ends. `runBlocking` is right here, and only here: the thread is the library's own, made to wait
 * for one refresh, never an OkHttp dispatcher thread or the app's.
 */
private fun runHere(context: CoroutineContext, block: suspend () -> Tokens): Tokens {
  try {
    return runBlocking(context) { block() }
  } catch (e: InterruptedException) {
    Thread.currentThread().interrupt()
    throw InterruptedIOException("the refresh was interrupted").apply { initCause(e) }
  } catch (e: CancellationException) {
    // The refresh cancelled itself (a withTimeout in it, say): a failure that may go away.
    throw IOException("the suspend refresh was cancelled: ${e.message}", e)
  }
}
