package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Response;

/**
 * Machine tokens from a {@link TokenSource}, a refresh the app forces, and revocation on sign-out:
 * all through the same single flight as a refresh.
 */
final class TokenSourceTest {
  private final RecordingListener listener = new RecordingListener();
  private @Nullable Fixture fixture;

  @AfterEach
  void close() throws IOException {
    if (fixture != null) fixture.close();
  }

  /** A source the test controls: counts its calls, can be held, returns what the test says. */
  private static final class GatedSource implements TokenSource {
    final AtomicInteger fetches = new AtomicInteger();
    final AtomicReference<GatedRefreshApi.Answer> answer = new AtomicReference<>();
    volatile CountDownLatch release = new CountDownLatch(0);

    GatedSource(String accessToken) {
      answer.set(current -> Tokens.of(accessToken));
    }

    GatedSource hold() {
      release = new CountDownLatch(1);
      return this;
    }

    @Override
    public Tokens fetch() throws IOException {
      fetches.incrementAndGet();
      try {
        if (!release.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
      } catch (InterruptedException e) {
        throw new java.io.InterruptedIOException();
      }
      return answer.get().answer(null);
    }
  }

  /** Builds a fixture with no sign-in: a source acquires on the first call. */
  private Api start(RefreshManager.Builder builder, String validToken) throws IOException {
    ApiServer server = new ApiServer(validToken);
    RefreshManager auth = builder.addListener(listener).build();
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(1_000); // Every call of a storm in flight at once.
    dispatcher.setMaxRequestsPerHost(1_000);
    OkHttpClient client =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .addInterceptor(auth.interceptor())
            .build();
    fixture = new Fixture(server, auth, client);
    return fixture.create(Api.class);
  }

  private static BlockingQueue<Object> enqueue(Api api, int calls) {
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < calls; i++) api.me().enqueue(Callbacks.recording(results));
    return results;
  }

  private static void assertAllOk(BlockingQueue<Object> results, int calls) throws Exception {
    for (int i = 0; i < calls; i++) {
      Object result = results.poll(30, TimeUnit.SECONDS);
      assertTrue(result instanceof Object[], "call failed: " + result);
      assertEquals(200, ((Response<?>) ((Object[]) result)[1]).code());
    }
  }

  @Test
  void firstCallsShareOneAcquisition() throws Exception {
    GatedSource source = new GatedSource("m1").hold();
    Api api = start(RefreshManager.builder().tokenSource(source), "m1");

    BlockingQueue<Object> results = enqueue(api, 1_000);
    Await.until("all wait for the first token", () -> Await.waiting(fixture.auth) == 1_000);
    assertEquals(0, fixture.server.server.getRequestCount()); // None went without a token.
    source.release.countDown();

    assertAllOk(results, 1_000);
    assertEquals(1, source.fetches.get());
    assertEquals(1_000, fixture.server.count("Bearer m1"));
  }

  @Test
  void stormOf401sOnAServiceTokenAcquiresOnce() throws Exception {
    GatedSource source = new GatedSource("m1");
    Api api = start(RefreshManager.builder().tokenSource(source), "m1");
    assertEquals(200, api.me().execute().code());
    source.hold();
    source.answer.set(current -> Tokens.of("m2"));
    fixture.server.acceptOnly("m2"); // The server dropped m1.

    BlockingQueue<Object> results = enqueue(api, 1_000);
    Await.until("all got 401 and wait", () -> Await.waiting(fixture.auth) == 1_000);
    source.release.countDown();

    assertAllOk(results, 1_000);
    assertEquals(2, source.fetches.get()); // The first token, and one for the whole storm.
    assertEquals(1_000, fixture.server.count("Bearer m2"));
  }

