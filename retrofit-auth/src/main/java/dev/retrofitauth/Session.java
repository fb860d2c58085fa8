package dev.retrofitauth;

import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * The session: the current tokens, their {@code Authorization} header, their generation, and the
 * two moments that follow from their expiry: when one background refresh starts (refresh-ahead) and
 * when calls start to wait for a refresh (the leeway). The generation counts changes (sign-in,
 * sign-out, refresh, clearing), so that a refresh that started in an older generation can tell that
 * its result is no longer wanted.
 *
 * <p>Written by {@link SingleFlight} under its lock, with the time read before the lock was taken;
 * the tokens, the header and the two moments are read without it on every request.
 */
final class Session {
  private final Object lock;
  private final Clock clock;
  private final long leewayMillis;
  private final long aheadMillis;

  // Guarded by lock for writes; read without it.
  private volatile @Nullable Tokens tokens;
  private volatile @Nullable String header;

  /** When calls start to wait for a refresh: the expiry less the leeway; MAX_VALUE for never. */
  private volatile long refreshAtMillis = Long.MAX_VALUE; // Guarded by lock for writes.

  /** When one background refresh starts, ahead of {@link #refreshAtMillis}. */
  private volatile long refreshAheadAtMillis = Long.MAX_VALUE; // Guarded by lock for writes.

  private long generation; // Guarded by lock.
  private boolean toldNoRefreshPossible; // Guarded by lock.
  private int reserved; // Guarded by lock: refreshes in a row that brought the same access token.

  /**
   * The share of a token's lifetime, counted back from its expiry, in which it is refreshed: the
   * margin. Refresh-ahead starts at its beginning and calls wait in its last part, the leeway. With
   * 8%, a 30 s token is refreshed after 27.6 s to 28 s, an hour's after 59 min (capped by the
   * configured windows): about 1.09 token requests per lifetime or fewer.
   */
  static final double MARGIN_SHARE = 0.08;

  /** The least margin: time for a token request to answer before a short token expires. */
  static final long MIN_MARGIN_MILLIS = 500L;

  /** After this many refreshes in a row that brought the same token, none starts ahead. */
  static final int MAX_RESERVED = 2;

  Session(Object lock, Clock clock, long leewayMillis, long aheadMillis) {
    this.lock = lock;
    this.clock = clock;
    this.leewayMillis = leewayMillis;
    this.aheadMillis = aheadMillis;
  }

  @Nullable Tokens tokens() {
    return tokens;
  }

  /** The {@code Authorization} header for the current tokens, or null when signed out. */
  @Nullable String header() {
    return header;
  }

  long generation() {
    assert Thread.holdsLock(lock);
    return generation;
  }

  /** False once a sign-in, sign-out or refresh has replaced the tokens of {@code generation}. */
  boolean isCurrent(long generation) {
    synchronized (lock) {
      return generation == this.generation;
    }
  }

  /** Takes the tokens the store held when the manager was built, as generation 0. */
  void restore(@Nullable Tokens loaded, long now) {
    assert Thread.holdsLock(lock);
    set(loaded, now);
  }

  /** Replaces the tokens in a new generation; returns that generation. */
  long replace(@Nullable Tokens newTokens, long now) {
    assert Thread.holdsLock(lock);
    set(newTokens, now);
    toldNoRefreshPossible = false;
    return ++generation;
  }

  /**
   * True the first time it is asked for the current generation: "no refresh possible" is told once.
   */
  boolean firstNoRefreshPossible() {
    assert Thread.holdsLock(lock);
    if (toldNoRefreshPossible) return false;
    toldNoRefreshPossible = true;
    return true;
  }

  private void set(@Nullable Tokens newTokens, long now) {
    Tokens old = tokens;
    boolean same =
        old != null && newTokens != null && old.accessToken().equals(newTokens.accessToken());
    reserved = same ? reserved + 1 : 0;
    tokens = newTokens;
    header = newTokens != null ? newTokens.tokenType() + " " + newTokens.accessToken() : null;
    if (reserved >= MAX_RESERVED) {
      // The server hands out this token again until it is nearly dead (metadata servers do): use
      // it until it expires instead of asking again and again as its margin shrinks.
      long expiresAt = newTokens.hasExpiry() ? newTokens.expiresAtMillis() : Long.MAX_VALUE;
      refreshAtMillis = expiresAt;
      refreshAheadAtMillis = expiresAt;
      return;
    }
    refreshAtMillis = refreshAt(newTokens, now, leewayMillis, aheadMillis);
    refreshAheadAtMillis = refreshAheadAt(newTokens, now, leewayMillis, aheadMillis, jitter());
  }

