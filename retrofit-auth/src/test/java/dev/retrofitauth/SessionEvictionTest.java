package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import retrofit2.Call;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;
import retrofit2.http.Path;
import retrofit2.http.Tag;

/** Keyed sessions are bounded, and an evicted session loses nothing. */
final class SessionEvictionTest {
  interface Inbox {
    @Credential("user")
    @GET("users/{id}")
    Call<String> inbox(@Path("id") String id, @Tag String user);
  }

  @TempDir File temporary;

  /**
   * The token directory: in memory where the machine has it, since this disk takes 10 ms or more
   * per synced save and the test saves a thousand times; the store's rules are the same there.
   */
  private File tokens;

  private final MockWebServer server = new MockWebServer();
  private volatile CountDownLatch held = new CountDownLatch(0);
  private volatile CountDownLatch arrived = new CountDownLatch(0);
  private OkHttpClient client;

  @BeforeEach
  void setUp() throws IOException {
    java.nio.file.Path memory = Paths.get("/dev/shm");
    tokens =
        Files.isDirectory(memory) && Files.isWritable(memory)
            ? Files.createTempDirectory(memory, "tokens").toFile()
            : temporary;
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            arrived.countDown();
            if (!held.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
            String authorization = request.getHeader("Authorization");
            return new MockResponse().setBody(authorization != null ? authorization : "none");
          }
        });
    server.setServerSocketFactory(new ApiServer.NoDelayServerSocketFactory()); // No ACK waits.
    server.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    if (!tokens.equals(temporary)) {
      File[] files = tokens.listFiles();
      if (files != null) for (File file : files) Files.delete(file.toPath());
      Files.delete(tokens.toPath());
    }
    held.countDown();
    server.shutdown();
    if (client != null) client.dispatcher().executorService().shutdown();
  }

  private Inbox inbox(SessionRegistry registry) {
    client = new OkHttpClient.Builder().addInterceptor(registry.interceptor()).build();
    return new Retrofit.Builder()
        .baseUrl(server.url("/"))
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(registry))
        .addConverterFactory(ScalarsConverterFactory.create())
        .build()
        .create(Inbox.class);
  }

  private SessionRegistry.Builder onFiles() {
    return SessionRegistry.builder()
        .addKeyed(
            "user",
            String.class,
            user -> RefreshManager.builder().tokenStore(TokenStore.fileIn(tokens, user)));
  }

  @Test
  void aThousandUsersStayWithinTheBoundAndEvictedOnesComeBackFromTheirFiles() throws IOException {
    SessionRegistry registry = onFiles().maxSessions(100).build();
    KeyedSessions<String> users = registry.keyed("user", String.class);
    Inbox inbox = inbox(registry);

    for (int i = 0; i < 1000; i++) {
      users.signIn("user-" + i, Tokens.of("token-" + i, null));
      assertTrue(users.liveSessions() <= 100, "live: " + users.liveSessions());
    }
    // Every user's next call works without signing in again, evicted or not.
    for (int i = 0; i < 1000; i++) {
      assertEquals("Bearer token-" + i, inbox.inbox("user-" + i, "user-" + i).execute().body());
      assertTrue(users.liveSessions() <= 100, "live: " + users.liveSessions());
    }
    assertEquals(1000, tokens.listFiles((dir, name) -> name.endsWith(".json")).length);
  }

  @Test
  void sessionsUnusedForTheIdleTimeoutAreEvicted() throws IOException {
    SessionRegistry registry = onFiles().sessionIdleTimeout(1, TimeUnit.HOURS).build();
    KeyedSessions<String> users = registry.keyed("user", String.class);
    for (int i = 0; i < 3; i++) users.signIn("user-" + i, Tokens.of("token-" + i, null));

    assertEquals(0, users.evictIdle(System.nanoTime())); // Used just now.
    assertEquals(3, users.evictIdle(System.nanoTime() + TimeUnit.HOURS.toNanos(2)));
    assertEquals(0, users.liveSessions());
    assertEquals("token-1", users.currentTokens("user-1").accessToken()); // From its file.
  }

  @Test
  void theSharedTimerEvictsIdleSessions() throws IOException {
    SessionRegistry registry = onFiles().sessionIdleTimeout(20, TimeUnit.MILLISECONDS).build();
    KeyedSessions<String> users = registry.keyed("user", String.class);
    users.signIn("alice", Tokens.of("a", null));

    Await.until("the idle session is evicted", () -> users.liveSessions() == 0);
    assertEquals("a", users.currentTokens("alice").accessToken());
  }

  @Test
  void aSessionWithACallUnderWayIsNeverEvicted() throws Exception {
    SessionRegistry registry = onFiles().build();
    KeyedSessions<String> users = registry.keyed("user", String.class);
    Inbox inbox = inbox(registry);
    users.signIn("busy", Tokens.of("b", null));
    users.signIn("idle", Tokens.of("i", null));

    held = new CountDownLatch(1);
    arrived = new CountDownLatch(1);
    CompletableFuture<String> call =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return inbox.inbox("busy", "busy").execute().body();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    assertTrue(arrived.await(30, TimeUnit.SECONDS));

    long later = System.nanoTime() + TimeUnit.HOURS.toNanos(2);
    assertEquals(1, users.evictIdle(later)); // Only the idle one.
    assertEquals(1, users.liveSessions());
    held.countDown();
    assertEquals("Bearer b", call.get(30, TimeUnit.SECONDS));
    assertEquals(1, users.evictIdle(later)); // Now it may go.
  }

  @Test
  void inMemorySessionsAreNeverEvictedWhileSignedIn() throws IOException {
    SessionRegistry registry =
        SessionRegistry.builder()
            .addKeyed("user", String.class, user -> RefreshManager.builder())
            .maxSessions(2)
            .build();
    KeyedSessions<String> users = registry.keyed("user", String.class);
    for (int i = 0; i < 5; i++) users.signIn("user-" + i, Tokens.of("token-" + i, null));

    assertEquals(5, users.liveSessions()); // Over the bound: memory holds their only copy.
    for (int i = 0; i < 5; i++) {
      assertEquals("token-" + i, users.currentTokens("user-" + i).accessToken());
    }
    users.signOut("user-0");
    users.signOut("user-1");
    users.signOut("user-2");
    users.currentTokens("user-new"); // A new session: the signed-out ones may go now.
    assertTrue(users.liveSessions() <= 3, "live: " + users.liveSessions());
    assertNotNull(users.currentTokens("user-3"));
    assertNotNull(users.currentTokens("user-4"));
  }

  @Test
  void countersOfEvictedSessionsStayInTheCredentialsTotal() throws IOException {
    SessionRegistry registry =
        SessionRegistry.builder()
            .addKeyed(
                "user",
                String.class,
                user ->
                    RefreshManager.builder()
                        .tokenStore(TokenStore.fileIn(tokens, user))
                        .refreshApi(current -> Tokens.of(current.accessToken() + "+", "r")))
            .build();
    KeyedSessions<String> users = registry.keyed("user", String.class);
    users.signIn("alice", Tokens.of("a", "r"));
    users.refreshNow("alice");
    users.signIn("bob", Tokens.of("b", "r"));
    users.refreshNow("bob");
    assertEquals(2, users.stats().refreshesSucceeded());

    assertEquals(2, users.evictIdle(System.nanoTime() + TimeUnit.DAYS.toNanos(1)));
    assertEquals(2, users.stats().refreshesSucceeded());
    assertEquals(2, registry.stats("user").refreshesSucceeded());
    assertEquals(0, users.stats("alice").refreshesSucceeded()); // Built again: from zero.
    assertEquals("a+", users.currentTokens("alice").accessToken());
  }
}
