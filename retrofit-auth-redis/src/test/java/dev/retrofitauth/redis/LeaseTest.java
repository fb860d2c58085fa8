package dev.retrofitauth.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.SharedTokenStore.Lease;
import dev.retrofitauth.Tokens;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two stores on two connections (two clients), as two processes would have, sharing one key. Each
 * test waits on futures with timeouts; a lease that must stay taken is checked by another store
 * failing to take it for longer than the TTL.
 */
final class LeaseTest {
  private static final AtomicInteger KEYS = new AtomicInteger();
  private static TestRedis redis;
  private static RedisCommands<String, String> raw;

  private final ExecutorService executor = Executors.newCachedThreadPool();
  private String key;

  @BeforeAll
  static void startRedis() throws IOException {
    redis = TestRedis.start();
    raw = redis.connect().sync();
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  @BeforeEach
  void newKey() {
    key = "test:tokens:lease-" + KEYS.incrementAndGet();
  }

  @AfterEach
  void stopExecutor() {
    executor.shutdownNow();
  }

  /** A store on a connection of its own, as another process would have. */
  private RedisTokenStore process(long leaseTtlMillis) {
    return RedisTokenStore.builder(redis.connect())
        .key(key)
        .leaseTtl(leaseTtlMillis, TimeUnit.MILLISECONDS)
        .timeout(5, TimeUnit.SECONDS)
        .build();
  }

  @Test
  void leaseIsExclusiveAcrossProcesses() throws Exception {
    RedisTokenStore a = process(10_000);
    RedisTokenStore b = process(10_000);
    Lease held = a.lease(0);

    InterruptedIOException busy = assertThrows(InterruptedIOException.class, () -> b.lease(0));
    assertEquals(
        "taking the lease " + key + ":lease: another process held it for all of the 0 ms timeout",
        busy.getMessage());

    AtomicBoolean released = new AtomicBoolean();
    CountDownLatch waiting = new CountDownLatch(1);
    Future<Boolean> bTook =
        executor.submit(
            () -> {
              waiting.countDown();
              Lease lease = b.lease(30_000);
              boolean afterRelease = released.get();
              lease.close();
              return afterRelease;
            });
    assertTrue(waiting.await(5, TimeUnit.SECONDS));
    released.set(true);
    held.close();
    assertTrue(bTook.get(5, TimeUnit.SECONDS), "b took the lease only after a released it");
  }

  @Test
  void closeReleasesAtOnceAndIsIdempotent() throws IOException {
    RedisTokenStore a = process(10_000);
    RedisTokenStore b = process(10_000);
    Lease lease = a.lease(0);
    assertEquals(1L, raw.exists(key + ":lease"));
    lease.close();
    lease.close();
    assertEquals(0L, raw.exists(key + ":lease"));
    b.lease(0).close();

    lease.load();
    assertFalse(lease.save(Tokens.of("late")), "a closed lease saves nothing");
    assertNull(a.load());
  }

  @Test
  void leaseSavesWithTheVersionItLoaded() throws IOException {
    RedisTokenStore a = process(10_000);
    a.save(Tokens.of("access-1", "refresh-1"));
    try (Lease lease = a.lease(1000)) {
      assertEquals(Tokens.of("access-1", "refresh-1"), lease.load());
      assertTrue(lease.save(Tokens.of("access-2", "refresh-2")));
      assertTrue(lease.save(Tokens.of("access-3", "refresh-3")), "its own save moves it on");
      assertEquals("3", raw.hget(key, "version"));
      assertTrue(lease.save(null), "null clears");
      assertNull(a.load());
    }
  }

  @Test
  void saveBeforeLoadIsAnError() throws IOException {
    try (Lease lease = process(10_000).lease(1000)) {
      assertEquals(
          "call load() before save()",
          assertThrows(IllegalStateException.class, () -> lease.save(Tokens.of("a"))).getMessage());
    }
  }

  @Test
  void leaseMayOverwriteAValueItCannotRead() throws IOException {
    // Whoever holds the lease may replace a value nobody can read (the manager does not: it
    // stops refreshing until a sign-in writes the store).
    RedisTokenStore a = process(10_000);
    raw.hset(key, "tokens", "{corrupt");
    raw.hset(key, "version", "7");
    try (Lease lease = a.lease(1000)) {
      assertThrows(IOException.class, lease::load);
      assertTrue(lease.save(Tokens.of("access-1", "refresh-1")));
    }
    assertEquals(Tokens.of("access-1", "refresh-1"), a.load());
    assertEquals("8", raw.hget(key, "version"));
  }

  @Test
  void signInDuringALeaseWinsOverItsSave() throws IOException {
    RedisTokenStore a = process(10_000);
    RedisTokenStore b = process(10_000);
    a.save(Tokens.of("access-1", "refresh-1"));
    try (Lease lease = a.lease(1000)) {
      lease.load();
      b.save(Tokens.of("signed-in", "refresh-x"));
      assertFalse(lease.save(Tokens.of("access-2", "refresh-2")));
    }
    assertEquals(Tokens.of("signed-in", "refresh-x"), a.load());

    try (Lease lease = a.lease(1000)) {
      lease.load();
      b.clear();
      assertFalse(lease.save(Tokens.of("access-2", "refresh-2")), "a sign-out wins too");
    }
    assertNull(a.load());
  }

  @Test
  void renewalKeepsALeaseAlivePastItsTtl() throws Exception {
    RedisTokenStore a = process(300);
    RedisTokenStore b = process(300);
    a.save(Tokens.of("access-1", "refresh-1"));
    try (Lease lease = a.lease(0)) {
      lease.load();
      // Five TTLs: without renewal, the lease would end after one and b would take it.
      long start = System.nanoTime();
      assertThrows(InterruptedIOException.class, () -> b.lease(1500));
      assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(1500));
      assertTrue(lease.save(Tokens.of("access-2", "refresh-2")), "still held, so it saves");
    }
    b.lease(0).close();
    assertEquals(Tokens.of("access-2", "refresh-2"), b.load());
  }

