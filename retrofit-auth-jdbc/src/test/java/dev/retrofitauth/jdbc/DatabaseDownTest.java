package dev.retrofitauth.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.retrofitauth.SharedTokenStore.Lease;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.fleet.FleetServer;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A PostgreSQL server of this test's own, stopped as a crash would stop it in the middle of a run,
 * or frozen so that it answers nothing, then back: every operation fails within its timeout with an
 * error that names the session, the manager keeps its tokens, and one refresh follows.
 */
final class DatabaseDownTest {
  private static final String SESSION = "session 'down' in table retrofit_auth_session";

  private TestPostgres postgres;
  private HikariDataSource pool;

  @BeforeEach
  void start() throws IOException {
    postgres = TestPostgres.start();
    pool = postgres.pool(4);
  }

  @AfterEach
  void stop() throws IOException {
    pool.close();
    postgres.close();
  }

  @Test
  void aStoppedDatabaseFailsEveryOperationInTimeAndTheManagerRefreshesOnceWhenItIsBack()
      throws Exception {
    JdbcTokenStore.Builder row =
        JdbcTokenStore.builder(pool)
            .createTableIfMissing()
            .key("down")
            .timeout(500, TimeUnit.MILLISECONDS);
    JdbcTokenStore store = row.build();
    try (FleetServer server = new FleetServer("access-0", "refresh-0")) {
      ManagedCalls app = new ManagedCalls(server, store, 5_000);
      app.auth.signIn(Tokens.of("access-0", "refresh-0"));
      for (CompletableFuture<Integer> result : app.calls(5)) {
        assertEquals(200, result.get(30, TimeUnit.SECONDS));
      }
      Lease held = store.lease(1_000);
      held.load();

      postgres.stopServer();
      server.expireAccessToken();

      assertTimeoutPreemptively(
          Duration.ofSeconds(20),
          () -> {
            assertFailsNaming("loading " + SESSION, store::load);
            assertFailsNaming("saving " + SESSION, () -> store.save(Tokens.of("access-x")));
            assertFailsNaming("clearing " + SESSION, store::clear);
            assertFailsNaming("taking the lease of " + SESSION, () -> store.lease(60_000));
            assertFailsNaming(
                "saving " + SESSION + " in a lease", () -> held.save(Tokens.of("access-x")));
            held.close(); // Never throws.
            for (CompletableFuture<Integer> result : app.calls(5)) {
              ExecutionException e =
                  assertThrows(ExecutionException.class, () -> result.get(30, TimeUnit.SECONDS));
              assertTrue(
                  ManagedCalls.causes(e).contains("taking the lease of " + SESSION),
                  ManagedCalls.causes(e));
            }
          });
      assertEquals(0, server.refreshes(), "no refresh without the lease");
      assertEquals(Tokens.of("access-0", "refresh-0"), app.auth.currentTokens(), "tokens kept");

      postgres.startServer();
      // A pooled connection that died with the server fails once, and the pool drops it.
      awaitBack(store);
      for (CompletableFuture<Integer> result : app.calls(5)) {
        assertEquals(200, result.get(30, TimeUnit.SECONDS));
      }
      assertEquals(1, server.refreshes());
      assertEquals(0, server.reusedRefreshTokens());
      Tokens stored = store.load();
      assertEquals("access-1", stored.accessToken());
      assertEquals("refresh-1", stored.refreshToken());
    }
  }

  @Test
  void aDatabaseThatAnswersNothingFailsEachOperationWithinItsTimeout() throws Exception {
    JdbcTokenStore.builder(pool).createTableIfMissing();
    // No pool: every operation connects, and a frozen postmaster never answers a new connection.
    JdbcTokenStore store =
        JdbcTokenStore.builder(postgres.dataSource())
            .key("down")
            .timeout(300, TimeUnit.MILLISECONDS)
            .build();
    store.save(Tokens.of("access-0"));
    postgres.pause();
    try {
      assertTimeoutPreemptively(
          Duration.ofSeconds(10),
          () -> {
            IOException load = assertThrows(IOException.class, store::load);
            assertEquals(
                "loading " + SESSION + ": no answer from the database within 300 ms",
                load.getMessage());
            IOException lease = assertThrows(IOException.class, () -> store.lease(60_000));
            assertEquals(
                "taking the lease of " + SESSION + ": no answer from the database within 300 ms",
                lease.getMessage());
          });
    } finally {
      postgres.resume();
    }
    assertEquals("access-0", store.load().accessToken());
  }

  private static void assertFailsNaming(String what, ThrowingRunnable operation) {
    IOException e = assertThrows(IOException.class, operation::run);
    assertTrue(e.getMessage().startsWith(what + ": "), e.getMessage());
    assertTrue(!e.getMessage().contains("access-"), e.getMessage());
  }

  private static void awaitBack(JdbcTokenStore store) throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        store.load();
        return;
      } catch (IOException e) {
        if (attempt == 10) throw e;
      }
    }
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }
}
