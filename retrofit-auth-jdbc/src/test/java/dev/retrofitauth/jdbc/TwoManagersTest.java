package dev.retrofitauth.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.retrofitauth.Tokens;
import dev.retrofitauth.fleet.FleetServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two managers in one JVM with a store each on one row, as two processes would have, on PostgreSQL
 * and on H2, against a token server that rotates refresh tokens and ends the session when one is
 * presented twice: concurrent 401s on both make one refresh per expiry.
 */
final class TwoManagersTest {
  private static final int CALLS_PER_MANAGER = 25;

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void concurrent401sOnTwoManagersMakeOneRefreshPerExpiry(TestDatabase database) throws Exception {
    JdbcTokenStore.Builder row = database.newTable().key("two-managers");
    try (FleetServer server = new FleetServer("access-0", "refresh-0")) {
      ManagedCalls a = new ManagedCalls(server, row.build(), 30_000);
      a.auth.signIn(Tokens.of("access-0", "refresh-0"));
      ManagedCalls b = new ManagedCalls(server, row.build(), 30_000);
      assertEquals("access-0", b.auth.currentTokens().accessToken(), "b loads a's sign-in");

      for (int expiry = 1; expiry <= 3; expiry++) {
        server.expireAccessToken();
        List<CompletableFuture<Integer>> results = new ArrayList<>();
        results.addAll(a.calls(CALLS_PER_MANAGER));
        results.addAll(b.calls(CALLS_PER_MANAGER));
        for (CompletableFuture<Integer> result : results) {
          assertEquals(200, result.get(30, TimeUnit.SECONDS));
        }
        assertEquals(expiry, server.refreshes(), "one refresh per expiry");
        assertEquals(0, server.reusedRefreshTokens());
        assertEquals("access-" + expiry, a.auth.currentTokens().accessToken());
        assertEquals("access-" + expiry, b.auth.currentTokens().accessToken());
        assertEquals("refresh-" + expiry, row.build().load().refreshToken());
      }
    }
  }
}
