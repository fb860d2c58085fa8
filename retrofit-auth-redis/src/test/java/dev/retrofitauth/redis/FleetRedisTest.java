package dev.retrofitauth.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Tokens;
import dev.retrofitauth.fleet.Fleet;
import dev.retrofitauth.fleet.FleetServer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Worker processes (JVMs of their own) that share one session in Redis, against a token server that
 * rotates refresh tokens and ends the session when one is presented twice: the Redis lease lets one
 * process refresh per expiry.
 */
final class FleetRedisTest {
  /** Expiry rounds: 5, as the issue asks. */
  private static final int EXPIRIES = Integer.getInteger("retrofitauth.fleetExpiries", 5);

  private static final String KEY = "fleet:tokens:{integration-1}";

  @TempDir Path directory;
  private TestRedis redis;

  @BeforeEach
  void startRedis() throws Exception {
    redis = TestRedis.start();
  }

  @AfterEach
  void stopRedis() {
    redis.close();
  }

  private RedisTokenStore store() {
    return RedisTokenStore.builder(redis.connect()).key(KEY).build();
  }

  /**
   * One fleet for both, since starting eight JVMs is most of the time: five expiries, then the
   * lease holder is killed while the token server holds its refresh request open.
   */
  @Test
  void eightProcessesRefreshOncePerExpiryAndAKilledHolderBlocksThemForAtMostTheTtl()
      throws Exception {
    store().save(Tokens.of("access-0", "refresh-0"));
    long ttlMillis = 1_000; // Renewed every 333 ms while held; a killed holder's ends in 1 s.
    try (FleetServer server = new FleetServer("access-0", "refresh-0")) {
      Fleet fleet =
          new Fleet(
              8,
              directory.toFile(),
              server.url("/").toString(),
              FleetRedisStore.spec(redis, KEY, ttlMillis),
              "200",
              "refresh");
      try {
        assertAllSucceeded(fleet.round(), 8, 200);
        for (int expiry = 1; expiry <= EXPIRIES; expiry++) {
          server.expireAccessToken();
          List<Fleet.Round> rounds = fleet.round();
          assertAllSucceeded(rounds, 8, 200);
          assertEquals(expiry, server.refreshes(), "refreshes after expiry " + expiry);
          assertEquals(0, server.reusedRefreshTokens());
          assertOneLeasePerProcessAndOneSave(rounds);
        }
        Tokens stored = store().load();
        assertEquals("access-" + EXPIRIES, stored.accessToken());
        assertEquals("refresh-" + EXPIRIES, stored.refreshToken());

        server.expireAccessToken();
        server.holdNextRefresh();
        fleet.startRound();
        String holder = server.awaitHeld();
        fleet.kill(holder); // Its renewal dies with it: Redis ends its lease at the TTL.
        List<Fleet.Round> rounds = fleet.finishRound();
        assertEquals(7, rounds.size());
        for (Fleet.Round round : rounds) assertNotEquals(holder, round.worker);
        assertAllSucceeded(rounds, 7, 200);
        assertEquals(EXPIRIES + 1, server.refreshes()); // The held one never reached its logic.
        assertEquals(0, server.reusedRefreshTokens());
        long longestWaitMillis = 0;
        for (Fleet.Round round : rounds) {
          for (long wait : round.leaseWaitMicros) {
            longestWaitMillis = Math.max(longestWaitMillis, wait / 1000);
          }
        }
        // The TTL after the kill, plus the time the holder had it before: generous for slow CI.
        assertTrue(longestWaitMillis < ttlMillis + 5_000, "a lease wait of " + longestWaitMillis);
        server.releaseHeld();

        server.expireAccessToken();
        assertAllSucceeded(fleet.round(), 7, 200);
        assertEquals(EXPIRIES + 2, server.refreshes());
        assertEquals(0, server.reusedRefreshTokens());
      } finally {
        fleet.close();
      }
    }
  }

  @Test
  void eightProcessesStartingAtOnceFetchOneMachineToken() throws Exception {
    try (FleetServer server = new FleetServer("none", "none")) {
      Fleet fleet =
          new Fleet(
              8,
              directory.toFile(),
              server.url("/").toString(),
              FleetRedisStore.spec(redis, KEY, 10_000),
              "50",
              "source");
      try {
        assertAllSucceeded(fleet.round(), 8, 50);
        assertEquals(1, server.clientCredentialsGrants());
      } finally {
        fleet.close(); // Not in try-with-resources: its close() throws InterruptedException.
      }
    }
  }

  /** The single flight stays in front: a process asks for the lease once per expiry. */
  private static void assertOneLeasePerProcessAndOneSave(List<Fleet.Round> rounds) {
    int saves = 0;
    for (Fleet.Round round : rounds) {
      assertEquals(1, round.leaseWaitMicros.size(), round.worker + "'s leases");
      saves += round.windowMicros.size();
    }
    assertEquals(1, saves, "refreshes saved across the fleet");
  }

  private static void assertAllSucceeded(List<Fleet.Round> rounds, int workers, int calls) {
    assertEquals(workers, rounds.size());
    for (Fleet.Round round : rounds) {
      assertEquals(
          calls,
          round.succeeded,
          round.worker + " failed " + round.failed + ": " + round.firstFailure);
    }
  }
}
