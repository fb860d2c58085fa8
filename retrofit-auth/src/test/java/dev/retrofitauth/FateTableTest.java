package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.SingleFlight.Action;
import dev.retrofitauth.SingleFlight.Fate;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fate table of {@link SingleFlight}: for every way a wait can end, what an unsent call, a sent
 * call (it holds a 401) and a call in queue mode do. The expected table is written here, from the
 * design, not read from {@link Fate}; each ending is then driven through a real engine, in
 * single-flight mode and in queue mode, with a waiter of every kind that can meet it.
 */
final class FateTableTest {
  /** What a waiter did: proceed (in queue mode, holding a retry slot), pass through, or fail. */
  private static final String PROCEED = "proceed";

  private static final String PASS_THROUGH = "pass through";
  private static final String FAIL = "fail";

  /** The design's table, for unsent and sent calls; null where a kind never meets the ending. */
  private static final Map<Fate, String[]> TABLE = new EnumMap<>(Fate.class);

  static {
    TABLE.put(Fate.SUCCEEDED, new String[] {PROCEED, PROCEED});
    TABLE.put(Fate.STALE, new String[] {null, PROCEED});
    TABLE.put(Fate.REJECTED, new String[] {PROCEED, PASS_THROUGH});
    TABLE.put(Fate.UNREFRESHABLE, new String[] {PROCEED, PASS_THROUGH});
    TABLE.put(Fate.UNREFRESHABLE_NEWLY, new String[] {PROCEED, PASS_THROUGH});
    TABLE.put(Fate.FAILED, new String[] {FAIL, FAIL});
    TABLE.put(Fate.FAILED_OLD_TOKEN_VALID, new String[] {PROCEED, FAIL});
    TABLE.put(Fate.SUPERSEDED_BY_SIGN_IN, new String[] {PROCEED, PROCEED});
    TABLE.put(Fate.SUPERSEDED_BY_SIGN_OUT, new String[] {PROCEED, PASS_THROUGH});
    TABLE.put(Fate.SIGNED_OUT_WHILE_QUEUED, new String[] {FAIL, PASS_THROUGH});
    TABLE.put(Fate.QUEUE_FULL, new String[] {FAIL, FAIL});
    TABLE.put(Fate.CANCELED, new String[] {FAIL, FAIL});
  }

  private final AtomicLong now = new AtomicLong(1_000_000L);
  private final List<Recorder> waiters = new ArrayList<>();

  @Test
  void everyEndingIsInTheTableAndEveryDecisionWaitsOrSends() {
    for (Fate fate : Fate.values()) {
      if (!fate.ends) {
        assertFalse(TABLE.containsKey(fate), fate + " is a decision, not an ending");
        continue;
      }
      String[] expected = TABLE.get(fate);
      assertTrue(expected != null, fate + " is missing from the table");
      if (expected[0] != null)
        assertEquals(expected[0], name(fate.action(false)), fate + " unsent");
      assertEquals(expected[1], name(fate.action(true)), fate + " sent");
    }
    assertEquals(Action.WAIT, Fate.JOIN.action(true));
    assertEquals(Action.WAIT, Fate.START.action(false));
    assertEquals(Action.PROCEED, Fate.SEND.action(false));
    assertEquals(Action.PROCEED, Fate.START_BACKGROUND.action(false));
  }

  @ParameterizedTest(name = "queue mode: {0}")
  @ValueSource(booleans = {false, true})
  void succeeded(boolean queueMode) throws Exception {
    GatedRefreshApi api = GatedRefreshApi.returning(Tokens.of("new", "r2")).hold();
    SingleFlight engine = engine(builder(queueMode).refreshApi(api));
    engine.changeSession(Tokens.of("a", "r1"));
    Recorder sent = sent(engine, "Bearer a");
    Recorder unsent = unsent(engine);
    api.release();

    expect(Fate.SUCCEEDED, queueMode, unsent, sent);
  }

  @ParameterizedTest(name = "queue mode: {0}")
  @ValueSource(booleans = {false, true})
  void stale(boolean queueMode) throws Exception {
    SingleFlight engine = engine(builder(queueMode).refreshApi(GatedRefreshApi.returning(null)));
    engine.changeSession(Tokens.of("a", "r1"));

    expect(Fate.STALE, queueMode, null, sent(engine, "Bearer replaced"));
  }

  @ParameterizedTest(name = "queue mode: {0}")
  @ValueSource(booleans = {false, true})
  void rejected(boolean queueMode) throws Exception {
    GatedRefreshApi api = GatedRefreshApi.throwing(new RefreshRejectedException("revoked")).hold();
    SingleFlight engine = engine(builder(queueMode).refreshApi(api));
    engine.changeSession(Tokens.of("a", "r1"));
    Recorder sent = sent(engine, "Bearer a");
    Recorder unsent = unsent(engine);
    api.release();

    expect(Fate.REJECTED, queueMode, unsent, sent);
    assertEquals(null, engine.tokens());
  }

