package dev.retrofitauth;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * Keeps the {@link Tokens} of one session. Implementations must be thread-safe.
 *
 * <p>The {@link RefreshManager} keeps the current tokens in memory and writes every change through
 * to the store: it loads once when it is built, saves after each sign-in and refresh, and clears
 * on sign-out. It never calls the store while it holds a lock, and it never runs two writes at the
 * same time. A refreshed token is saved before any call that waited for it is released. Before a
 * refresh the manager loads the store again, so that tokens another process saved there are used
 * instead of refreshing a second time.
 *
 * <p>Two stores are built in: {@link #inMemory()}, and a file store for desktop and server apps.
 */
public interface TokenStore {
  /** Returns the stored tokens, or null if there are none. */
  @Nullable Tokens load() throws IOException;

  /** Replaces the stored tokens with {@code tokens}. */
  void save(Tokens tokens) throws IOException;

  /** Removes the stored tokens. */
  void clear() throws IOException;

  /** Returns a store that keeps tokens in memory only: they are gone when the process ends. */
  static TokenStore inMemory() {
    return new InMemoryTokenStore();
  }
}
