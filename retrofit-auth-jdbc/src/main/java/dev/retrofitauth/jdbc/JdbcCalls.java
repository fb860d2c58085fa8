package dev.retrofitauth.jdbc;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Runs one unit of work on a connection of the app's {@link DataSource} and waits for it at most
 * the store's timeout, turning every failure into an {@link IOException} that says what was being
 * done and to which session, and never holds a token.
 *
 * <p>The work runs on a thread of its own (a shared pool of daemon threads that end when idle), so
 * that the timeout covers everything a driver may block in: taking a connection from a pool,
 * connecting, and the statement. When it ends, the connection is {@linkplain Connection#abort
 * aborted}, which frees the thread and, with a pool, drops the connection; a connection that
 * arrives after that is closed at once. A statement the database already received may still run:
 * each is a transaction of its own, and a lease taken that way ends at its TTL.
 */
final class JdbcCalls {
  /** What to do with a connection, in auto-commit mode. */
  interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  /**
   * At most this many database calls at once in the process: a driver stuck connecting (no login
   * timeout, a server that drops packets) holds its thread past the timeout, and new calls must not
   * add threads without end.
   */
  static final int MAX_THREADS = 64;

  private static final ThreadPoolExecutor THREADS = newThreads();

  private final DataSource dataSource;
  final long timeoutMillis;
  // Statements' own timeout, in whole seconds (JDBC's unit), as a second line of defence.
  private final int queryTimeoutSeconds;

  JdbcCalls(DataSource dataSource, long timeoutMillis) {
    this.dataSource = dataSource;
    this.timeoutMillis = timeoutMillis;
    this.queryTimeoutSeconds = (int) Math.min(Integer.MAX_VALUE, (timeoutMillis + 999) / 1000);
  }

