package dev.retrofitauth.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.SharedTokenStore.Lease;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Workers on their own connections increment a counter kept in the tokens, each increment inside a
 * lease: with mutual exclusion and versioned saves, no increment is lost. {@code mvn -B verify
 * -Pstress} runs many more rounds.
 */
final class LeaseContentionTest {
  private static final int WORKERS = 6;
  private static final int ROUNDS = Integer.getInteger("retrofitauth.redisContentionRounds", 20);

  @Test
  void leasesAreExclusiveAndNoSaveIsLost() throws Exception {
    ExecutorService executor = Executors.newFixedThreadPool(WORKERS);
    try (TestRedis redis = TestRedis.start()) {
      RedisTokenStore first =
          RedisTokenStore.builder(redis.connect()).key("test:tokens:contention").build();
      first.save(Tokens.of("count-0"));
      AtomicInteger holders = new AtomicInteger();
      AtomicInteger overlaps = new AtomicInteger();
      CountDownLatch ready = new CountDownLatch(WORKERS);
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        RedisTokenStore store =
            RedisTokenStore.builder(redis.connect()).key("test:tokens:contention").build();
        workers.add(
            executor.submit(
                () -> {
                  ready.countDown();
                  ready.await();
                  for (int round = 0; round < ROUNDS; round++) increment(store, holders, overlaps);
                  return null;
                }));
      }
      for (Future<?> worker : workers) worker.get(120, TimeUnit.SECONDS);
      assertEquals(0, overlaps.get(), "two holders at once");
      assertEquals(Tokens.of("count-" + WORKERS * ROUNDS), first.load());
    } finally {
      executor.shutdownNow();
    }
  }

  private static void increment(
      RedisTokenStore store, AtomicInteger holders, AtomicInteger overlaps) throws IOException {
    try (Lease lease = store.lease(60_000)) {
      if (holders.incrementAndGet() != 1) overlaps.incrementAndGet();
      Tokens tokens = lease.load();
      int count = Integer.parseInt(tokens.accessToken().substring("count-".length()));
      assertTrue(lease.save(Tokens.of("count-" + (count + 1))));
      holders.decrementAndGet();
    }
  }
}
