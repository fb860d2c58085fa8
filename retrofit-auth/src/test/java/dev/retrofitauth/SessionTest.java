package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link Session} on its own: when calls wait, when refresh-ahead starts, and generations. */
final class SessionTest {
  private static final long NOW = 1_000_000L;
  private static final long LEEWAY = 30_000;
  private static final long AHEAD = 30_000;
  private final Object lock = new Object();
  private final AtomicLong clock = new AtomicLong(NOW);
  private final Session session = new Session(lock, clock::get, LEEWAY, AHEAD);

  /** When calls wait and refresh-ahead starts, in milliseconds before the expiry. */
  private static long[] schedule(long lifetime, long leeway, long ahead, double jitter) {
    Tokens tokens = Tokens.of("a", "r", NOW + lifetime);
    long expiresAt = NOW + lifetime;
    return new long[] {
      expiresAt - Session.refreshAheadAt(tokens, NOW, leeway, ahead, jitter),
      expiresAt - Session.refreshAt(tokens, NOW, leeway, ahead)
    };
  }

  @Test
  void theMarginIsAShareOfTheLifetimeCappedByTheWindowsAndHalfTheLifetime() {
    // Lifetime -> refresh-ahead starts, calls wait: that many ms before expiry (the README's
    // table).
    assertArrayEquals(new long[] {60_000, 30_000}, schedule(3_600_000, LEEWAY, AHEAD, 0.0));
    assertArrayEquals(new long[] {24_000, 12_000}, schedule(300_000, LEEWAY, AHEAD, 0.0));
    assertArrayEquals(new long[] {2_400, 1_200}, schedule(30_000, LEEWAY, AHEAD, 0.0));
    assertArrayEquals(new long[] {500, 250}, schedule(3_000, LEEWAY, AHEAD, 0.0)); // The least.
    assertArrayEquals(new long[] {300, 150}, schedule(600, LEEWAY, AHEAD, 0.0)); // Half its life.
  }

  @Test
  void tokenRequestsPerLifetimeStayLowForEveryLifetime() {
    for (long lifetime : new long[] {3_000, 30_000, 300_000, 3_600_000}) {
      long usedAtEarliest = lifetime - schedule(lifetime, LEEWAY, AHEAD, 0.0)[0];
      double requestsPerLifetime = (double) lifetime / usedAtEarliest;
      double goal = lifetime < 30_000 ? 1.3 : 1.1;
      assertTrue(requestsPerLifetime <= goal, lifetime + " ms: " + requestsPerLifetime);
    }
  }

  @Test
  void refreshAheadStartsUpToAFifthOfItsWindowLaterAtRandom() {
    assertArrayEquals(new long[] {60_000 - 6_000, 30_000}, schedule(3_600_000, LEEWAY, AHEAD, 1.0));
  }

  @Test
  void theConfiguredLeewayAndWindowCapTheMarginAndSplitIt() {
    assertArrayEquals(new long[] {600, 300}, schedule(3_600_000, 300, 300, 0.0));
    assertArrayEquals(new long[] {40_000, 10_000}, schedule(3_600_000, 10_000, 30_000, 0.0));
    // Refresh-ahead off: the whole margin is leeway.
    assertArrayEquals(new long[] {30_000, 30_000}, schedule(3_600_000, LEEWAY, 0, 0.5));
  }

  @Test
  void noExpiryOrNoTokensNeverWait() {
    assertEquals(Long.MAX_VALUE, Session.refreshAt(Tokens.of("a", "r"), NOW, LEEWAY, AHEAD));
    assertEquals(Long.MAX_VALUE, Session.refreshAt(null, NOW, LEEWAY, AHEAD));
    assertEquals(Long.MAX_VALUE, Session.refreshAheadAt(null, NOW, LEEWAY, AHEAD, 0.0));
  }

  @Test
  void anExpiredTokenWaitsAtOnce() {
    assertEquals(NOW - 1, Session.refreshAt(Tokens.of("a", "r", NOW - 1), NOW, LEEWAY, AHEAD));
  }

  @Test
  void aTokenTheServerHandsOutAgainIsUsedUntilItExpiresAfterTwoRepeats() {
    synchronized (lock) {
      // A metadata server: the same token, with less time left each time it is asked.
      session.replace(Tokens.of("same", null, NOW + 60_000), NOW);
      long first = refreshAheadAt(); // A 4.8 s margin, its window's first fifth at random.
      assertTrue(first >= NOW + 60_000 - 4_800 && first <= NOW + 60_000 - 4_800 + 480, "" + first);
      session.replace(Tokens.of("same", null, NOW + 60_000), NOW + 55_200); // Again: 1 extra.
      assertTrue(refreshAheadAt() < NOW + 60_000);
      session.replace(Tokens.of("same", null, NOW + 60_000), NOW + 59_500); // Twice: 2 extra.
      assertFalse(session.dueForRefresh(NOW + 59_999)); // No third request before it expires.
      assertTrue(session.dueForRefresh(NOW + 60_000));
      session.replace(Tokens.of("new", null, NOW + 120_000), NOW + 60_000); // A new one: as usual.
      assertTrue(session.dueForRefresh(NOW + 120_000 - 4_800 + 480));
    }
  }

  /** The earliest moment the session is due for refresh-ahead, by bisection over the clock. */
  private long refreshAheadAt() {
    long low = NOW;
    long high = NOW + 3_600_000;
    while (low < high) {
      long middle = (low + high) >>> 1;
      if (session.dueForRefresh(middle)) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  @Test
  void dueAndExpiringFollowTheTokensAndTheGivenTime() {
    synchronized (lock) {
      session.replace(Tokens.of("a", "r", NOW + 100_000), NOW);
    }
    // A 100 s token: an 8 s margin, the last 4 s of it the leeway.
    long refreshAt = NOW + 100_000 - 4_000;
    assertFalse(session.dueForRefresh(refreshAt - 4_000 - 1));
    assertTrue(session.dueForRefresh(refreshAt - 4_000 + 800)); // A fifth of the window later.
    assertFalse(session.expiresSoon(refreshAt - 1));
    assertTrue(session.expiresSoon(refreshAt));
    assertTrue(Session.stillValid(session.tokens(), NOW + 99_999));
    assertFalse(Session.stillValid(session.tokens(), NOW + 100_000));
  }

  @Test
  void tokensStoredByAnotherProcessAreUsableOutsideTheLeeway() {
    assertTrue(session.usableAsStored(Tokens.of("a", "r", NOW + 60_001)));
    assertTrue(session.usableAsStored(Tokens.of("a", "r", NOW + 10_000))); // Half its life left.
    assertFalse(session.usableAsStored(Tokens.of("a", "r", NOW)));
    assertTrue(session.usableAsStored(Tokens.of("a", "r")));
  }

  @Test
  void eachReplacementIsANewGenerationAndTellsNoRefreshPossibleOnceEach() {
    synchronized (lock) {
      assertEquals(0, session.generation());
      assertEquals(1, session.replace(Tokens.of("a", "r"), NOW));
      assertTrue(session.firstNoRefreshPossible());
      assertFalse(session.firstNoRefreshPossible());
      assertEquals(2, session.replace(null, NOW));
      assertTrue(session.firstNoRefreshPossible());
    }
    assertTrue(session.isCurrent(2));
    assertFalse(session.isCurrent(1));
    assertNull(session.header());
  }

  @Test
  void headerNamesTheTokenType() {
    synchronized (lock) {
      session.replace(Tokens.of("a", "r"), NOW);
    }
    assertEquals("Bearer a", session.header());
  }
}
