package dev.retrofitauth.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.SharedTokenStore.Lease;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Redis is killed in the middle of a run, then started again on the same port. */
final class RedisDownTest {
  private static final String KEY = "test:tokens:down";
  private TestRedis redis;
  private RedisTokenStore store;

  @BeforeEach
  void startRedis() throws IOException {
    redis = TestRedis.start();
    store =
        RedisTokenStore.builder(redis.connect())
            .key(KEY)
            .timeout(250, TimeUnit.MILLISECONDS)
            .build();
  }

  @AfterEach
  void stopRedis() {
    redis.close();
  }

  @Test
  void everyOperationFailsWithinTheTimeoutAndWorksAgainWhenRedisIsBack() throws IOException {
    store.save(Tokens.of("access-1", "refresh-1"));
    Lease held = store.lease(1000);
    held.load();

    redis.stopServer();

    assertTimeoutPreemptively(
        Duration.ofSeconds(5),
        () -> {
          IOException load = assertThrows(IOException.class, store::load);
          assertEquals(
              "loading Redis key " + KEY + ": no answer from Redis within 250 ms",
              load.getMessage());
          IOException save =
              assertThrows(IOException.class, () -> store.save(Tokens.of("access-2")));
          assertEquals(
              "saving Redis key " + KEY + ": no answer from Redis within 250 ms",
              save.getMessage());
          IOException clear = assertThrows(IOException.class, store::clear);
          assertEquals(
              "clearing Redis key " + KEY + ": no answer from Redis within 250 ms",
              clear.getMessage());
          IOException lease = assertThrows(IOException.class, () -> store.lease(60_000));
          assertEquals(IOException.class, lease.getClass(), "not a timeout waiting for a holder");
          assertEquals(
              "taking the lease " + KEY + ":lease: no answer from Redis within 250 ms",
              lease.getMessage());
          IOException leaseSave =
              assertThrows(IOException.class, () -> held.save(Tokens.of("access-2")));
          assertEquals(
              "saving Redis key " + KEY + " in a lease: no answer from Redis within 250 ms",
              leaseSave.getMessage());
          held.close(); // Never throws.
        });

    redis.startServer(); // Empty: no persistence.

    // Lettuce reconnects on its own (every 10 ms here); until it has, a try fails in 250 ms.
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          IOException last = null;
          for (int attempt = 0; attempt < 10; attempt++) {
            try {
              assertNull(store.load());
              last = null;
              break;
            } catch (IOException e) {
              last = e;
            }
          }
          if (last != null) throw last;
          try (Lease lease = store.lease(1000)) {
            assertNull(lease.load());
            assertTrue(lease.save(Tokens.of("access-3", "refresh-3")));
          }
          assertEquals(Tokens.of("access-3", "refresh-3"), store.load());
        });
  }

  @Test
  void leaseTryThatTimedOutOnAHungRedisLeavesNoLeaseBehind() throws Exception {
    RedisTokenStore other = RedisTokenStore.builder(redis.connect()).key(KEY).build();
    redis.pause(); // Hung: the SET is sent, and runs once Redis answers again.
    IOException e = assertThrows(IOException.class, () -> store.lease(10_000));
    assertEquals(
        "taking the lease " + KEY + ":lease: no answer from Redis within 250 ms", e.getMessage());
    redis.resume();
    store.load(); // Same connection, so its SET and the release queued behind it have run.
    other.lease(0).close(); // Without that release, a lease no one holds would block for 10 s.
  }
}
