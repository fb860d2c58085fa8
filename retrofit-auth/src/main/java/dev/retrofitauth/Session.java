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
  private final StoreWriter writer;

  // Guarded by lock for writes; read without it.
  private volatile @Nullable Tokens tokens;
  private volatile @Nullable String header;

  // Guarded by lock.
  private long generation;
  private boolean toldNoRefreshPossible;

  Session(Object lock, RefreshManager.Clock clock, long leewayMillis, StoreWriter writer) {
    this.lock = lock;
    this.clock = clock;
    this.leewayMillis = leewayMillis;
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

  /** Takes the tokens the store held when the manager was built, as the first generation. */
  void restore(@Nullable Tokens loaded) {
    assert Thread.holdsLock(lock);
    tokens = loaded;
    header = headerFor(loaded);
    writer.stage(generation, loaded);
  }

  /** Replaces the tokens in a new generation, and stages them for the store. */
  void replace(@Nullable Tokens newTokens) {
    assert Thread.holdsLock(lock);
    tokens = newTokens;
    header = headerFor(newTokens);
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

  /** True if the current access token is known to expire within the leeway. */
  boolean expiresSoon() {
    Tokens current = tokens;
    return current != null
        && current.hasExpiry()
        && clock.currentTimeMillis() >= current.expiresAtMillis() - leewayMillis;
  }

  /** True if {@code old}, which a proactive refresh replaces, has not expired yet. */
  boolean stillValid(Tokens old) {
    return old.hasExpiry() && clock.currentTimeMillis() < old.expiresAtMillis();
  }

  private static @Nullable String headerFor(@Nullable Tokens tokens) {
    return tokens != null ? "Bearer " + tokens.accessToken() : null;
  }
}
