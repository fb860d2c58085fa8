package dev.retrofitauth;

import org.jspecify.annotations.Nullable;

/** A thread-safe store that keeps tokens in a volatile field. */
final class InMemoryTokenStore implements TokenStore {
  private volatile @Nullable Tokens tokens;

  @Override
  public @Nullable Tokens load() {
    return tokens;
  }

  @Override
  public void save(Tokens tokens) {
    if (tokens == null) throw new NullPointerException("tokens == null");
    this.tokens = tokens;
  }

  @Override
  public void clear() {
    tokens = null;
  }

  @Override
  public String toString() {
    return "TokenStore.inMemory()";
  }
}
