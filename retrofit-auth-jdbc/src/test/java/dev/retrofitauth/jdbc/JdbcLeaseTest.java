package dev.retrofitauth.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.SharedTokenStore.Lease;
import dev.retrofitauth.Tokens;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two stores on one row, as two processes would have, on PostgreSQL and on H2. A lease that must
 * stay taken is checked by another store failing to take it for longer than the TTL; a lease's end
 * is moved by hand, by the database's clock, instead of waiting for it.
 */
final class JdbcLeaseTest {
  private static final int CONTENTION_ROUNDS =
      Integer.getInteger("retrofitauth.jdbcContentionRounds", 40);

  private final ExecutorService executor = Executors.newCachedThreadPool();

  @AfterEach
  void stopExecutor() {
    executor.shutdownNow();
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void theFirstLeaseOfANewSessionInsertsItsRowWithNoTokens(TestDatabase database) throws Exception {
    JdbcTokenStore store = database.newTable().key("new").build();
    try (Lease lease = store.lease(1_000)) {
      assertNull(lease.load());
      assertTrue(lease.save(Tokens.of("access-1", "refresh-1")));
    }
    assertEquals(Tokens.of("access-1", "refresh-1"), store.load());
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void aHeldLeaseKeepsOthersOutUntilItIsClosed(TestDatabase database) throws Exception {
    JdbcTokenStore.Builder builder = database.newTable().key("held");
    JdbcTokenStore first = builder.build();
    JdbcTokenStore second = builder.build();
    first.save(Tokens.of("access-0", "refresh-0"));

    Lease held = first.lease(1_000);
    InterruptedIOException e = assertThrows(InterruptedIOException.class, () -> second.lease(200));
    assertEquals(
        "taking the lease of session 'held' in table "
            + first.table.name
            + ": another process held it for all of the 200 ms timeout",
        e.getMessage());
    held.close();
    try (Lease next = second.lease(0)) {
      assertEquals(Tokens.of("access-0", "refresh-0"), next.load());
    }
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void closingALeaseLetsTheNextHolderInAtOnce(TestDatabase database) throws Exception {
    JdbcTokenStore.Builder builder = database.newTable().key("handover");
    JdbcTokenStore first = builder.build();
    JdbcTokenStore second = builder.build();
    Lease held = first.lease(1_000);
    held.load();
    Future<Lease> waiting = executor.submit(() -> second.lease(30_000));
    held.close();
    held.close(); // Idempotent.
    try (Lease next = waiting.get(30, TimeUnit.SECONDS)) {
      assertNull(next.load());
      assertTrue(next.save(Tokens.of("access-2")));
    }
    assertFalse(held.save(Tokens.of("late")), "a closed lease saves nothing");
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void aLateWriterWhoseLeaseEndedByTheDatabasesClockIsRefused(TestDatabase database)
      throws Exception {
    JdbcTokenStore.Builder builder = database.newTable().key("late").leaseTtl(60, TimeUnit.SECONDS);
    JdbcTokenStore first = builder.build();
    JdbcTokenStore second = builder.build();
    first.save(Tokens.of("access-0", "refresh-0"));

    Lease late = first.lease(1_000);
    assertEquals("refresh-0", late.load().refreshToken());
    // The lease's end passes, by the database's clock: as if its holder froze for a minute.
    endLease(database, first);
    assertFalse(late.save(Tokens.of("access-late", "refresh-late")), "ended, and no one took it");

    try (Lease next = second.lease(0)) {
      assertEquals("refresh-0", next.load().refreshToken());
      assertTrue(next.save(Tokens.of("access-1", "refresh-1")));
    }
    assertFalse(late.save(Tokens.of("access-late", "refresh-late")), "another holder saved");
    late.close(); // Releases nothing of the other holder's.
    assertEquals(Tokens.of("access-1", "refresh-1"), first.load());
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void aRowWrittenByHandWithANewerVersionWins(TestDatabase database) throws Exception {
    JdbcTokenStore store = database.newTable().key("by-hand").build();
    store.save(Tokens.of("access-0", "refresh-0"));
    String byHand =
        "{\"version\":1,\"access_token\":\"access-hand\",\"refresh_token\":\"refresh-hand\"}";
    try (Lease lease = store.lease(1_000)) {
      lease.load();
      assertEquals(
          1,
          database.update(
              "UPDATE "
                  + store.table.name
                  + " SET tokens = ?, version = version + 1 WHERE session_key = ?",
              byHand,
              store.key));
      assertFalse(lease.save(Tokens.of("access-1", "refresh-1")));
    }
    assertEquals(Tokens.of("access-hand", "refresh-hand"), store.load());
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void aSignInOrSignOutDuringALeaseEndsItsRightToSave(TestDatabase database) throws Exception {
    JdbcTokenStore store = database.newTable().key("sign-in").build();
    store.save(Tokens.of("access-0", "refresh-0"));
    try (Lease lease = store.lease(1_000)) {
      lease.load();
      store.save(Tokens.of("access-user", "refresh-user")); // The user signs in again.
      assertFalse(lease.save(Tokens.of("access-1", "refresh-1")));
    }
    assertEquals(Tokens.of("access-user", "refresh-user"), store.load());
    try (Lease lease = store.lease(1_000)) {
      lease.load();
      store.clear(); // The user signs out.
      assertFalse(lease.save(Tokens.of("access-2", "refresh-2")));
    }
    assertNull(store.load());
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void aLeaseIsRenewedWhileHeldBeyondItsTtl(TestDatabase database) throws Exception {
    JdbcTokenStore.Builder builder =
        database.newTable().key("renewed").leaseTtl(300, TimeUnit.MILLISECONDS);
    JdbcTokenStore first = builder.build();
    JdbcTokenStore second = builder.build();
    try (Lease held = first.lease(1_000)) {
      held.load();
      // Three TTLs: without renewals, the second store would have taken it.
      assertThrows(InterruptedIOException.class, () -> second.lease(900));
      assertTrue(held.save(Tokens.of("access-1")));
    }
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void aHolderThatStopsRenewingBlocksTheOthersForAtMostTheTtl(TestDatabase database)
      throws Exception {
    JdbcTokenStore.Builder builder =
        database.newTable().key("stopped").leaseTtl(500, TimeUnit.MILLISECONDS);
    JdbcTokenStore first = builder.build();
    JdbcTokenStore second = builder.build();
    JdbcLease dead = (JdbcLease) first.lease(1_000);
    dead.stopRenewal(); // As a process that died.
    long start = System.nanoTime();
    try (Lease next = second.lease(30_000)) {
      long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(waitedMillis < 500 + 5_000, "waited " + waitedMillis + " ms");
      next.load();
      assertTrue(next.save(Tokens.of("access-1")));
    }
    dead.load();
    assertFalse(dead.save(Tokens.of("access-dead")));
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void aLeaseThatIsNeverClosedEndsAfterTheLongestHold(TestDatabase database) throws Exception {
    JdbcTokenStore.Builder builder =
        database
            .newTable()
            .key("forgotten")
            .leaseTtl(300, TimeUnit.MILLISECONDS)
            .maxLeaseHold(300, TimeUnit.MILLISECONDS);
    Lease forgotten = builder.build().lease(1_000);
    try (Lease next = builder.build().lease(30_000)) {
      assertNull(next.load());
    }
    assertTrue(forgotten.toString().startsWith("JdbcLease{session 'forgotten'"));
  }

  /**
   * Threads with stores of their own increment a counter in the row, each inside a lease: no two
   * leases are ever held at once, and no increment is lost.
   */
  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void contendingHoldersTakeTurnsAndLoseNoSave(TestDatabase database) throws Exception {
    JdbcTokenStore.Builder builder = database.newTable().key("contended");
    builder.build().save(Tokens.of("0"));
    AtomicInteger holders = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    List<Future<Void>> workers = new ArrayList<>();
    int threads = 4;
    for (int t = 0; t < threads; t++) {
      JdbcTokenStore store = builder.build();
      workers.add(
          executor.submit(
              () -> {
                for (int round = 0; round < CONTENTION_ROUNDS; round++) {
                  try (Lease lease = store.lease(60_000)) {
                    if (holders.incrementAndGet() != 1) overlaps.incrementAndGet();
                    int count = Integer.parseInt(lease.load().accessToken());
                    assertTrue(lease.save(Tokens.of(Integer.toString(count + 1))));
                    holders.decrementAndGet();
                  }
                }
                return null;
              }));
    }
    for (Future<Void> worker : workers) worker.get(120, TimeUnit.SECONDS);
    assertEquals(0, overlaps.get());
    assertEquals(
        Integer.toString(threads * CONTENTION_ROUNDS), builder.build().load().accessToken());
  }

  /** Moves the lease's end into the past by the database's clock, as its TTL passing would. */
  private static void endLease(TestDatabase database, JdbcTokenStore store) throws Exception {
    assertEquals(
        1,
        database.update(
            "UPDATE "
                + store.table.name
                + " SET lease_until = CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT)"
                + " - 1 WHERE session_key = ?",
            store.key));
  }
}