  @Test
  void permanentErrorNeverLoopsUntilSignOutResets() throws Exception {
    GatedSource source = new GatedSource("m1");
    source.answer.set(
        current -> {
          throw RefreshFailedException.permanent(
              "the token endpoint refused the client: invalid_client");
        });
    Api api = start(RefreshManager.builder().tokenSource(source), "m1");

    for (int i = 0; i < 10; i++) {
      IOException e = assertThrows(IOException.class, () -> api.me().execute());
      assertEquals(
          "Token request failed for good: the token endpoint refused the client: invalid_client",
          e.getMessage());
    }
    assertEquals(1, source.fetches.get());
    assertEquals(0, fixture.server.server.getRequestCount());

    source.answer.set(current -> Tokens.of("m1")); // The configuration was fixed.
    fixture.auth.signOut(); // The documented reset.
    assertEquals(200, api.me().execute().code());
    assertEquals(2, source.fetches.get());
  }

  @Test
  void signOutDropsTheTokenAndTheNextCallAcquiresAnother() throws Exception {
    AtomicInteger n = new AtomicInteger();
    GatedSource source = new GatedSource("unused");
    source.answer.set(current -> Tokens.of("m" + n.incrementAndGet()));
    Api api = start(RefreshManager.builder().tokenSource(source), "m1");
    assertEquals(200, api.me().execute().code());

    fixture.auth.signOut();
    assertNull(fixture.auth.currentTokens());
    fixture.server.acceptOnly("m2");
    assertEquals(200, api.me().execute().code());

    assertEquals(2, source.fetches.get());
    assertEquals(
        Arrays.asList("refreshed", "signedOut SIGN_OUT_CALLED", "refreshed"), listener.events);
  }

  @Test
  void expiryWithinTheLeewayAcquiresBeforeSending() throws Exception {
    AtomicLong now = new AtomicLong(1_000_000L);
    AtomicInteger n = new AtomicInteger();
    GatedSource source = new GatedSource("unused");
    source.answer.set(current -> Tokens.of("m" + n.incrementAndGet(), null, now.get() + 3_600_000));
    Api api = start(RefreshManager.builder().tokenSource(source).clock(now::get), "m1");
    assertEquals(200, api.me().execute().code());

    now.addAndGet(3_600_000 - 10_000); // 10 s before expiry: inside the 30 s leeway.
    fixture.server.acceptOnly("m2");
    assertEquals(200, api.me().execute().code());

    assertEquals(2, source.fetches.get());
    assertEquals(0, fixture.server.count("Bearer m1") - 1); // The old token was not sent again.
  }