  private static double jitter() {
    return ThreadLocalRandom.current().nextDouble();
  }

  /**
   * Returns the margin of a token with {@code remaining} milliseconds to live: {@link
   * #MARGIN_SHARE} of it, at least {@link #MIN_MARGIN_MILLIS}, at most the leeway and the
   * refresh-ahead window together, and never more than half of it, so that a token is always used
   * for half its life and a short one is not refreshed as soon as it arrives.
   */
  static long margin(long remaining, long leewayMillis, long aheadMillis) {
    if (remaining <= 0L) return 0L;
    long share = Math.max((long) (remaining * MARGIN_SHARE), MIN_MARGIN_MILLIS);
    return Math.min(Math.min(share, saturatedAdd(leewayMillis, aheadMillis)), remaining / 2);
  }

  /**
   * Returns the leeway within {@code margin}: the part calls wait in, at most half of it and at
   * most the configured leeway; all of it (up to the leeway) when refresh-ahead is off.
   */
  static long leeway(long margin, long leewayMillis, long aheadMillis) {
    if (aheadMillis == 0L) return Math.min(margin, leewayMillis);
    return Math.min(leewayMillis, margin / 2);
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < 0L ? Long.MAX_VALUE : sum;
  }

  /**
   * Returns when calls should start to wait for {@code tokens} to be refreshed, received at {@code
   * now}: the expiry less the leeway. MAX_VALUE for tokens without an expiry.
   */
  static long refreshAt(@Nullable Tokens tokens, long now, long leewayMillis, long aheadMillis) {
    if (tokens == null || !tokens.hasExpiry()) return Long.MAX_VALUE;
    long expiresAt = tokens.expiresAtMillis();
    long margin = margin(expiresAt - now, leewayMillis, aheadMillis);
    return expiresAt - leeway(margin, leewayMillis, aheadMillis);
  }

  /**
   * Returns when one background refresh of {@code tokens} starts: at the margin's beginning, up to
   * a fifth of the refresh-ahead window later by {@code jitter} (between 0 and 1), so that
   * processes and devices with one expiry do not refresh together. With refresh-ahead off, at
   * {@link #refreshAt}.
   */
  static long refreshAheadAt(
      @Nullable Tokens tokens, long now, long leewayMillis, long aheadMillis, double jitter) {
    if (tokens == null || !tokens.hasExpiry()) return Long.MAX_VALUE;
    long expiresAt = tokens.expiresAtMillis();
    long margin = margin(expiresAt - now, leewayMillis, aheadMillis);
    long leeway = leeway(margin, leewayMillis, aheadMillis);
    long window = margin - leeway;
    return expiresAt - margin + (long) (window * 0.2 * jitter);
  }

  /** True if the token is in the refresh-ahead window or the leeway at {@code now}. */
  boolean dueForRefresh(long now) {
    long at = refreshAheadAtMillis;
    return at != Long.MAX_VALUE && now >= at;
  }

  /** True if the current access token is known to expire within the leeway at {@code now}. */
  boolean expiresSoon(long now) {
    long refreshAt = refreshAtMillis;
    return refreshAt != Long.MAX_VALUE && now >= refreshAt;
  }

  /** True if {@code old}, which a proactive refresh replaces, has not expired at {@code now}. */
  static boolean stillValid(Tokens old, long now) {
    return old.hasExpiry() && now < old.expiresAtMillis();
  }

  /**
   * True if {@code stored}, which another process saved, is not yet within the leeway, so that it
   * can be adopted as it is. Reads the clock: never called under the lock.
   */
  boolean usableAsStored(Tokens stored) {
    assert !Thread.holdsLock(lock);
    long now = clock.currentTimeMillis();
    return refreshAt(stored, now, leewayMillis, aheadMillis) > now;
  }
}
