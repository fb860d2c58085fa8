package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** {@link StoreWriter} on its own: one write at a time, latest wins, failures reported. */
final class StoreWriterTest {
  private final Object lock = new Object();
  private final RecordingListener listener = new RecordingListener();
  private final GatedStore store = new GatedStore();
  private final StoreWriter writer =
      new StoreWriter(lock, store, new Listeners(new AuthListener[] {listener}));

  @Test
  void writesStagedWhileAWriteRunsCollapseIntoTheLatest() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          stage(1, Tokens.of("first"));
          CompletableFuture<Void> firstFlush = CompletableFuture.runAsync(() -> writer.flush(1));
          store.entered.await(); // "first" is being written, and holds the writer.
          stage(2, Tokens.of("second"));
          stage(3, Tokens.of("third"));
          CompletableFuture<Void> secondFlush = CompletableFuture.runAsync(() -> writer.flush(2));
          CompletableFuture<Void> thirdFlush = CompletableFuture.runAsync(() -> writer.flush(3));
          assertFalse(writer.inStep(), "a write is pending");

          store.release.countDown();
          firstFlush.get(10, TimeUnit.SECONDS);
          secondFlush.get(10, TimeUnit.SECONDS);
          thirdFlush.get(10, TimeUnit.SECONDS);

          // "second" was never written: the writer took the newest state once the store was free.
          assertEquals(Arrays.asList("first", "third"), store.saved);
          assertTrue(writer.inStep());
        });
    Await.noDeadlock();
  }

  @Test
  void aGenerationWrittenAlreadyIsNotWrittenAgain() {
    store.release.countDown();
    stage(1, Tokens.of("first"));
    writer.flush(1);
    writer.flush(1);
    assertEquals(Arrays.asList("first"), store.saved);
  }

  @Test
  void aLeaseThatSavedTheGenerationAlreadySkipsTheWrite() {
    store.release.countDown();
    stage(1, Tokens.of("saved-by-the-lease"));
    writer.flush(1, true);
    assertEquals(Arrays.asList(), store.saved);
    assertTrue(writer.inStep());
  }

  @Test
  void aFailedWriteIsReportedAndLeavesTheStoreOutOfStep() {
    store.release.countDown();
    store.failure = new IOException("disk full");
    stage(1, Tokens.of("first"));
    writer.flush(1);
    assertFalse(writer.inStep());
    assertEquals(Arrays.asList("storeFailed"), listener.events);

    store.failure = null;
    stage(2, null);
    writer.flush(2);
    assertTrue(writer.inStep());
    assertEquals(Arrays.asList("(cleared)"), store.saved);
  }

  private void stage(long generation, @Nullable Tokens tokens) {
    synchronized (lock) {
      writer.stage(generation, tokens);
    }
  }

  /** A store whose writes wait for {@link #release}; it records the access tokens it saved. */
  private static final class GatedStore implements TokenStore {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final List<String> saved = new CopyOnWriteArrayList<>();
    volatile @Nullable IOException failure;

    @Override
    public @Nullable Tokens load() {
      return null;
    }

    @Override
    public void save(Tokens tokens) throws IOException {
      write(tokens.accessToken());
    }

    @Override
    public void clear() throws IOException {
      write("(cleared)");
    }

    private void write(String what) throws IOException {
      entered.countDown();
      try {
        if (!release.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      IOException e = failure;
      if (e != null) throw e;
      saved.add(what);
    }
  }
}
