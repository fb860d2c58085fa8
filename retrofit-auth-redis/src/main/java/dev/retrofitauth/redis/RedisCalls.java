package dev.retrofitauth.redis;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandInterruptedException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Sends one command and waits for its answer at most the store's timeout, turning every failure
 * into an {@link IOException} that says what was being done and to which key, and never holds a
 * token: commands' arguments are never part of a message.
 */
final class RedisCalls {
  private final StatefulRedisConnection<String, String> connection;
  final long timeoutMillis;

  RedisCalls(StatefulRedisConnection<String, String> connection, long timeoutMillis) {
    this.connection = connection;
    this.timeoutMillis = timeoutMillis;
  }

  RedisAsyncCommands<String, String> async() {
    return connection.async();
  }

  /**
   * Sends {@code command} and waits for it. {@code what} names the operation and the key, as in
   * {@code "loading Redis key app:tokens:42"}.
   */
  <T> T call(String what, Function<RedisAsyncCommands<String, String>, RedisFuture<T>> command)
      throws IOException {
    RedisFuture<T> future;
    try {
      future = command.apply(connection.async());
    } catch (RuntimeException e) {
      throw failure(what, e);
    }
    try {
      return future.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // A command still waiting to be written (Redis is away and Lettuce reconnects) is dropped,
      // so that a write this call reported as failed does not happen later.
      future.cancel(true);
      throw new IOException(what + ": no answer from Redis within " + timeoutMillis + " ms");
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted = new InterruptedIOException(what + ": interrupted");
      interrupted.initCause(e);
      throw interrupted;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw failure(what, cause != null ? cause : e);
    } catch (CancellationException e) {
      throw new IOException(what + ": the Redis command was cancelled", e);
    }
  }

  static IOException failure(String what, Throwable e) {
    if (e instanceof RedisCommandInterruptedException) {
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted = new InterruptedIOException(what + ": interrupted");
      interrupted.initCause(e);
      return interrupted;
    }
    String reason;
    if (e instanceof RedisCommandTimeoutException) {
      reason = "no answer from Redis in time (Lettuce's command timeout)";
    } else if (e instanceof RedisConnectionException) {
      reason = "cannot connect to Redis: " + e.getMessage();
    } else if (e instanceof RedisCommandExecutionException) {
      // Redis's own error, like "WRONGTYPE Operation against a key holding the wrong kind of
      // value"; Redis does not quote a command's arguments in its errors.
      reason = "Redis answered with an error: " + e.getMessage();
    } else if (e instanceof RedisException) {
      reason = "Redis failed: " + e.getMessage();
    } else {
      reason = "Redis failed: " + e.getClass().getName();
    }
    return new IOException(what + ": " + reason, e);
  }
}
