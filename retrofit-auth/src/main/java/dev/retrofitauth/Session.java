package dev.retrofitauth;

import org.jspecify.annotations.Nullable;

/**
 * The session: the current tokens, their {@code Authorization} header, and their generation. The
 * generation counts changes (sign-in, sign-out, refresh, clearing), so that a refresh that started
 * in an older generation can tell that its result is no longer wanted. Written by {@link
 * SingleFlight} under its lock; the tokens and the header are read without it on every request.
 */
final class Session {
  private final Object lock;
  private final RefreshManager.Clock clock;
  private final long leewayMillis;
  private final long aheadMillis;
  private final java.util.Random jitter = new java.util.Random();
  private final StoreWriter writer;

  // Guarded by lock for writes; read without it.
  private volatile @Nullable Tokens tokens;
  private volatile @Nullable String header;

  /** When calls start to wait for a refresh: the expiry less the leeway; MAX_VALUE for never. */
  private volatile long refreshAtMillis = Long.MAX_VALUE;

  /** When one background refresh starts, ahead of {@link #refreshAtMillis}. */
  private volatile long refreshAheadAtMillis = Long.MAX_VALUE;

  // Guarded by lock.
  private long generation;
  private boolean toldNoRefreshPossible;

  Session(Object lock, RefreshManager.Builder builder, StoreWriter writer) {
    this.lock = lock;
    this.clock = builder.clock;
    this.leewayMillis = builder.leewayMillis;
    this.aheadMillis = builder.refreshAheadMillis;
    this.writer = writer;
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

  /** Takes the tokens the store held when the manager was built, as the first generation. */
  void restore(@Nullable Tokens loaded) {
    assert Thread.holdsLock(lock);
    set(loaded);
    writer.stage(generation, loaded);
  }

  /** Replaces the tokens in a new generation, and stages them for the store. */
  void replace(@Nullable Tokens newTokens) {
    assert Thread.holdsLock(lock);
    set(newTokens);
    generation++;
    toldNoRefreshPossible = false;
    writer.stage(generation, newTokens);
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

  private void set(@Nullable Tokens newTokens) {
    tokens = newTokens;
    header = headerFor(newTokens);
    long now = clock.currentTimeMillis();
    long refreshAt = refreshAt(newTokens, now, leewayMillis);
    refreshAtMillis = refreshAt;
    // The window ahead is at most half the time left before the leeway, and starts up to 20%
    // later at random, so that processes and devices with one expiry do not refresh together.
    long window = refreshAt == Long.MAX_VALUE ? 0L : Math.min(aheadMillis, (refreshAt - now) / 2);
    refreshAheadAtMillis =
        window > 0L ? refreshAt - window + (long) (window * 0.2 * jitter.nextDouble()) : refreshAt;
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

  /** True if the token is in the refresh-ahead window or the leeway: a refresh is due. */
  boolean dueForRefresh() {
    long at = refreshAheadAtMillis;
    return at != Long.MAX_VALUE && clock.currentTimeMillis() >= at;
  }

  /** True if the current access token is known to expire within the leeway. */
  boolean expiresSoon() {
    long refreshAt = refreshAtMillis;
    return refreshAt != Long.MAX_VALUE && clock.currentTimeMillis() >= refreshAt;
  }

  /** True if {@code old}, which a proactive refresh replaces, has not expired yet. */
  boolean stillValid(Tokens old) {
    return old.hasExpiry() && clock.currentTimeMillis() < old.expiresAtMillis();
  }

  private static @Nullable String headerFor(@Nullable Tokens tokens) {
    return tokens != null ? tokens.tokenType() + " " + tokens.accessToken() : null;
  }
}
