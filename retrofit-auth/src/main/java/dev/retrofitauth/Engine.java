package dev.retrofitauth;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * What the edge ({@link AuthCall}, {@link AuthInterceptor}, {@link AuthAuthenticator}) may ask of
 * one session's engine, and nothing else. {@link SingleFlight} implements it; the edge never sees
 * the engine's parts.
 */
interface Engine {
  /** The {@code Authorization} header for the current tokens, or null when signed out. */
  @Nullable String header();

  /** The current tokens, or null when signed out. */
  @Nullable Tokens tokens();

  /** Returns false if no call needs to wait before it is sent: the cheap check for every call. */
  boolean mayWaitBeforeSend();

  /**
   * Registers {@code waiter}, which has not been sent yet, if it must wait for a refresh. Returns
   * false if the call may be sent at once; true if the waiter was registered or already released.
   */
  boolean awaitBeforeSend(Waiter waiter);

  /**
   * Handles a 401 for a request that carried {@code sentHeader}: releases {@code waiter} now if its
   * fate is known, or registers it with the refresh that decides it. A refresh it starts asks for a
   * token that meets {@code requirements}, when the 401's challenge set them; one it joins is the
   * running refresh, whatever that asks for.
   */
  void onUnauthorized(String sentHeader, @Nullable TokenRequirements requirements, Waiter waiter);

  /** True if {@code header} got a 401 and the refresh that started from it still runs. */
  boolean tokenKnownDead(String header);

  /** True if this session can get new tokens: it has a RefreshApi or a TokenSource. */
  boolean refreshes();

  /** True on the thread that runs this session's refresh, while it runs it. */
  boolean onRefreshThread();

  /**
   * Removes {@code waiter} and fails it with {@code reason}; returns false, and does nothing, if it
   * was released already or never waited.
   */
  boolean cancel(Waiter waiter, IOException reason);

  /**
   * Blocks until {@code released} opens. If the thread is interrupted while {@code waiter} still
   * waits, fails it with an {@link InterruptedIOException}; if it was released already, runs {@code
   * afterRelease} (to end whatever the release started) and waits for the answer, a moment away.
   */
  void awaitRelease(Waiter waiter, CountDownLatch released, Runnable afterRelease);

  /**
   * Hears how a retry after a refresh was answered: {@code unauthorized} if with a 401 again, for
   * {@code sentHeader}. After a few refreshes in a row whose retries all got a 401, refreshing
   * pauses: the server is not asking for a new token, and must not drive refreshes at the request
   * rate.
   */
  void retryAnswered(String sentHeader, boolean unauthorized);

  /** Counts a call sent a second time after a 401. */
  void countRetry();

  /** Counts a request sent again once for a new DPoP nonce. */
  void countDpopNonceResend();

  /** Counts a request answered locally because its token is known to be dead. */
  void countDeadTokenRequestAvoided();
}
