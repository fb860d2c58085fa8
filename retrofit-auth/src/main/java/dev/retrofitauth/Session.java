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
    tokens = newTokens;
    header = newTokens != null ? newTokens.tokenType() + " " + newTokens.accessToken() : null;
    long refreshAt = refreshAt(newTokens, now, leewayMillis);
    refreshAtMillis = refreshAt;
    refreshAheadAtMillis = refreshAheadAt(refreshAt, now, aheadMillis, jitter());
  }

  private static double jitter() {
    return ThreadLocalRandom.current().nextDouble();
  }

  /**
   * Returns when calls should start to wait for {@code tokens} to be refreshed. A token that lives
   * shorter than twice the leeway gets half its remaining lifetime as leeway instead: otherwise it
   * would count as expired from the moment it arrives, and every call would refresh it.
   */
  static long refreshAt(@Nullable Tokens tokens, long now, long leewayMillis) {
    if (tokens == null || !tokens.hasExpiry()) return Long.MAX_VALUE;
    long expiresAt = tokens.expiresAtMillis();
    long remaining = expiresAt - now;
    long leeway = remaining > 0L ? Math.min(leewayMillis, remaining / 2) : 0L;
    return expiresAt - leeway;
  }

  /**
   * Returns when one background refresh starts, ahead of {@code refreshAt}. The window is at most
   * half the time left before the leeway, and starts up to 20% of it later, by {@code jitter}
   * (between 0 and 1), so that processes and devices with one expiry do not refresh together.
   */
  static long refreshAheadAt(long refreshAt, long now, long aheadMillis, double jitter) {
    long window = refreshAt == Long.MAX_VALUE ? 0L : Math.min(aheadMillis, (refreshAt - now) / 2);
    return window > 0L ? refreshAt - window + (long) (window * 0.2 * jitter) : refreshAt;
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
    return refreshAt(stored, now, leewayMillis) > now;
  }
}
