package dev.retrofitauth.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.DPoP;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.Tokens;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Response;

/** Each meter against real refreshes, driven over HTTP through a real manager. */
final class RetrofitAuthMetricsTest {
  private Harness harness;

  @AfterEach
  void tearDown() throws IOException {
    if (harness != null) harness.close();
  }

  @Test
  void registersEveryMeterOnceWithTheExtraTags() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RefreshManager auth = RefreshManager.builder().build();

    RetrofitAuthMetrics.create(auth, Tags.of("manager", "payments")).bindTo(registry);

    List<String> meters =
        registry.getMeters().stream()
            .map(m -> m.getId().getType() + " " + m.getId().getName() + " " + tags(m))
            .sorted()
            .collect(Collectors.toList());
    assertEquals(
        Arrays.asList(
            "COUNTER retrofit.auth.dead.token.requests.avoided [manager=payments]",
            "COUNTER retrofit.auth.dpop.nonce.resends [manager=payments]",
            "COUNTER retrofit.auth.refreshes.started [manager=payments]",
            "COUNTER retrofit.auth.retries [manager=payments]",
            "COUNTER retrofit.auth.stale.401s [manager=payments]",
            "GAUGE retrofit.auth.calls.waiting [for=refresh, manager=payments]",
            "GAUGE retrofit.auth.calls.waiting [for=retry.slot, manager=payments]",
            "TIMER retrofit.auth.refreshes [manager=payments, outcome=failed]",
            "TIMER retrofit.auth.refreshes [manager=payments, outcome=rejected]",
            "TIMER retrofit.auth.refreshes [manager=payments, outcome=succeeded]"),
        meters);
  }

  @Test
  void successfulRefreshIsTimedUnderSucceeded() throws Exception {
    harness = new Harness(RefreshManager.builder());
    harness.server.accept("other"); // "old" gets a 401; the refresh makes the server take "new".

    long start = System.nanoTime();
    Response<String> response = harness.api.me().execute();
    long elapsed = System.nanoTime() - start;

    assertEquals("ok /api/me", response.body());
    assertEquals(1, harness.counter("retrofit.auth.refreshes.started"));
    assertEquals(1, harness.timerCount("succeeded"));
    double nanos = harness.timerNanos("succeeded");
    assertTrue(nanos > 0 && nanos <= elapsed, "refresh took " + nanos + " ns of " + elapsed);
    assertEquals(0, harness.timerCount("rejected"));
    assertEquals(0, harness.timerNanos("rejected"));
    assertEquals(0, harness.timerCount("failed"));
    assertEquals(0, harness.timerNanos("failed"));
    assertEquals(1, harness.counter("retrofit.auth.retries"));
    assertEquals(0, harness.counter("retrofit.auth.stale.401s"));
    assertEquals(0, harness.counter("retrofit.auth.dpop.nonce.resends"));
    assertEquals(0, harness.counter("retrofit.auth.dead.token.requests.avoided"));
    assertEquals(0, harness.waiting("refresh"));
    assertEquals(0, harness.waiting("retry.slot"));
  }

  @Test
  void rejectedRefreshIsTimedUnderRejected() throws Exception {
    harness = new Harness(RefreshManager.builder());
    harness.server.accept("other");
    harness.refreshApi.answer(
        current -> {
          throw new RefreshRejectedException("refresh token revoked");
        });

    assertEquals(401, harness.api.me().execute().code());

    assertEquals(1, harness.counter("retrofit.auth.refreshes.started"));
    assertEquals(1, harness.timerCount("rejected"));
    assertTrue(harness.timerNanos("rejected") > 0);
    assertEquals(0, harness.timerCount("succeeded"));
    assertEquals(0, harness.timerNanos("succeeded"));
    assertEquals(0, harness.timerCount("failed"));
    assertEquals(0, harness.counter("retrofit.auth.retries"));
  }

  @Test
  void failedRefreshIsTimedUnderFailedAndTheNextSuccessUnderSucceeded() throws Exception {
    harness = new Harness(RefreshManager.builder().refreshBackoff(0, 0, TimeUnit.SECONDS));
    harness.server.accept("other");
    harness.refreshApi.answer(
        current -> {
          throw new IOException("token endpoint down");
        });

    IOException e = assertThrows(IOException.class, () -> harness.api.me().execute());
    assertEquals("token endpoint down", e.getCause().getMessage());

    assertEquals(1, harness.counter("retrofit.auth.refreshes.started"));
    assertEquals(1, harness.timerCount("failed"));
    double failedNanos = harness.timerNanos("failed");
    assertTrue(failedNanos > 0);
    assertEquals(0, harness.timerCount("succeeded"));

    harness.refreshApi.answer(
        current -> {
          harness.server.accept("new");
          return Tokens.of("new", "r2");
        });
    assertEquals(200, harness.api.me().execute().code());

    assertEquals(2, harness.counter("retrofit.auth.refreshes.started"));
    assertEquals(1, harness.timerCount("failed"));
    assertEquals(failedNanos, harness.timerNanos("failed"));
    assertEquals(1, harness.timerCount("succeeded"));
    assertTrue(harness.timerNanos("succeeded") > 0);
    assertEquals(0, harness.timerCount("rejected"));
    assertEquals(1, harness.counter("retrofit.auth.retries"));
  }

  @Test
  void stale401IsCountedAndRetriedWithoutARefresh() throws Exception {
    harness = new Harness(RefreshManager.builder());
    CountDownLatch arrived = harness.server.hold(r -> r.getPath().equals("/api/slow"), 1);
    BlockingQueue<Object> slow = Harness.enqueue(harness.api.slow());
    assertTrue(arrived.await(30, TimeUnit.SECONDS));
    // Another refresh finished while this call was on the wire with "old".
    harness.server.accept("new");
    harness.auth.signIn(Tokens.of("new", "r2"));
    harness.server.release();

    assertEquals("ok /api/slow", Harness.response(slow).body());
    assertEquals(Arrays.asList("Bearer old", "Bearer new"), harness.server.authorizations);
    assertEquals(1, harness.counter("retrofit.auth.stale.401s"));
    assertEquals(1, harness.counter("retrofit.auth.retries"));
    assertEquals(0, harness.counter("retrofit.auth.refreshes.started"));
    assertEquals(0, harness.refreshApi.calls.get());
  }

  @Test
  void dpopNonceResendIsCountedAndIsNotARetry() throws Exception {
    harness = new Harness(RefreshManager.builder().dpop(DPoP.generate()));
    harness.server.requireNonce("n1");

    assertEquals(200, harness.api.me().execute().code()); // 401 use_dpop_nonce, then the resend.
    assertEquals(200, harness.api.me().execute().code()); // It has the nonce now.

    assertEquals(3, harness.server.authorizations.size());
    assertEquals(1, harness.counter("retrofit.auth.dpop.nonce.resends"));
    assertEquals(0, harness.counter("retrofit.auth.retries"));
    assertEquals(0, harness.counter("retrofit.auth.refreshes.started"));
  }

  @Test
  void extraTagsKeepTwoManagersApart() throws Exception {
    harness = new Harness(RefreshManager.builder());
    RefreshManager idle = RefreshManager.builder().build();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    RetrofitAuthMetrics.create(harness.auth, Tags.of("manager", "busy")).bindTo(registry);
    RetrofitAuthMetrics.create(idle, Tags.of("manager", "idle")).bindTo(registry);
    harness.server.accept("other");

    assertEquals(200, harness.api.me().execute().code());

    String started = "retrofit.auth.refreshes.started";
    assertEquals(1, registry.get(started).tag("manager", "busy").functionCounter().count());
    assertEquals(0, registry.get(started).tag("manager", "idle").functionCounter().count());
  }

  @Test
  void registryDoesNotKeepTheManagerAlive() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WeakReference<RefreshManager> collected = refreshOnceInAManagerThatIsDropped(registry);

    Harness.await(
        "the dropped manager to be collected",
        () -> {
          System.gc();
          return collected.get() == null;
        });

    String started = "retrofit.auth.refreshes.started";
    assertEquals(1, registry.get(started).tag("manager", "dropped").functionCounter().count());
    assertTrue(
        Double.isNaN(
            registry
                .get("retrofit.auth.calls.waiting")
                .tags("manager", "dropped", "for", "refresh")
                .gauge()
                .value()));
  }

  /** Binds a manager that refreshes once, then lets go of everything that refers to it. */
  private static WeakReference<RefreshManager> refreshOnceInAManagerThatIsDropped(
      SimpleMeterRegistry registry) throws Exception {
    try (Harness dropped = new Harness(RefreshManager.builder())) {
      RetrofitAuthMetrics.create(dropped.auth, Tags.of("manager", "dropped")).bindTo(registry);
      dropped.server.accept("other");
      assertEquals(200, dropped.api.me().execute().code());
      assertEquals(
          1,
          registry
              .get("retrofit.auth.refreshes.started")
              .tag("manager", "dropped")
              .functionCounter()
              .count());
      return new WeakReference<>(dropped.auth);
    }
  }

  @Test
  void nullArgumentsAreNamed() {
    RefreshManager auth = RefreshManager.builder().build();
    assertEquals(
        "manager == null",
        assertThrows(
                NullPointerException.class, () -> RetrofitAuthMetrics.create((RefreshManager) null))
            .getMessage());
    assertEquals(
        "tags == null",
        assertThrows(NullPointerException.class, () -> RetrofitAuthMetrics.create(auth, null))
            .getMessage());
    assertEquals(
        "registry == null",
        assertThrows(
                NullPointerException.class, () -> RetrofitAuthMetrics.create(auth).bindTo(null))
            .getMessage());
  }

  private static String tags(Meter meter) {
    return meter.getId().getTags().stream()
        .map(t -> t.getKey() + "=" + t.getValue())
        .collect(Collectors.toList())
        .toString();
  }
}
