package dev.retrofitauth.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.retrofitauth.TokenStore;
import java.util.concurrent.TimeUnit;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The store of a fleet worker process ({@code dev.retrofitauth.fleet.FleetWorker}, store argument
 * {@code class:dev.retrofitauth.jdbc.FleetJdbcStore:<port>,<session key>,<lease TTL in ms>}): a SQL
 * store on a PostgreSQL at that loopback port, through a HikariCP pool of the worker's own, which
 * ends with the process.
 */
public final class FleetJdbcStore {
  public static TokenStore create(String arg) {
    String[] parts = arg.split(",");
    PGSimpleDataSource postgres = new PGSimpleDataSource();
    postgres.setServerNames(new String[] {"127.0.0.1"});
    postgres.setPortNumbers(new int[] {Integer.parseInt(parts[0])});
    postgres.setDatabaseName("postgres");
    postgres.setUser("postgres");
    HikariConfig config = new HikariConfig();
    config.setDataSource(postgres);
    config.setMaximumPoolSize(4);
    config.setMinimumIdle(1);
    return JdbcTokenStore.builder(new HikariDataSource(config))
        .key(parts[1])
        .leaseTtl(Long.parseLong(parts[2]), TimeUnit.MILLISECONDS)
        .build();
  }

  public static String spec(TestPostgres postgres, String key, long leaseTtlMillis) {
    return "class:"
        + FleetJdbcStore.class.getName()
        + ":"
        + postgres.port
        + ","
        + key
        + ","
        + leaseTtlMillis;
  }

  private FleetJdbcStore() {}
}