  @Test
  void holderThatStopsRenewingLosesTheLeaseAndItsLateSaveIsRefused() throws IOException {
    RedisTokenStore a = process(300);
    RedisTokenStore b = process(300);
    a.save(Tokens.of("access-1", "refresh-1"));

    RedisLease dead = (RedisLease) a.lease(0);
    assertEquals(Tokens.of("access-1", "refresh-1"), dead.load());
    dead.stopRenewal(); // As a process that died or froze: its lease ends at the TTL.

    try (Lease lease = b.lease(10_000)) {
      assertEquals(Tokens.of("access-1", "refresh-1"), lease.load());
      assertTrue(lease.save(Tokens.of("access-b", "refresh-b")));

      // The late writer: its lease ended, and b saved since its load.
      assertFalse(dead.save(Tokens.of("access-a", "refresh-a")));
      assertEquals(Tokens.of("access-b", "refresh-b"), a.load());

      // Closing it later does not release b's lease.
      dead.close();
      assertThrows(InterruptedIOException.class, () -> a.lease(0));
    }
    assertEquals(Tokens.of("access-b", "refresh-b"), a.load());
  }

  @Test
  void lateWriterIsRefusedEvenWhenNoOneHoldsTheLease() throws IOException {
    RedisTokenStore a = process(300);
    RedisTokenStore b = process(300);
    RedisLease dead = (RedisLease) a.lease(0);
    dead.load();
    dead.stopRenewal();
    try (Lease lease = b.lease(10_000)) {
      lease.load();
      assertTrue(lease.save(Tokens.of("access-b", "refresh-b")));
    }
    assertEquals(0L, raw.exists(key + ":lease"));
    assertFalse(dead.save(Tokens.of("access-a", "refresh-a")));
    assertEquals(Tokens.of("access-b", "refresh-b"), a.load());
  }

  @Test
  void aLeaseThatIsNeverClosedEndsAfterMaxLeaseHold() throws IOException {
    RedisTokenStore a =
        RedisTokenStore.builder(redis.connect())
            .key(key)
            .leaseTtl(200, TimeUnit.MILLISECONDS)
            .maxLeaseHold(600, TimeUnit.MILLISECONDS)
            .build();
    RedisTokenStore b = process(200);
    long start = System.nanoTime();
    a.lease(0); // Leaked: never closed.
    b.lease(10_000).close();
    long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(waitedMillis >= 600, "renewed until maxLeaseHold: " + waitedMillis + " ms");
  }

  @Test
  void waitingForTheLeaseIsInterruptible() throws Exception {
    RedisTokenStore a = process(10_000);
    RedisTokenStore b = process(10_000);
    Lease held = a.lease(0);
    try {
      CompletableFuture<Thread> waiter = new CompletableFuture<>();
      Future<Boolean> interrupted =
          executor.submit(
              () -> {
                waiter.complete(Thread.currentThread());
                InterruptedIOException e =
                    assertThrows(InterruptedIOException.class, () -> b.lease(60_000));
                assertEquals("taking the lease " + key + ":lease: interrupted", e.getMessage());
                return Thread.currentThread().isInterrupted();
              });
      waiter.get(5, TimeUnit.SECONDS).interrupt();
      assertTrue(interrupted.get(5, TimeUnit.SECONDS), "the interrupt stays set");
    } finally {
      held.close();
    }
  }
}
