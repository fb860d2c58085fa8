package dev.retrofitauth.benchmarks;

import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What an idle session costs: the heap a signed-in manager keeps (the manager and everything only
 * it holds, its tokens excluded), and the threads that many managers sharing one executor hold
 * after each refreshed once.
 */
final class Sessions {
  private Sessions() {}

  /** Bytes per idle signed-in manager above its tokens, averaged over {@code runs}. */
  static double bytesPerIdleSession(int sessions, int runs) {
    heapPer(sessions / 10, true); // Warm the classes and the JIT.
    double total = 0;
    for (int run = 0; run < runs; run++) {
      total += heapPer(sessions, true) - heapPer(sessions, false);
    }
    return total / runs;
  }

  /**
   * Threads alive after {@code managers} managers, sharing a 4-thread executor, each refreshed once
   * (with the default refresh timeout, which starts the timer), above the count before them.
   */
  static int threadsAddedByManagers(int managers) throws IOException {
    ExecutorService shared =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "shared refresh");
              t.setDaemon(true);
              return t;
            });
    try {
      int before = Thread.activeCount();
      List<RefreshManager> held = new ArrayList<>(managers);
      for (int i = 0; i < managers; i++) {
        String id = Integer.toString(i);
        RefreshManager manager =
            RefreshManager.builder()
                .refreshExecutor(shared)
                .refreshApi(current -> Tokens.of("new-" + id, "r2-" + id))
                .build();
        manager.signIn(Tokens.of("a-" + id, "r1-" + id));
        manager.refreshNow();
        held.add(manager);
      }
      int added = Thread.activeCount() - before;
      if (held.size() != managers) throw new AssertionError();
      return added;
    } finally {
      shared.shutdown();
    }
  }

  private static double heapPer(int sessions, boolean withManager) {
    List<Object> held = new ArrayList<>(sessions);
    long expiry = System.currentTimeMillis() + 3_600_000;
    long before = usedHeap();
    for (int i = 0; i < sessions; i++) {
      Tokens tokens = Tokens.of("access-" + i, "refresh-" + i, expiry);
      if (withManager) {
        RefreshManager manager = RefreshManager.builder().refreshApi(current -> current).build();
        manager.signIn(tokens);
        held.add(manager);
      } else {
        held.add(tokens);
      }
    }
    long after = usedHeap();
    if (held.size() != sessions) throw new AssertionError();
    return (after - before) / (double) sessions;
  }

  private static long usedHeap() {
    for (int i = 0; i < 4; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
