package dev.retrofitauth;

import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * What one session's engine is configured with, read once from {@link RefreshManager.Builder} at
 * {@code build()} and never changed. The executor and the timer are the process's shared ones
 * unless the app gave its own executor: they are not the session's, and it never shuts them down.
 */
final class SessionConfig {
  final Clock clock;
  final TokenStore store;
  final @Nullable RefreshApi refreshApi;
  final @Nullable TokenSource tokenSource;
  final @Nullable TokenRevoker revoker;
  final Executor executor;
  final ScheduledExecutorService timer;
  final long leewayMillis;
  final long refreshAheadMillis;
  final long refreshTimeoutMillis;
  final long backoffInitialMillis;
  final long backoffMaxMillis;
  final long maxRetryAfterMillis;
  final boolean clearTokensWhenUnrefreshable;
  final boolean queueMode;
  final int maxConcurrentRetries;
  final int maxQueuedCalls;

  SessionConfig(
      Clock clock,
      TokenStore store,
      @Nullable RefreshApi refreshApi,
      @Nullable TokenSource tokenSource,
      @Nullable TokenRevoker revoker,
      Executor executor,
      ScheduledExecutorService timer,
      long leewayMillis,
      long refreshAheadMillis,
      long refreshTimeoutMillis,
      long backoffInitialMillis,
      long backoffMaxMillis,
      long maxRetryAfterMillis,
      boolean clearTokensWhenUnrefreshable,
      boolean queueMode,
      int maxConcurrentRetries,
      int maxQueuedCalls) {
    this.clock = clock;
    this.store = store;
    this.refreshApi = refreshApi;
    this.tokenSource = tokenSource;
    this.revoker = revoker;
    this.executor = executor;
    this.timer = timer;
    this.leewayMillis = leewayMillis;
    this.refreshAheadMillis = refreshAheadMillis;
    this.refreshTimeoutMillis = refreshTimeoutMillis;
    this.backoffInitialMillis = backoffInitialMillis;
    this.backoffMaxMillis = backoffMaxMillis;
    this.maxRetryAfterMillis = maxRetryAfterMillis;
    this.clearTokensWhenUnrefreshable = clearTokensWhenUnrefreshable;
    this.queueMode = queueMode;
    this.maxConcurrentRetries = maxConcurrentRetries;
    this.maxQueuedCalls = maxQueuedCalls;
  }
}