  private static ThreadPoolExecutor newThreads() {
    AtomicInteger count = new AtomicInteger();
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            0,
            MAX_THREADS,
            10,
            TimeUnit.SECONDS,
            new SynchronousQueue<Runnable>(),
            runnable -> {
              Thread thread = new Thread(runnable, "retrofit-auth-jdbc " + count.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    return executor;
  }

  /** For {@code Statement.setQueryTimeout}: the timeout in whole seconds, rounded up. */
  int queryTimeoutSeconds() {
    return queryTimeoutSeconds;
  }

  /**
   * Runs {@code work} and waits for it. {@code what} names the operation and the session, as in
   * {@code "loading session 'user-42' from table retrofit_auth_session"}. {@code carriesTokens}
   * says that a statement's parameters hold tokens: then the database's message is left out of a
   * failure, since some databases quote a parameter in their messages.
   */
  <T> T call(String what, boolean carriesTokens, Work<T> work) throws IOException {
    Attempt<T> attempt = new Attempt<>(dataSource, work);
    Future<T> future;
    try {
      future = THREADS.submit(attempt::run);
    } catch (RuntimeException e) {
      throw new IOException(
          what
              + ": "
              + MAX_THREADS
              + " database calls of this process are still waiting for the database; failing"
              + " this one at once",
          e);
    }
    try {
      return future.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      attempt.abandon();
      future.cancel(true);
      throw new IOException(what + ": no answer from the database within " + timeoutMillis + " ms");
    } catch (InterruptedException e) {
      attempt.abandon();
      future.cancel(true);
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted = new InterruptedIOException(what + ": interrupted");
      interrupted.initCause(e);
      throw interrupted;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof SQLException) throw failure(what, (SQLException) cause, carriesTokens);
      if (cause instanceof Error) throw (Error) cause;
      throw new IOException(
          what
              + ": the database call failed with "
              + (cause != null ? cause.getClass().getName() : "an unknown failure"),
          carriesTokens ? null : cause);
    } catch (CancellationException e) {
      throw new IOException(what + ": the database call was cancelled", e);
    }
  }

  /** Runs {@code task} on a database thread, without waiting for it: a lease's renewal. */
  void submit(Runnable task) {
    try {
      THREADS.execute(task);
    } catch (RuntimeException e) {
      // No thread: this renewal is skipped, and the next one tries again.
    }
  }

  /**
   * Runs one statement that changes rows, with {@code parameters} (strings, longs, or null for a
   * NULL string), and returns how many rows it changed.
   */
  int update(Connection connection, String sql, @Nullable Object... parameters)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setQueryTimeout(queryTimeoutSeconds);
      for (int i = 0; i < parameters.length; i++) {
        Object parameter = parameters[i];
        if (parameter == null) statement.setNull(i + 1, Types.VARCHAR);
        else if (parameter instanceof Long) statement.setLong(i + 1, (Long) parameter);
        else statement.setString(i + 1, (String) parameter);
      }
      return statement.executeUpdate();
    }
  }

  /** One call's connection, which the waiting thread aborts when it gives up. */
  private static final class Attempt<T> {
    private final DataSource dataSource;
    private final Work<T> work;
    private @Nullable Connection connection;
    private boolean abandoned;

    Attempt(DataSource dataSource, Work<T> work) {
      this.dataSource = dataSource;
      this.work = work;
    }

    T run() throws SQLException {
      Connection connection = null;
      try {
        connection = takeConnection();
        if (connection == null) throw new SQLException("abandoned");
        boolean autoCommit = connection.getAutoCommit();
        if (!autoCommit) connection.setAutoCommit(true);
        try {
          return work.run(connection);
        } finally {
          if (!autoCommit) connection.setAutoCommit(false);
        }
      } finally {
        if (connection != null) closeQuietly(connection);
      }
    }

    private @Nullable Connection takeConnection() throws SQLException {
      Connection taken = null;
      // Taken outside the lock: the data source may block for as long as it likes.
      try {
        taken = dataSource.getConnection();
      } finally {
        synchronized (this) {
          if (abandoned && taken != null) {
            abortQuietly(taken);
            taken = null;
          }
          connection = taken;
        }
      }
      return taken;
    }

    void abandon() {
      Connection current;
      synchronized (this) {
        abandoned = true;
        current = connection;
      }
      if (current != null) abortQuietly(current);
    }
  }

  private static void abortQuietly(Connection connection) {
    try {
      connection.abort(Runnable::run);
    } catch (SQLException | RuntimeException | AbstractMethodError e) {
      closeQuietly(connection);
    }
  }

  private static void closeQuietly(Connection connection) {
    try {
      connection.close();
    } catch (SQLException | RuntimeException e) {
      // Closing a broken connection can fail; there is nothing more to do with it.
    }
  }

  /**
   * A message for a failed statement: what was being done, and why, with advice for the failures an
   * app can fix. The database's own message is kept unless the statement carried tokens.
   */
  IOException failure(String what, SQLException e, boolean carriesTokens) {
    String state = e.getSQLState() != null ? e.getSQLState() : "";
    String reason;
    if (state.startsWith("08")) {
      reason = "cannot connect to the database: " + e.getMessage();
      carriesTokens = false; // Connection failures quote no parameter.
    } else if (state.equals("42P01") || state.equals("42S02") || state.equals("42S04")) {
      reason =
          "the table does not exist: create it with the DDL in retrofit-auth-jdbc's README, or"
              + " call JdbcTokenStore.Builder.createTableIfMissing() once";
    } else if (state.equals("42703") || state.equals("42S22")) {
      reason = "the table lacks a column; compare it with the DDL in retrofit-auth-jdbc's README";
    } else if (state.equals("57014")) {
      reason = "the database cancelled the statement at its query timeout";
    } else if (carriesTokens) {
      reason =
          "the database failed with SQLState "
              + (state.isEmpty() ? "(none)" : state)
              + ", error code "
              + e.getErrorCode()
              + " (its message is left out: it may quote the tokens)";
    } else {
      reason = "the database failed (SQLState " + state + "): " + e.getMessage();
    }
    return new IOException(what + ": " + reason, carriesTokens ? null : e);
  }
}
