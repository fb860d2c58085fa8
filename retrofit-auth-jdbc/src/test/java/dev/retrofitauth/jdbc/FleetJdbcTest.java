package dev.retrofitauth.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.fleet.FleetScenarios;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Worker processes (JVMs of their own) that share one session in a PostgreSQL row, against a token
 * server that rotates refresh tokens and ends the session when one is presented twice: the row's
 * lease lets one process refresh per expiry.
 */
final class FleetJdbcTest {
  /** Expiry rounds: 5, as the issue asks. */
  private static final int EXPIRIES = Integer.getInteger("retrofitauth.fleetExpiries", 5);

  private static final String KEY = "integration-1";

  @TempDir Path directory;
  private TestPostgres postgres;
  private HikariDataSource pool;

  @BeforeEach
  void startPostgres() throws Exception {
    postgres = TestPostgres.start();
    pool = postgres.pool(2);
    JdbcTokenStore.builder(pool).createTableIfMissing();
  }

  @AfterEach
  void stopPostgres() throws Exception {
    pool.close();
    postgres.close();
  }

  private JdbcTokenStore store() {
    return JdbcTokenStore.builder(pool).key(KEY).build();
  }

  /**
   * One fleet for both, since starting eight JVMs is most of the time: the expiries, then the lease
   * holder is killed while the token server holds its refresh request open.
   */
  @Test
  void eightProcessesRefreshOncePerExpiryAndAKilledHolderBlocksThemForAtMostTheTtl()
      throws Exception {
    store().save(Tokens.of("access-0", "refresh-0"));
    long ttlMillis = 1_000; // Renewed every 333 ms while held; a killed holder's ends in 1 s.
    FleetScenarios.refreshOncePerExpiryAndOutliveAKilledHolder(
        directory.toFile(),
        FleetJdbcStore.spec(postgres, KEY, ttlMillis),
        ttlMillis,
        EXPIRIES,
        store()::load);
  }

  @Test
  void eightProcessesStartingAtOnceFetchOneMachineToken() throws Exception {
    FleetScenarios.startAtOnceAndFetchOneMachineToken(
        directory.toFile(), FleetJdbcStore.spec(postgres, KEY, 10_000));
  }
}
