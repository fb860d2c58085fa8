package dev.retrofitauth.benchmarks;

import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.SessionRegistry;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What an idle session costs: the heap a signed-in manager keeps (the manager and everything only
 * it holds, its tokens excluded), the same for a keyed session of a {@link SessionRegistry}, and
 * the threads that many managers sharing one executor hold after each refreshed once.
 */
final class Sessions {
  private Sessions() {}

  /** What {@code sessions} idle signed-in sessions hold at once, each above its tokens. */
  enum Holder {
    /** The tokens alone: the baseline that excludes them. */
    TOKENS,
    /** A {@link RefreshManager} each, with an in-memory store. */
    MANAGER,
    /**
     * A keyed session each of one registry, with an in-memory store: the registry's map entry, the
     * key, its session entry and its manager.
     */
    KEYED
  }

  /** Bytes per idle signed-in session above its tokens, both ways, in the same run. */
  static final class IdleHeap {
    /** Bytes per {@link RefreshManager}. */
    final double perManager;

    /** Bytes per keyed session of a {@link SessionRegistry}. */
    final double perKeyedSession;

    IdleHeap(double perManager, double perKeyedSession) {
      this.perManager = perManager;
      this.perKeyedSession = perKeyedSession;
    }
  }

  /**
   * Bytes per idle signed-in manager and per idle signed-in keyed session, above their tokens,
   * averaged over {@code runs}; each run measures the tokens, the managers and the keyed sessions
   * one after the other.
   */
  static IdleHeap bytesPerIdleSession(int sessions, int runs) throws IOException {
    // Warm the classes and the JIT.
    heapPer(sessions / 10, Holder.MANAGER);
    heapPer(sessions / 10, Holder.KEYED);
    double manager = 0;
    double keyed = 0;
    for (int run = 0; run < runs; run++) {
      double tokens = heapPer(sessions, Holder.TOKENS);
      manager += heapPer(sessions, Holder.MANAGER) - tokens;
      keyed += heapPer(sessions, Holder.KEYED) - tokens;
    }
    return new IdleHeap(manager / runs, keyed / runs);
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

  private static double heapPer(int sessions, Holder holder) throws IOException {
    List<Object> held = new ArrayList<>(sessions);
    long expiry = System.currentTimeMillis() + 3_600_000;
    long before = usedHeap();
    SessionRegistry registry = holder == Holder.KEYED ? keyedRegistry(sessions) : null;
    for (int i = 0; i < sessions; i++) {
      Tokens tokens = Tokens.of("access-" + i, "refresh-" + i, expiry);
      if (registry != null) {
        // Only the registry holds the key and the session.
        registry.keyed("user", UserId.class).signIn(new UserId("user-" + i), tokens);
      } else if (holder == Holder.MANAGER) {
        RefreshManager manager = RefreshManager.builder().refreshApi(current -> current).build();
        manager.signIn(tokens);
        held.add(manager);
      } else {
        held.add(tokens);
      }
    }
    long after = usedHeap();
    int count = registry != null ? registry.liveSessions("user") : held.size();
    if (count != sessions) throw new AssertionError(holder + ": " + count + " of " + sessions);
    return (after - before) / (double) sessions;
  }

  /** A registry with one keyed credential, {@code "user"}, that evicts none of {@code sessions}. */
  private static SessionRegistry keyedRegistry(int sessions) {
    return SessionRegistry.builder()
        .addKeyed(
            "user", UserId.class, user -> RefreshManager.builder().refreshApi(current -> current))
        .maxSessions(Math.max(1, sessions))
        .build();
  }

  private static long usedHeap() {
    for (int i = 0; i < 4; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
