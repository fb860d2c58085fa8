package dev.retrofitauth.kotlin

import dev.retrofitauth.RefreshCallback
import dev.retrofitauth.RefreshManager
import dev.retrofitauth.Tokens
import java.io.IOException
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException
import kotlinx.coroutines.suspendCancellableCoroutine

/**
 * Refreshes now and returns the new tokens, as `refreshNow()` does, without blocking a thread:
 * joins a refresh that runs already, or starts one. Cancelling the caller stops its wait, not the
 * refresh, whose tokens are saved all the same.
 *
 * @throws IOException if the refresh failed, was rejected, or had nothing to refresh with.
 */
public suspend fun RefreshManager.awaitRefreshNow(): Tokens =
  suspendCancellableCoroutine { waiter ->
    refreshNow(
      object : RefreshCallback {
        override fun onRefreshed(tokens: Tokens) {
          waiter.resume(tokens)
        }

        override fun onFailure(e: IOException) {
          waiter.resumeWithException(e)
        }
      }
    )
  }
