package dev.retrofitauth.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Tokens;
import java.io.File;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The fleet runs that every shared store must pass, each on a store given as a {@link FleetWorker}
 * store argument: one for the file store's tests, the Redis store's and the SQL store's.
 */
public final class FleetScenarios {
  /**
   * Eight worker processes × 200 concurrent calls refresh once per expiry, for {@code expiries}
   * expiries, with no refresh token presented twice; then the lease holder is killed while the
   * token server holds its refresh open, and the seven others wait at most the lease's TTL (plus a
   * margin for a slow machine), refresh once, and go on. {@code stored} reads the shared store,
   * which starts with {@code access-0} and {@code refresh-0}.
   */
  public static void refreshOncePerExpiryAndOutliveAKilledHolder(
      File directory, String store, long leaseTtlMillis, int expiries, Callable<Tokens> stored)
      throws Exception {
    try (FleetServer server = new FleetServer("access-0", "refresh-0")) {
      Fleet fleet = new Fleet(8, directory, server.url("/").toString(), store, "200", "refresh");
      try {
        assertAllSucceeded(fleet.round(), 8, 200);
        for (int expiry = 1; expiry <= expiries; expiry++) {
          server.expireAccessToken();
          List<Fleet.Round> rounds = fleet.round();
          assertAllSucceeded(rounds, 8, 200);
          assertEquals(expiry, server.refreshes(), "refreshes after expiry " + expiry);
          assertEquals(0, server.reusedRefreshTokens());
          assertOneLeasePerProcessAndOneSave(rounds);
        }
        Tokens last = stored.call();
        assertEquals("access-" + expiries, last.accessToken());
        assertEquals("refresh-" + expiries, last.refreshToken());

        server.expireAccessToken();
        server.holdNextRefresh();
        fleet.startRound();
        String holder = server.awaitHeld();
        fleet.kill(holder); // Its lease is no longer renewed, and ends at its TTL.
        List<Fleet.Round> rounds = fleet.finishRound();
        assertEquals(7, rounds.size());
        for (Fleet.Round round : rounds) assertNotEquals(holder, round.worker);
        assertAllSucceeded(rounds, 7, 200);
        assertEquals(expiries + 1, server.refreshes()); // The held one never reached its logic.
        assertEquals(0, server.reusedRefreshTokens());
        long longestWaitMillis = 0;
        for (Fleet.Round round : rounds) {
          for (long wait : round.leaseWaitMicros) {
            longestWaitMillis = Math.max(longestWaitMillis, wait / 1000);
          }
        }
        // The TTL after the kill, plus the time the holder had it before: generous for slow CI.
        assertTrue(
            longestWaitMillis < leaseTtlMillis + 5_000, "a lease wait of " + longestWaitMillis);
        server.releaseHeld();

        server.expireAccessToken();
        assertAllSucceeded(fleet.round(), 7, 200);
        assertEquals(expiries + 2, server.refreshes());
        assertEquals(0, server.reusedRefreshTokens());
      } finally {
        fleet.close(); // Not in try-with-resources: its close() throws InterruptedException.
      }
    }
  }

  /** Eight worker processes start at once on one machine token: one client-credentials grant. */
  public static void startAtOnceAndFetchOneMachineToken(File directory, String store)
      throws Exception {
    try (FleetServer server = new FleetServer("none", "none")) {
      Fleet fleet = new Fleet(8, directory, server.url("/").toString(), store, "50", "source");
      try {
        assertAllSucceeded(fleet.round(), 8, 50);
        assertEquals(1, server.clientCredentialsGrants());
      } finally {
        fleet.close();
      }
    }
  }

  /** The single flight stays in front: a process asks for the lease once per expiry. */
  public static void assertOneLeasePerProcessAndOneSave(List<Fleet.Round> rounds) {
    int saves = 0;
    for (Fleet.Round round : rounds) {
      assertEquals(1, round.leaseWaitMicros.size(), round.worker + "'s leases");
      saves += round.windowMicros.size();
    }
    assertEquals(1, saves, "refreshes saved across the fleet");
  }

  public static void assertAllSucceeded(List<Fleet.Round> rounds, int workers, int calls) {
    assertEquals(workers, rounds.size());
    for (Fleet.Round round : rounds) {
      assertEquals(
          calls,
          round.succeeded,
          round.worker + " failed " + round.failed + ": " + round.firstFailure);
    }
  }

  private FleetScenarios() {}
}
