package dev.retrofitauth.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import okhttp3.FormBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Worker processes (JVMs of their own) that act for the same users, each user's session in a Redis
 * hash of its own, against a token server that rotates each user's refresh token and ends a user's
 * session when one of its refresh tokens is presented twice: every process holds a {@link
 * dev.retrofitauth.SessionRegistry} with a keyed credential, and each user's lease lets one process
 * refresh that user once per expiry.
 */
final class FleetUsersRedisTest {
  /*
   * The sizes: 50 users and 5 expiries here, 200 and 20 with this module's -Pstress profile.
   * -Dretrofitauth.fleetUsers, -Dretrofitauth.fleetUserExpiries and -Dretrofitauth.fleetUserCalls
   * (calls per user and process in each round) set them directly.
   */
  private static final int WORKERS = 4;
  private static final int USERS = Integer.getInteger("retrofitauth.fleetUsers", 50);
  private static final int EXPIRIES = Integer.getInteger("retrofitauth.fleetUserExpiries", 5);
  private static final int CALLS_PER_USER = Integer.getInteger("retrofitauth.fleetUserCalls", 4);

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

  @Test
  void fourProcessesRefreshEachUserOncePerExpiryAndSendOnlyThatUsersToken() throws Exception {
    List<String> users = FleetUsersWorker.userIds(USERS);
    RedisTokenStore.Builder stores =
        RedisTokenStore.builder(redis.connect()).keyPrefix(FleetUsersWorker.KEY_PREFIX);
    try (FleetUsersServer server = new FleetUsersServer()) {
      for (String user : users) stores.buildFor(user).save(server.signIn(user));
      try (FleetUsers fleet =
          new FleetUsers(
              WORKERS,
              directory.toFile(),
              server.url("/").toString(),
              redis,
              USERS,
              CALLS_PER_USER)) {
        assertAllSucceeded(fleet.round());
        for (String user : users) assertEquals(0, server.refreshes(user), user);

        for (int expiry = 1; expiry <= EXPIRIES; expiry++) {
          server.expireAll();
          List<FleetUsers.Round> rounds = fleet.round();
          assertAllSucceeded(rounds);
          for (String user : users) {
            assertEquals(
                expiry,
                server.refreshes(user),
                user + "'s refreshes after expiry " + expiry + ", by " + server.refreshedBy(user));
          }
          assertEquals(0, server.reusedRefreshTokens(), "refresh tokens presented twice");
          assertEquals(0, server.crossedRefreshes(), "refresh tokens of another user");
          assertEquals(0, server.otherUsersTokens(), "calls with another user's token");
          assertOneLeasePerUserAndProcessAndOneSavePerUser(rounds, users);
        }

        // Each user's hash holds the tokens the server issued last; no lease is left behind.
        Set<String> expectedKeys = new HashSet<>();
        for (String user : users) {
          Tokens stored = stores.buildFor(user).load();
          assertNotNull(stored, user + " has no stored tokens");
          Tokens issued = server.current(user);
          assertEquals(issued.accessToken(), stored.accessToken(), user);
          assertEquals(issued.refreshToken(), stored.refreshToken(), user);
          assertFalse(server.sessionEnded(user), user);
          expectedKeys.add(FleetUsersWorker.KEY_PREFIX + "{" + user + "}");
        }
        assertEquals(
            expectedKeys,
            new HashSet<>(redis.connect().sync().keys(FleetUsersWorker.KEY_PREFIX + "*")));
      }
    }
  }

  /** The zeros above mean something only if the server catches what they count. */
  @Test
  void serverRejectsAnotherUsersTokensAndEndsASessionWhoseRefreshTokenIsReused() throws Exception {
    OkHttpClient client = new OkHttpClient();
    try (FleetUsersServer server = new FleetUsersServer()) {
      Tokens alice = server.signIn("alice");
      Tokens bob = server.signIn("bob");
      assertEquals(200, call(client, server, "alice", alice.accessToken()));
      assertEquals(403, call(client, server, "bob", alice.accessToken()));
      assertEquals(1, server.otherUsersTokens());

      assertEquals(400, refresh(client, server, "bob", alice.refreshToken()));
      assertEquals(1, server.crossedRefreshes());
      assertEquals(0, server.refreshes("alice"));

      assertEquals(200, refresh(client, server, "alice", alice.refreshToken()));
      assertEquals(401, call(client, server, "alice", alice.accessToken()));
      assertEquals(200, call(client, server, "alice", server.current("alice").accessToken()));
      assertEquals(400, refresh(client, server, "alice", alice.refreshToken()));
      assertEquals(1, server.reusedRefreshTokens());
      assertTrue(server.sessionEnded("alice"));
      assertEquals(401, call(client, server, "alice", server.current("alice").accessToken()));

      assertFalse(server.sessionEnded("bob"));
      server.expireAll();
      assertEquals(401, call(client, server, "bob", bob.accessToken()));
      assertEquals(200, refresh(client, server, "bob", bob.refreshToken()));
      assertEquals(200, call(client, server, "bob", server.current("bob").accessToken()));
    } finally {
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
  }

  private static int call(
      OkHttpClient client, FleetUsersServer server, String user, String accessToken)
      throws IOException {
    Request request =
        new Request.Builder()
            .url(server.url("/users/" + user + "/data"))
            .header("Authorization", "Bearer " + accessToken)
            .build();
    try (Response response = client.newCall(request).execute()) {
      if (response.code() == 200) assertEquals(user, response.body().string());
      return response.code();
    }
  }

  private static int refresh(
      OkHttpClient client, FleetUsersServer server, String user, String refreshToken)
      throws IOException {
    Request request =
        new Request.Builder()
            .url(server.url("/token"))
            .header("X-Fleet-User", user)
            .post(
                new FormBody.Builder()
                    .add("grant_type", "refresh_token")
                    .add("refresh_token", refreshToken)
                    .build())
            .build();
    try (Response response = client.newCall(request).execute()) {
      return response.code();
    }
  }

  /**
   * Each process's single flight stays in front of each user's lease: a process asks for a user's
   * lease once per expiry, and one process in the fleet saves that user's refresh.
   */
  private static void assertOneLeasePerUserAndProcessAndOneSavePerUser(
      List<FleetUsers.Round> rounds, List<String> users) {
    for (int u = 0; u < users.size(); u++) {
      int saves = 0;
      for (FleetUsers.Round round : rounds) {
        assertEquals(1, round.leases[u], round.worker + "'s leases for " + users.get(u));
        saves += round.saves[u];
      }
      assertEquals(1, saves, users.get(u) + "'s refreshes saved across the fleet");
    }
  }

  private static void assertAllSucceeded(List<FleetUsers.Round> rounds) {
    assertEquals(WORKERS, rounds.size());
    for (FleetUsers.Round round : rounds) {
      assertEquals(
          USERS * CALLS_PER_USER,
          round.succeeded,
          round.worker + " failed " + round.failed + ": " + round.firstFailure);
      assertEquals(0, round.failed, round.worker + "'s first failure: " + round.firstFailure);
    }
  }
}
