package dev.retrofitauth.benchmarks;

import com.zaxxer.hikari.HikariDataSource;
import dev.retrofitauth.TokenStore;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.fleet.Fleet;
import dev.retrofitauth.fleet.FleetServer;
import dev.retrofitauth.jdbc.FleetJdbcStore;
import dev.retrofitauth.jdbc.JdbcTokenStore;
import dev.retrofitauth.jdbc.TestPostgres;
import dev.retrofitauth.redis.FleetRedisStore;
import dev.retrofitauth.redis.RedisTokenStore;
import dev.retrofitauth.redis.TestRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A fleet of worker processes on one shared store, against a token server that rotates refresh
 * tokens and ends the session when one is presented twice: refreshes per expiry across the fleet,
 * the wait the lease adds, and the window between the token endpoint's answer and the save.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.retrofitauth.benchmarks.FleetBenchmark        # a file
 * java -cp benchmarks/target/benchmarks.jar dev.retrofitauth.benchmarks.FleetBenchmark redis  # Redis
 * java -cp benchmarks/target/benchmarks.jar dev.retrofitauth.benchmarks.FleetBenchmark postgres
 * </pre>
 *
 * <p>With {@code redis} it starts a redis-server of its own (the one the Redis module's tests use);
 * with {@code postgres}, a PostgreSQL of its own (the one the SQL module's tests use), which each
 * worker reaches through a HikariCP pool.
 */
public final class FleetBenchmark {
  // Held, so that the level stays: HikariCP logs its pool's start and stop at INFO.
  private static final Logger HIKARI = Logger.getLogger("com.zaxxer.hikari");

  public static void main(String[] args) throws Exception {
    HIKARI.setLevel(Level.WARNING);
    int processes = 8;
    int calls = 200;
    int expiries = 20;
    Path directory = Files.createTempDirectory("fleet");
    String kind = args.length > 0 ? args[0] : "file";
    boolean redis = kind.equals("redis");
    TestRedis server = redis ? TestRedis.start() : null;
    TestPostgres postgres = kind.equals("postgres") ? TestPostgres.start() : null;
    String store;
    if (postgres != null) {
      store = FleetJdbcStore.spec(postgres, "fleet", 10_000);
      try (HikariDataSource pool = postgres.pool(1)) {
        JdbcTokenStore.builder(pool).createTableIfMissing().key("fleet").build().save(first());
      }
    } else if (server != null) {
      store = "class:" + FleetRedisStore.class.getName() + ":" + server.port + ",fleet,10000";
      RedisClient client = RedisClient.create(RedisURI.create("127.0.0.1", server.port));
      try (StatefulRedisConnection<String, String> connection = client.connect()) {
        RedisTokenStore.builder(connection).key("fleet").build().save(first());
      } finally {
        client.shutdown();
      }
    } else {
      File file = directory.resolve("tokens.json").toFile();
      TokenStore.file(file).save(first());
      store = "file:" + file;
    }
    List<Integer> refreshesPerExpiry = new ArrayList<>();
    List<Long> waits = new ArrayList<>();
    List<Long> windows = new ArrayList<>();
    int failed = 0;
    List<String> failures = new ArrayList<>();
    int reused;
    try (FleetServer tokenServer = new FleetServer("access-0", "refresh-0");
        Fleet fleet =
            new Fleet(
                processes,
                directory.toFile(),
                tokenServer.url("/").toString(),
                store,
                Integer.toString(calls),
                "refresh")) {
      fleet.round(); // Warm: connections and classes.
      for (int expiry = 0; expiry < expiries; expiry++) {
        int before = tokenServer.refreshes();
        tokenServer.expireAccessToken();
        for (Fleet.Round round : fleet.round()) {
          failed += round.failed;
          if (round.failed > 0) failures.add(round.worker + ": " + round.firstFailure);
          waits.addAll(round.leaseWaitMicros);
          windows.addAll(round.windowMicros);
        }
        refreshesPerExpiry.add(tokenServer.refreshes() - before);
      }
      reused = tokenServer.reusedRefreshTokens();
    } finally {
      if (server != null) server.close();
      if (postgres != null) postgres.close();
    }
    System.out.printf(
        Locale.ROOT,
        "fleet: %d processes x %d calls, %d expiries, store %s%n"
            + "  refreshes per expiry across the fleet: %s%n"
            + "  refresh tokens presented twice: %d; failed calls: %d of %d %s%n"
            + "  lease wait: p50 %.1f ms, p99 %.1f ms (%d leases)%n"
            + "  answer-to-save window: p50 %.2f ms, p99 %.2f ms (%d refreshes)%n",
        processes,
        calls,
        expiries,
        redis ? "Redis" : postgres != null ? "PostgreSQL" : "file",
        refreshesPerExpiry,
        reused,
        failed,
        processes * calls * expiries,
        failures.isEmpty() ? "" : failures,
        percentile(waits, 50) / 1000.0,
        percentile(waits, 99) / 1000.0,
        waits.size(),
        percentile(windows, 50) / 1000.0,
        percentile(windows, 99) / 1000.0,
        windows.size());
  }

  private static Tokens first() {
    return Tokens.of("access-0", "refresh-0");
  }

  private static long percentile(List<Long> values, int percent) {
    if (values.isEmpty()) return 0L;
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int index = (int) Math.ceil(percent / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(index, sorted.size() - 1)));
  }

  private FleetBenchmark() {}
}
