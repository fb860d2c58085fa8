package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link Backoff} on its own: intervals, jitter, {@code Retry-After} and permanent failures. */
final class BackoffTest {
  private static final long NOW = 1_000_000L;
  private final Backoff backoff = new Backoff(1_000, 60_000, TimeUnit.HOURS.toMillis(1));

  @Test
  void intervalDoublesWithEachFailureInARowUpToTheMax() {
    long[] expected = {1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000};
    for (long interval : expected) {
      backoff.recordFailure(new IOException("down"), NOW, 0.0);
      assertEquals(NOW + interval, backoff.untilMillis());
    }
  }

  @Test
  void jitterShortensTheIntervalByAtMostAFifth() {
    backoff.recordFailure(new IOException("down"), NOW, 1.0);
    assertEquals(NOW + 800, backoff.untilMillis());
    backoff.reset();
    backoff.recordFailure(new IOException("down"), NOW, 0.5);
    assertEquals(NOW + 900, backoff.untilMillis());
  }

  @Test
  void activeUntilTheIntervalHasPassed() {
    IOException failure = new IOException("down");
    assertFalse(backoff.active(NOW));
    backoff.recordFailure(failure, NOW, 0.0);
    assertTrue(backoff.active(NOW + 999));
    assertFalse(backoff.active(NOW + 1_000));
    assertSame(failure, backoff.lastFailure());
  }

  @Test
  void retryAfterLongerThanTheIntervalWins() {
    backoff.recordFailure(
        RefreshFailedException.retryAfter("slow down", 30, TimeUnit.SECONDS), NOW, 0.0);
    assertEquals(NOW + 30_000, backoff.untilMillis());
  }

  @Test
  void retryAfterIsCappedAndNeverOverflows() {
    backoff.recordFailure(
        RefreshFailedException.retryAfter("slow down", Long.MAX_VALUE, TimeUnit.MILLISECONDS),
        NOW,
        0.0);
    assertEquals(NOW + TimeUnit.HOURS.toMillis(1), backoff.untilMillis());
  }

  @Test
  void permanentFailureBlocksUntilReset() {
    backoff.recordFailure(RefreshFailedException.permanent("invalid_client"), NOW, 0.0);
    assertTrue(backoff.active(Long.MAX_VALUE - 1));
    backoff.reset();
    assertFalse(backoff.active(NOW));
    assertNull(backoff.lastFailure());
  }

  @Test
  void zeroInitialIntervalTurnsBackoffOff() {
    Backoff off = new Backoff(0, 0, TimeUnit.HOURS.toMillis(1));
    off.recordFailure(new IOException("down"), NOW, 0.0);
    assertFalse(off.active(NOW));
  }

  @Test
  void aSuccessStartsTheCountAgain() {
    backoff.recordFailure(new IOException("down"), NOW, 0.0);
    backoff.recordFailure(new IOException("down"), NOW, 0.0);
    backoff.reset();
    backoff.recordFailure(new IOException("down"), NOW, 0.0);
    assertEquals(NOW + 1_000, backoff.untilMillis());
  }
}
