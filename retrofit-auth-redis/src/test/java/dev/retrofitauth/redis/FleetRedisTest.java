package dev.retrofitauth.redis;

import dev.retrofitauth.Tokens;
import dev.retrofitauth.fleet.FleetScenarios;
import java.nio.file.Path;
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
        FleetRedisStore.spec(redis, KEY, ttlMillis),
        ttlMillis,
        EXPIRIES,
        store()::load);
  }

  @Test
  void eightProcessesStartingAtOnceFetchOneMachineToken() throws Exception {
    FleetScenarios.startAtOnceAndFetchOneMachineToken(
        directory.toFile(), FleetRedisStore.spec(redis, KEY, 10_000));
  }
}