  @ParameterizedTest(name = "queue mode: {0}")
  @ValueSource(booleans = {false, true})
  void unrefreshable(boolean queueMode) throws Exception {
    SingleFlight engine = engine(builder(queueMode)); // No RefreshApi.
    engine.changeSession(Tokens.of("a", "r1"));

    expect(Fate.UNREFRESHABLE_NEWLY, queueMode, null, sent(engine, "Bearer a"));
    expect(Fate.UNREFRESHABLE, queueMode, null, sent(engine, "Bearer a"));
    engine.changeSession(null);
    expect(Fate.UNREFRESHABLE, queueMode, null, sent(engine, "Bearer a")); // Signed out since.
  }

  @ParameterizedTest(name = "queue mode: {0}")
  @ValueSource(booleans = {false, true})
  void failed(boolean queueMode) throws Exception {
    GatedRefreshApi api = GatedRefreshApi.throwing(new IOException("token endpoint down")).hold();
    SingleFlight engine =
        engine(builder(queueMode).refreshApi(api).refreshBackoff(1, 1, TimeUnit.MINUTES));
    engine.changeSession(Tokens.of("a", "r1"));
    Recorder sent = sent(engine, "Bearer a");
    Recorder unsent = unsent(engine);
    api.release();

    expect(Fate.FAILED, queueMode, unsent, sent);
    assertEquals("Token refresh failed: token endpoint down", sent.failure.getMessage());
    assertEquals("token endpoint down", sent.failure.getCause().getMessage());
    // In backoff the next 401 fails fast, with the same cause, and no refresh.
    Recorder failFast = sent(engine, "Bearer a");
    expect(Fate.FAILED, queueMode, null, failFast);
    assertEquals("token endpoint down", failFast.failure.getCause().getMessage());
    assertEquals(1, api.calls.get());
  }

  @ParameterizedTest(name = "queue mode: {0}")
  @ValueSource(booleans = {false, true})
  void timedOut(boolean queueMode) throws Exception {
    GatedRefreshApi api = GatedRefreshApi.returning(Tokens.of("late", "r2")).hold();
    SingleFlight engine =
        engine(builder(queueMode).refreshApi(api).refreshTimeout(50, TimeUnit.MILLISECONDS));
    engine.changeSession(Tokens.of("a", "r1"));
    Recorder sent = sent(engine, "Bearer a");
    Recorder unsent = unsent(engine);
    sent.await();
    unsent.await();

    expect(Fate.FAILED, queueMode, unsent, sent);
    assertEquals("token refresh timed out after 50 ms", sent.failure.getCause().getMessage());
    // A 401 while the timed-out refresh still runs fails fast instead of refreshing again.
    expect(Fate.FAILED, queueMode, null, sent(engine, "Bearer a"));
    api.release(); // Its tokens still arrive, and are kept.
    Await.until("late tokens kept", () -> "late".equals(engine.tokens().accessToken()));
  }

  @ParameterizedTest(name = "queue mode: {0}")
  @ValueSource(booleans = {false, true})
  void failedWhileTheOldTokenIsValid(boolean queueMode) throws Exception {
    GatedRefreshApi api = GatedRefreshApi.throwing(new IOException("token endpoint down")).hold();
    SingleFlight engine = engine(builder(queueMode).refreshApi(api));
    engine.changeSession(Tokens.of("a", "r1", now.get() + 10_000));
    now.addAndGet(9_700); // Inside the leeway (0.4 s of 10 s), not expired: a proactive refresh.
    Recorder unsent = unsent(engine);
    // refreshNow()'s waiter is a sent waiter that joins without proving the token dead.
    Recorder sent = new Recorder(true);
    waiters.add(sent);
    engine.refreshNow(sent);
    api.release();

    expect(Fate.FAILED_OLD_TOKEN_VALID, queueMode, unsent, sent);
  }

  @ParameterizedTest(name = "queue mode: {0}")
  @ValueSource(booleans = {false, true})
  void supersededBySignIn(boolean queueMode) throws Exception {
    GatedRefreshApi api = GatedRefreshApi.returning(Tokens.of("discarded", "r2")).hold();
    SingleFlight engine = engine(builder(queueMode).refreshApi(api));
    engine.changeSession(Tokens.of("a", "r1"));
    Recorder sent = sent(engine, "Bearer a");
    Recorder unsent = unsent(engine);
    engine.changeSession(Tokens.of("signed-in", "r9"));

    expect(Fate.SUPERSEDED_BY_SIGN_IN, queueMode, unsent, sent);
    assertEquals("signed-in", engine.tokens().accessToken());
    api.release();
  }

  @ParameterizedTest(name = "queue mode: {0}")
  @ValueSource(booleans = {false, true})
  void supersededBySignOut(boolean queueMode) throws Exception {
    GatedRefreshApi api = GatedRefreshApi.returning(Tokens.of("discarded", "r2")).hold();
    SingleFlight engine = engine(builder(queueMode).refreshApi(api));
    engine.changeSession(Tokens.of("a", "r1"));
    Recorder sent = sent(engine, "Bearer a");
    Recorder unsent = unsent(engine);
    engine.changeSession(null);

    Fate expected = queueMode ? Fate.SIGNED_OUT_WHILE_QUEUED : Fate.SUPERSEDED_BY_SIGN_OUT;
    expect(expected, queueMode, unsent, sent);
    api.release();
  }