  @Test
  void refreshApiAndTokenSourceExcludeEachOther() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                RefreshManager.builder()
                    .refreshApi(current -> current)
                    .tokenSource(() -> Tokens.of("m"))
                    .build());
    assertEquals(
        "refreshApi and tokenSource exclude each other: a session that is signed in to"
            + " refreshes with a RefreshApi, machine tokens come from a TokenSource",
        e.getMessage());
  }

  @Test
  void refreshNowWhile500CallsAreInFlightRefreshesOnce() throws Exception {
    GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r2")).hold();
    Api api = start(RefreshManager.builder().refreshApi(refreshApi), "old");
    fixture.auth.signIn(Tokens.of("old", "r1"));
    CountDownLatch arrived = fixture.server.closeGate(500);
    BlockingQueue<Object> results = enqueue(api, 500);
    assertTrue(arrived.await(30, TimeUnit.SECONDS)); // All 500 were sent with "old".

    CompletableFuture<Tokens> forced = new CompletableFuture<>();
    fixture.auth.refreshNow(
        new RefreshCallback() {
          @Override
          public void onRefreshed(Tokens tokens) {
            forced.complete(tokens);
          }

          @Override
          public void onFailure(IOException e) {
            forced.completeExceptionally(e);
          }
        });
    refreshApi.awaitEntered();
    fixture.server.acceptOnly("new");
    fixture.server.openGate(); // Their 401s join the forced refresh.
    Await.until("all wait", () -> Await.waiting(fixture.auth) == 501);
    refreshApi.release();

    assertEquals(Tokens.of("new", "r2"), forced.get(30, TimeUnit.SECONDS));
    assertAllOk(results, 500);
    assertEquals(1, refreshApi.calls.get());
    assertEquals(1, fixture.auth.stats().refreshesStarted());
  }

  @Test
  void refreshNowRacingA401RefreshJoinsIt() throws Exception {
    GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r2")).hold();
    Api api = start(RefreshManager.builder().refreshApi(refreshApi), "new");
    fixture.auth.signIn(Tokens.of("old", "r1"));
    BlockingQueue<Object> results = enqueue(api, 1); // Its 401 starts the refresh.
    refreshApi.awaitEntered();

    CompletableFuture<Tokens> forced = CompletableFuture.supplyAsync(this::refreshNowUnchecked);
    Await.until("both wait", () -> Await.waiting(fixture.auth) == 2);
    refreshApi.release();

    assertEquals(Tokens.of("new", "r2"), forced.get(30, TimeUnit.SECONDS));
    assertAllOk(results, 1);
    assertEquals(1, refreshApi.calls.get());
  }

  private Tokens refreshNowUnchecked() {
    try {
      return fixture.auth.refreshNow();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void refreshNowWithNothingToRefreshWithFails() throws Exception {
    start(RefreshManager.builder().refreshApi(current -> current), "old");
    fixture.auth.signIn(Tokens.of("old")); // No refresh token.

    IOException e = assertThrows(IOException.class, () -> fixture.auth.refreshNow());
    assertEquals(
        "the refresh ended without tokens: the server rejected it, the app signed out, or there"
            + " is no RefreshApi, TokenSource or refresh token to refresh with",
        e.getMessage());
  }

  @Test
  void refreshNowOfATokenSourceAcquiresANewToken() throws Exception {
    AtomicInteger n = new AtomicInteger();
    GatedSource source = new GatedSource("unused");
    source.answer.set(current -> Tokens.of("m" + n.incrementAndGet()));
    start(RefreshManager.builder().tokenSource(source), "m1");

    assertEquals(Tokens.of("m1"), fixture.auth.refreshNow());
    assertEquals(Tokens.of("m2"), fixture.auth.refreshNow());
  }

  @Test
  void signOutRevokesWithoutWaitingForIt() throws Exception {
    CountDownLatch revoking = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<Tokens> revoked = new AtomicReference<>();
    TokenRevoker revoker =
        tokens -> {
          revoked.set(tokens);
          revoking.countDown();
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            throw new java.io.InterruptedIOException();
          }
          throw new IOException("revocation endpoint down");
        };
    start(RefreshManager.builder().refreshApi(current -> current).revokeOnSignOut(revoker), "a");
    fixture.auth.signIn(Tokens.of("a", "r"));

    fixture.auth.signOut(); // Returns while the revocation is still held.
    assertTrue(revoking.await(30, TimeUnit.SECONDS));
    assertEquals(Tokens.of("a", "r"), revoked.get());
    assertNull(fixture.auth.currentTokens());
    release.countDown();

    Await.until("failure told", () -> listener.events.contains("revokeFailed"));
    assertEquals("revocation endpoint down", listener.causes.get(0).getMessage());
  }

  @Test
  void signOutWhenSignedOutRevokesNothing() throws Exception {
    AtomicInteger revocations = new AtomicInteger();
    start(
        RefreshManager.builder()
            .refreshApi(current -> current)
            .revokeOnSignOut(tokens -> revocations.incrementAndGet()),
        "a");
    fixture.auth.signOut();
    fixture.auth.signIn(Tokens.of("a", "r"));
    fixture.auth.signOut();
    Await.until("revoked once", () -> revocations.get() == 1);
    fixture.auth.signOut();
    assertEquals(1, revocations.get());
  }
}
