package dev.retrofitauth.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Loading, saving and clearing one row, and the builder's checks, on PostgreSQL and on H2. */
final class JdbcTokenStoreTest {
  private static final Tokens TOKENS =
      Tokens.of("access-secret-1", "refresh-secret-1", 1_767_225_600_000L);

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void savedTokensLoadAgainAndEverySaveAndClearIncrementsTheVersion(TestDatabase database)
      throws Exception {
    JdbcTokenStore store = database.newTable().key("integration-42").build();
    assertNull(store.load(), "no row yet");

    store.save(TOKENS);
    assertEquals(TOKENS, store.load());
    assertEquals(1L, version(database, store));

    Tokens next = Tokens.of("access-secret-2", "refresh-secret-2");
    store.save(next);
    assertEquals(next, store.load());
    assertEquals(2L, version(database, store));

    store.clear();
    assertNull(store.load());
    assertEquals(3L, version(database, store), "a clear keeps the row, and its version grows");
    store.clear();
    assertEquals(4L, version(database, store));
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void sessionsOfOneBuilderHaveRowsOfTheirOwn(TestDatabase database) throws Exception {
    JdbcTokenStore.Builder users = database.newTable().keyPrefix("app:user:");
    JdbcTokenStore ann = users.buildFor("ann");
    JdbcTokenStore bob = users.buildFor("Bob Ünal ☃");
    ann.save(Tokens.of("access-ann"));
    bob.save(Tokens.of("access-bob"));
    assertEquals("access-ann", ann.load().accessToken());
    assertEquals("access-bob", bob.load().accessToken());
    assertEquals(
        "access-bob",
        users.buildFor("Bob Ünal ☃").load().accessToken(),
        "the key survives the round trip through the database");
    assertEquals(
        2L,
        ((Number)
                database.query(
                    "SELECT COUNT(*) FROM "
                        + ann.table.name
                        + " WHERE session_key IN ('app:user:ann', 'app:user:Bob Ünal ☃')"))
            .longValue());
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void aMissingTableFailsWithAnErrorThatSaysHowToCreateIt(TestDatabase database) {
    JdbcTokenStore store =
        JdbcTokenStore.builder(database.dataSource).table("no_such_table").key("k").build();
    IOException e = assertThrows(IOException.class, store::load);
    assertEquals(
        "loading session 'k' in table no_such_table: the table does not exist: create it with the"
            + " DDL in retrofit-auth-jdbc's README, or call"
            + " JdbcTokenStore.Builder.createTableIfMissing() once",
        e.getMessage());
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void aFailedSaveLeavesTheDatabasesMessageOutSinceItMayQuoteTheTokens(TestDatabase database)
      throws Exception {
    database.update(
        "CREATE TABLE narrow_session (session_key VARCHAR(512) NOT NULL PRIMARY KEY, tokens"
            + " VARCHAR(10), version BIGINT NOT NULL, lease_holder VARCHAR(64), lease_until"
            + " BIGINT)");
    try {
      JdbcTokenStore store =
          JdbcTokenStore.builder(database.dataSource).table("narrow_session").key("k").build();
      IOException e = assertThrows(IOException.class, () -> store.save(TOKENS));
      assertTrue(
          e.getMessage().startsWith("saving session 'k' in table narrow_session: the database"),
          e.getMessage());
      assertTrue(e.getMessage().contains("SQLState 22001"), e.getMessage());
      assertFalse(e.getMessage().contains("secret"), e.getMessage());
      assertNull(e.getCause(), "the driver's exception quotes the value");
    } finally {
      database.update("DROP TABLE narrow_session");
    }
  }

  @ParameterizedTest
  @MethodSource("dev.retrofitauth.jdbc.TestDatabase#both")
  void createTableIfMissingLeavesAnExistingTableAndItsRowsAlone(TestDatabase database)
      throws Exception {
    JdbcTokenStore.Builder builder = database.newTable().key("k");
    builder.build().save(TOKENS);
    builder.createTableIfMissing();
    assertEquals(TOKENS, builder.build().load());
  }

  @Test
  void theReadmeHoldsTheDdlOfTheResourceFile() throws IOException {
    String readme = new String(Files.readAllBytes(Paths.get("README.md")), StandardCharsets.UTF_8);
    String ddl = SessionTable.ddlResource();
    assertTrue(readme.contains("```sql\n" + ddl + "```\n"), "README.md's sql block differs");
    assertTrue(ddl.contains("CREATE TABLE IF NOT EXISTS " + SessionTable.DEFAULT_NAME + " ("));
    assertEquals(
        ddl.replace("retrofit_auth_session", "myapp.sessions"),
        new SessionTable("myapp.sessions").ddl());
  }

  @Test
  void tableNamesThatAreNotPlainIdentifiersAreRefused() {
    JdbcTokenStore.Builder builder = TestDatabase.h2().newBuilder();
    for (String bad :
        new String[] {"", "a b", "x; DROP TABLE y", "\"quoted\"", "1table", "a.b.c", "a.", ".a"}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> builder.table(bad), bad);
      assertTrue(e.getMessage().startsWith("table name "), e.getMessage());
    }
    builder.table("myapp.retrofit_auth_session_2");
    builder.table("_sessions");
  }

  @Test
  void keysThatNoColumnStoresAreRefusedWithWhatIsWrong() {
    JdbcTokenStore.Builder builder = TestDatabase.h2().newBuilder();
    assertEquals(
        "key is empty",
        assertThrows(IllegalArgumentException.class, () -> builder.key("")).getMessage());
    assertEquals(
        "key has a NUL character, which no text column stores, at index 1",
        assertThrows(IllegalArgumentException.class, () -> builder.key("a\u0000b")).getMessage());
    assertEquals(
        "key has a lone surrogate, which has no UTF-8 encoding, at index 2",
        assertThrows(IllegalArgumentException.class, () -> builder.key("ab\ud800")).getMessage());
    assertEquals(
        "key is longer than 512 characters: 513",
        assertThrows(IllegalArgumentException.class, () -> builder.key(repeat('k', 513)))
            .getMessage());
    builder.key(repeat('k', 512));

    JdbcTokenStore.Builder users = TestDatabase.h2().newBuilder().keyPrefix(repeat('p', 500));
    assertEquals(
        "sessionKey with its prefix is longer than 512 characters: 513",
        assertThrows(IllegalArgumentException.class, () -> users.buildFor(repeat('u', 13)))
            .getMessage());
    assertEquals(
        "sessionKey is empty",
        assertThrows(IllegalArgumentException.class, () -> users.buildFor("")).getMessage());
  }

  @Test
  void aBuilderBuildsOneSessionOrOnePerKeyNeverBoth() {
    assertEquals(
        "no key: call key(...) with this session's key, as in integration-42",
        assertThrows(IllegalStateException.class, () -> TestDatabase.h2().newBuilder().build())
            .getMessage());
    assertTrue(
        assertThrows(
                IllegalStateException.class,
                () -> TestDatabase.h2().newBuilder().keyPrefix("u:").build())
            .getMessage()
            .startsWith("keyPrefix is set, and build() has no session key"));
    assertTrue(
        assertThrows(
                IllegalStateException.class, () -> TestDatabase.h2().newBuilder().buildFor("ann"))
            .getMessage()
            .startsWith("no keyPrefix"));
    assertTrue(
        assertThrows(
                IllegalStateException.class,
                () -> TestDatabase.h2().newBuilder().key("k").keyPrefix("u:").buildFor("ann"))
            .getMessage()
            .startsWith("both key(...) and keyPrefix(...) are set"));
    assertEquals(
        "timeout <= 0: 0",
        assertThrows(
                IllegalArgumentException.class,
                () -> TestDatabase.h2().newBuilder().timeout(0, TimeUnit.SECONDS))
            .getMessage());
  }

  @Test
  void toStringNamesTheSessionAndTheTableButNoToken() throws Exception {
    JdbcTokenStore store = TestDatabase.h2().newTable().key("integration-42").build();
    store.save(TOKENS);
    String text = store.toString();
    assertEquals(
        "JdbcTokenStore{session 'integration-42' in table " + store.table.name + "}", text);
  }

  private static long version(TestDatabase database, JdbcTokenStore store) throws Exception {
    return ((Number)
            database.query(
                "SELECT version FROM " + store.table.name + " WHERE session_key = ?", store.key))
        .longValue();
  }

  private static String repeat(char c, int times) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < times; i++) out.append(c);
    return out.toString();
  }
}
