package dev.retrofitauth;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/** An in-memory store that records every write, as {@code "save"} or {@code "clear"}. */
final class RecordingStore implements TokenStore {
  final List<String> writes = new CopyOnWriteArrayList<>();
  private volatile @Nullable Tokens tokens;

  @Override
  public @Nullable Tokens load() {
    return tokens;
  }

  @Override
  public void save(Tokens tokens) {
    writes.add("save");
    this.tokens = tokens;
  }

  @Override
  public void clear() {
    writes.add("clear");
    tokens = null;
  }
}