  @Test
  void queueFull() throws Exception {
    GatedRefreshApi api = GatedRefreshApi.returning(Tokens.of("new", "r2")).hold();
    SingleFlight engine = engine(builder(true).refreshApi(api).maxQueuedCalls(1));
    engine.changeSession(Tokens.of("a", "r1"));
    sent(engine, "Bearer a"); // The one call that may wait.

    expect(Fate.QUEUE_FULL, true, unsent(engine), sent(engine, "Bearer a"));
    assertEquals(
        "Retry queue is full: 1 calls are waiting (maxQueuedCalls)",
        waiters.get(waiters.size() - 1).failure.getMessage());
    api.release();
  }

  @ParameterizedTest(name = "queue mode: {0}")
  @ValueSource(booleans = {false, true})
  void canceled(boolean queueMode) throws Exception {
    GatedRefreshApi api = GatedRefreshApi.returning(Tokens.of("new", "r2")).hold();
    SingleFlight engine = engine(builder(queueMode).refreshApi(api));
    engine.changeSession(Tokens.of("a", "r1"));
    Recorder sent = sent(engine, "Bearer a");
    Recorder unsent = unsent(engine);

    assertTrue(engine.cancel(sent, new IOException("Canceled")));
    assertTrue(engine.cancel(unsent, new IOException("Canceled")));
    assertFalse(engine.cancel(sent, new IOException("Canceled")), "released once only");
    expect(Fate.CANCELED, queueMode, unsent, sent);
    assertEquals("Canceled", sent.failure.getMessage());
    // The app cancels every waiting call at once: the same fate.
    Recorder another = sent(engine, "Bearer a");
    assertEquals(1, engine.cancelQueued(null, "Canceled: every queued call was canceled"));
    expect(Fate.CANCELED, queueMode, null, another);
    api.release();
  }

  /** Checks what each waiter did against the table; {@code unsent} is null for sent-only fates. */
  private void expect(Fate fate, boolean queueMode, @Nullable Recorder unsent, Recorder sent)
      throws InterruptedException {
    String[] row = TABLE.get(fate);
    if (unsent != null) check(fate, "unsent", row[0], queueMode, unsent);
    check(fate, "sent", row[1], queueMode, sent);
  }

  private static void check(
      Fate fate, String kind, String expected, boolean queueMode, Recorder waiter)
      throws InterruptedException {
    waiter.await();
    String what = fate + ", " + kind + (queueMode ? ", queue mode" : "");
    assertEquals(expected, waiter.did, what);
    assertEquals(1, waiter.releases.get(), what + ": released exactly once");
    if (expected.equals(PROCEED)) {
      assertEquals(queueMode, waiter.heldSlot, what + ": a retry slot in queue mode only");
    }
  }

  private static String name(Action action) {
    switch (action) {
      case PROCEED:
        return PROCEED;
      case PASS_THROUGH:
        return PASS_THROUGH;
      case FAIL:
        return FAIL;
      default:
        return action.name();
    }
  }

  private RefreshManager.Builder builder(boolean queueMode) {
    return RefreshManager.builder()
        .queueMode(queueMode)
        .clock(now::get)
        .refreshBackoff(0, 0, TimeUnit.MILLISECONDS);
  }

  private static SingleFlight engine(RefreshManager.Builder builder) {
    SingleFlight engine = new SingleFlight(builder.config(), new Listeners(new AuthListener[0]));
    engine.restore();
    return engine;
  }

  private Recorder sent(SingleFlight engine, String header) {
    Recorder waiter = new Recorder(true);
    waiters.add(waiter);
    engine.onUnauthorized(header, waiter);
    return waiter;
  }

  private Recorder unsent(SingleFlight engine) {
    Recorder waiter = new Recorder(false);
    waiters.add(waiter);
    assertTrue(engine.awaitBeforeSend(waiter), "the unsent call waits");
    return waiter;
  }

  /** Records the one continuation that ran; a queued retry gives its slot back at once. */
  private static final class Recorder extends Waiter {
    final CountDownLatch released = new CountDownLatch(1);
    final AtomicInteger releases = new AtomicInteger();
    volatile @Nullable String did;
    volatile @Nullable IOException failure;
    volatile boolean heldSlot;

    Recorder(boolean sent) {
      super(sent, MethodPolicy.DEFAULT);
    }

    @Override
    void proceed(@Nullable Runnable retryEnded) {
      heldSlot = retryEnded != null;
      done(PROCEED);
      if (retryEnded != null) retryEnded.run();
    }

    @Override
    void passThrough() {
      done(PASS_THROUGH);
    }

    @Override
    void fail(IOException e) {
      failure = e;
      done(FAIL);
    }

    private void done(String what) {
      did = what;
      releases.incrementAndGet();
      released.countDown();
    }

    void await() throws InterruptedException {
      if (!released.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
    }
  }
}
