package dev.retrofitauth;

/**
 * What {@link SingleFlight} decides for a call that must wait, for a 401, or for a forced refresh:
 * chosen under the lock, acted on outside it.
 */
enum Decision {
  /** Nothing to wait for: send the call now. */
  SEND,
  /** A refresh runs: wait for it. */
  JOIN,
  /** Start a refresh and wait for it. */
  START,
  /** Start a refresh in the background; the call goes now, with the still valid token. */
  START_BACKGROUND,
  /** The 401 is for a token that was already replaced: retry at once, no refresh. */
  STALE,
  /** A refresh failed a moment ago, or a timed-out one still runs: fail with its failure. */
  FAIL_FAST,
  /** No refresh can help (signed out, or nothing to refresh with): hand the 401 over. */
  PASS_THROUGH,
  /** As {@link #PASS_THROUGH}, the first time for these tokens: tell the listeners. */
  TELL_NO_REFRESH_POSSIBLE,
  /** Queue mode: {@code maxQueuedCalls} calls wait already. */
  QUEUE_FULL
}
