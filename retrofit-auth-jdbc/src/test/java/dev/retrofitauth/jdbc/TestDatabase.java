package dev.retrofitauth.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;

/**
 * The databases every store test runs on: a real PostgreSQL (one server for the test JVM, stopped
 * when it exits, behind a HikariCP pool of 8) and H2 in PostgreSQL mode, in memory. Each test takes
 * a table of its own, made with the store's own {@code createTableIfMissing()}, and reads or writes
 * rows by hand through plain JDBC, as an operator would.
 */
public final class TestDatabase {
  private static final AtomicInteger TABLES = new AtomicInteger();
  private static TestPostgres postgres;
  private static DataSource postgresPool;

  private final String name;
  public final DataSource dataSource;

  private TestDatabase(String name, DataSource dataSource) {
    this.name = name;
    this.dataSource = dataSource;
  }

  /** The arguments of a {@code @ParameterizedTest} that runs on both databases. */
  public static Stream<TestDatabase> both() {
    return Stream.of(postgres(), h2());
  }

  public static synchronized TestDatabase postgres() {
    if (postgres == null) {
      try {
        postgres = TestPostgres.start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      TestPostgres started = postgres;
      HikariDataSource pool = started.pool(8);
      postgresPool = pool;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    pool.close();
                    try {
                      started.close();
                    } catch (IOException ignored) {
                      // The JVM is ending; the data directory is temporary.
                    }
                  },
                  "stop postgres"));
    }
    return new TestDatabase("PostgreSQL", postgresPool);
  }

  public static TestDatabase h2() {
    JdbcDataSource dataSource = new JdbcDataSource();
    dataSource.setURL(
        "jdbc:h2:mem:retrofit-auth-"
            + TABLES.incrementAndGet()
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1");
    return new TestDatabase("H2", dataSource);
  }

  /** A builder on this database, with no table yet. */
  public JdbcTokenStore.Builder newBuilder() {
    return JdbcTokenStore.builder(dataSource);
  }

  /** A builder on a new table of this database, created with {@code createTableIfMissing()}. */
  public JdbcTokenStore.Builder newTable() throws IOException {
    return JdbcTokenStore.builder(dataSource)
        .table("test_session_" + TABLES.incrementAndGet())
        .createTableIfMissing();
  }

  /** Runs {@code sql} with {@code parameters} by hand and returns the rows it changed. */
  public int update(String sql, Object... parameters) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) statement.setObject(i + 1, parameters[i]);
      return statement.executeUpdate();
    }
  }

  /** The first column of the first row of {@code sql}, or null if there is no row. */
  public Object query(String sql, Object... parameters) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) statement.setObject(i + 1, parameters[i]);
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next() ? rows.getObject(1) : null;
      }
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
