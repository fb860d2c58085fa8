package dev.retrofitauth;

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

  @Test
  void callsWaitFromTheLeewayBeforeExpiry() {
    Tokens hour = Tokens.of("a", "r", NOW + 3_600_000);
    assertEquals(NOW + 3_600_000 - LEEWAY, Session.refreshAt(hour, NOW, LEEWAY));
  }

  @Test
  void aTokenShorterThanTwiceTheLeewayWaitsFromHalfItsLifetime() {
    Tokens tenSeconds = Tokens.of("a", "r", NOW + 10_000);
    assertEquals(NOW + 5_000, Session.refreshAt(tenSeconds, NOW, LEEWAY));
  }

  @Test
  void noExpiryOrNoTokensNeverWait() {
    assertEquals(Long.MAX_VALUE, Session.refreshAt(Tokens.of("a", "r"), NOW, LEEWAY));
    assertEquals(Long.MAX_VALUE, Session.refreshAt(null, NOW, LEEWAY));
  }

  @Test
  void anExpiredTokenWaitsAtOnce() {
    assertEquals(NOW - 1, Session.refreshAt(Tokens.of("a", "r", NOW - 1), NOW, LEEWAY));
  }

  @Test
  void refreshAheadStartsAWindowBeforeTheLeewayPlusUpToAFifthOfItAtRandom() {
    long refreshAt = NOW + 3_600_000 - LEEWAY;
    assertEquals(refreshAt - AHEAD, Session.refreshAheadAt(refreshAt, NOW, AHEAD, 0.0));
    assertEquals(refreshAt - AHEAD + 6_000, Session.refreshAheadAt(refreshAt, NOW, AHEAD, 1.0));
  }

  @Test
  void refreshAheadWindowIsAtMostHalfTheTimeBeforeTheLeeway() {
    long refreshAt = NOW + 20_000;
    assertEquals(NOW + 10_000, Session.refreshAheadAt(refreshAt, NOW, AHEAD, 0.0));
    assertEquals(Long.MAX_VALUE, Session.refreshAheadAt(Long.MAX_VALUE, NOW, AHEAD, 0.0));
    assertEquals(refreshAt, Session.refreshAheadAt(refreshAt, NOW, 0, 0.5)); // Turned off.
  }

  @Test
  void dueAndExpiringFollowTheTokensAndTheGivenTime() {
    synchronized (lock) {
      session.replace(Tokens.of("a", "r", NOW + 100_000), NOW);
    }
    long refreshAt = NOW + 100_000 - LEEWAY;
    assertFalse(session.dueForRefresh(refreshAt - AHEAD - 1));
    assertTrue(session.dueForRefresh(refreshAt - AHEAD + 6_000));
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
