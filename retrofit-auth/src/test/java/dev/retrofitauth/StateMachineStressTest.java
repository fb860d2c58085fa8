package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A randomized stress test of the refresh state machine: threads race 401s, stale 401s, waits
 * before sending, cancellations, sign-ins, sign-outs and group cancellation against refreshes that
 * succeed, fail, are rejected or throw, in both modes. After each round: every waiter was completed
 * exactly once, no refresh token was refreshed twice at once, nothing waits, and the store holds
 * what the manager holds. {@code -Dretrofitauth.stateMachineRounds=N} runs longer.
 */
final class StateMachineStressTest {
  private static final int ROUNDS = Integer.getInteger("retrofitauth.stateMachineRounds", 300);

  /** With a shared file store every write syncs to the disk: fewer rounds. */
  private static final int SHARED_ROUNDS =
      Integer.getInteger("retrofitauth.sharedStateMachineRounds", 30);

  private static final int THREADS = 4;
  private static final int OPS_PER_THREAD = 40;
  private static final java.util.concurrent.ExecutorService REFRESH_THREADS =
      java.util.concurrent.Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "stress refresh");
            t.setDaemon(true);
            return t;
          });

  @Test
  void invariantsHoldUnderRandomInterleavings() {
    assertTimeoutPreemptively(
        Duration.ofMinutes(15),
        () -> {
          Random seeds = new Random(7);
          for (int round = 0; round < ROUNDS; round++) {
            runRound(seeds.nextLong(), round % 2 == 1, new RecordingStore());
          }
        });
    Await.noDeadlock();
  }

  /** The same, with every refresh inside a shared file store's lease (LeasedRefresh). */
  @Test
  void invariantsHoldWithASharedFileStore(@TempDir Path directory) {
    assertTimeoutPreemptively(
        Duration.ofMinutes(15),
        () -> {
          Random seeds = new Random(11);
          for (int round = 0; round < SHARED_ROUNDS; round++) {
            File file = directory.resolve("tokens-" + round + ".json").toFile();
            runRound(seeds.nextLong(), round % 2 == 1, TokenStore.file(file));
          }
        });
    Await.noDeadlock();
  }

  private static final class CountingWaiter extends Waiter {
    final AtomicInteger completions = new AtomicInteger();

    CountingWaiter(boolean sent) {
      super(sent, MethodPolicy.DEFAULT);
    }

    @Override
    void proceed(@Nullable Runnable retryEnded) {
      completions.incrementAndGet();
      if (retryEnded != null) retryEnded.run(); // The "retry" ends at once.
    }

    @Override
    void passThrough() {
      completions.incrementAndGet();
    }

    @Override
    void fail(IOException e) {
      completions.incrementAndGet();
    }
  }

  private static void runRound(long seed, boolean queueMode, TokenStore store) throws Exception {
    Random random = new Random(seed);
    AtomicInteger issued = new AtomicInteger();
    ConcurrentHashMap<String, Boolean> refreshing = new ConcurrentHashMap<>();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicInteger signIns = new AtomicInteger();
    RefreshManager.Builder builder =
        RefreshManager.builder()
            .tokenStore(store)
            .queueMode(queueMode)
            .refreshBackoff(0, 0, TimeUnit.MILLISECONDS)
            .refreshExecutor(
                REFRESH_THREADS) // Shared: thousands of rounds, not thousands of pools.
            .refreshApi(
                current -> {
                  if (refreshing.putIfAbsent(current.refreshToken(), Boolean.TRUE) != null) {
                    overlaps.incrementAndGet();
                  }
                  try {
                    LockSupport.parkNanos(ThreadLocalRandomHolder.nanos(50_000));
                    switch (ThreadLocalRandomHolder.next(10)) {
                      case 0:
                        throw new RefreshRejectedException("rejected");
                      case 1:
                        throw new IOException("transient");
                      case 2:
                        throw new IllegalStateException("bug");
                      default:
                        int n = issued.incrementAndGet();
                        return Tokens.of("a" + n, "r" + n, System.currentTimeMillis() + 60_000);
                    }
                  } finally {
                    refreshing.remove(current.refreshToken());
                  }
                });
    SingleFlight engine = new SingleFlight(builder.config(), new Listeners(new AuthListener[0]));
    engine.restore();
    engine.changeSession(Tokens.of("a0", "r0"));
    List<CountingWaiter> waiters = new CopyOnWriteArrayList<>();
    CountDownLatch start = new CountDownLatch(1);
    Thread[] threads = new Thread[THREADS];
    for (int t = 0; t < THREADS; t++) {
      long threadSeed = random.nextLong();
      threads[t] =
          new Thread(
              () -> {
                Random r = new Random(threadSeed);
                try {
                  start.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 0; i < OPS_PER_THREAD; i++) {
                  int op = r.nextInt(20);
                  if (op < 8) {
                    CountingWaiter w = new CountingWaiter(true);
                    waiters.add(w);
                    String header = engine.header();
                    engine.onUnauthorized(
                        header != null && r.nextInt(4) != 0 ? header : "Bearer stale", w);
                  } else if (op < 12) {
                    CountingWaiter w = new CountingWaiter(false);
                    waiters.add(w);
                    if (!engine.awaitBeforeSend(w)) w.completions.incrementAndGet(); // Sent now.
                  } else if (op < 16 && !waiters.isEmpty()) {
                    CountingWaiter w = waiters.get(r.nextInt(waiters.size()));
                    engine.cancel(w, new IOException("Canceled")); // Released by the engine.
                  } else if (op == 16) {
                    engine.changeSession(null);
                  } else if (op == 17) {
                    // Each sign-in brings its own refresh token. (Random ids once collided, about
                    // once in 50,000 rounds: two sign-ins with one refresh token, whose refreshes
                    // the app had made overlap, not the manager.)
                    int n = 1_000_000 + signIns.incrementAndGet();
                    // Sometimes already inside the leeway, so that calls wait before sending.
                    long expiry = r.nextBoolean() ? System.currentTimeMillis() : Tokens.NO_EXPIRY;
                    engine.changeSession(Tokens.of("s" + n, "sr" + n, expiry));
                  } else if (op == 18) {
                    engine.cancelQueued(null, "Canceled: every queued call was canceled");
                  } else {
                    engine.queuedCalls();
                  }
                }
              });
      threads[t].start();
    }
    start.countDown();
    for (Thread thread : threads) thread.join();

    Await.until(
        "round " + seed + ": every waiter completed",
        () -> waiters.stream().allMatch(w -> w.completions.get() >= 1));
    Await.until("round " + seed + ": nothing waits", () -> Await.waiting(engine) == 0);
    Await.until("round " + seed + ": refreshes returned", refreshing::isEmpty);
    // A refresh saves after it returns: the store catches up with the manager, and stays there.
    Await.until(
        "round " + seed + ": store in step with the manager",
        () -> java.util.Objects.equals(engine.tokens(), load(store)));
    for (CountingWaiter w : waiters) {
      assertEquals(1, w.completions.get(), "round " + seed + ": a waiter completed twice");
    }
    assertEquals(
        0, overlaps.get(), "round " + seed + ": one refresh token refreshed twice at once");
  }

  private static @Nullable Tokens load(TokenStore store) {
    try {
      return store.load();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Per-thread randomness for the RefreshApi, which runs on the manager's threads. */
  private static final class ThreadLocalRandomHolder {
    static long nanos(int bound) {
      return java.util.concurrent.ThreadLocalRandom.current().nextInt(bound);
    }

    static int next(int bound) {
      return java.util.concurrent.ThreadLocalRandom.current().nextInt(bound);
    }
  }
}
