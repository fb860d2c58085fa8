package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A server that answers 401 to every retry, however fresh the token: a refresh cannot fix it, so
 * after {@link SingleFlight#MAX_UNFIXED_REFRESHES} refreshes in a row whose retries still got a
 * 401, refreshing pauses. Before, every call refreshed (successfully, so no backoff began) and
 * rotated the refresh token at the request rate: 20 refreshes for 20 calls.
 */
final class UnfixableUnauthorizedTest {
  private final AtomicLong now = new AtomicLong(1_000_000L);
  private final AtomicInteger refreshes = new AtomicInteger();
  private final RecordingListener listener = new RecordingListener();
  private Fixture fixture;

  @AfterEach
  void close() throws IOException {
    fixture.close();
  }

  private Fixture start(boolean authenticator) throws IOException {
    okhttp3.OkHttpClient.Builder client = new okhttp3.OkHttpClient.Builder();
    RefreshManager.Builder builder =
        RefreshManager.builder()
            .clock(now::get)
            .addListener(listener)
            .refreshApi(
                current -> {
                  int n = refreshes.incrementAndGet();
                  return Tokens.of("fresh-" + n, "r-" + n);
                });
    fixture = Fixture.create(builder, client);
    fixture.server.acceptOnly("none-of-them"); // Every token gets a 401.
    if (authenticator) {
      fixture.auth.servedBy(okhttp3.HttpUrl.get(fixture.server.url("/")));
    }
    return fixture;
  }

  @Test
  void refreshingPausesAfterThreeRefreshesWhoseRetriesStillGot401() throws Exception {
    Api api = start(false).create(Api.class);
    int unauthorized = 0;
    int failedFast = 0;
    for (int i = 0; i < 20; i++) {
      try {
        if (api.me().execute().code() == 401) unauthorized++;
      } catch (IOException e) {
        assertTrue(
            e.getCause().getMessage().startsWith("the server answered 401 to the retry after each"),
            e.getCause().getMessage());
        failedFast++;
      }
    }
    assertEquals(SingleFlight.MAX_UNFIXED_REFRESHES, refreshes.get());
    assertEquals(3, unauthorized);
    assertEquals(17, failedFast);
    assertTrue(listener.events.contains("refreshFailed"), listener.events.toString());

    // The pause ends: one more refresh is tried.
    now.addAndGet(SingleFlight.UNFIXED_PAUSE_SECONDS * 1_000 + 1);
    assertEquals(401, api.me().execute().code());
    assertEquals(SingleFlight.MAX_UNFIXED_REFRESHES + 1, refreshes.get());
  }

  @Test
  void aRetryThatSucceedsStartsTheCountAgain() throws Exception {
    Api api = start(false).create(Api.class);
    for (int round = 0; round < 5; round++) {
      assertEquals(401, api.me().execute().code()); // Refresh, retry: 401 again.
      assertEquals(401, api.me().execute().code());
      // Now the server takes the next token: the retry after the next refresh succeeds.
      fixture.server.acceptOnly("fresh-" + (refreshes.get() + 1));
      assertEquals(200, api.me().execute().code());
      fixture.server.acceptOnly("none-of-them");
    }
    assertEquals(15, refreshes.get()); // Never two unfixed refreshes more than in a row.
  }

  @Test
  void plainOkHttpCallsThroughTheAuthenticatorPauseToo() throws Exception {
    start(true);
    okhttp3.OkHttpClient client =
        fixture.client.newBuilder().authenticator(fixture.auth.authenticator()).build();
    Request request = new Request.Builder().url(fixture.server.url("/api/image")).build();
    for (int i = 0; i < 20; i++) {
      try (Response response = client.newCall(request).execute()) {
        assertEquals(401, response.code());
      } catch (IOException e) {
        // Failing fast while refreshing pauses.
      }
    }
    assertEquals(SingleFlight.MAX_UNFIXED_REFRESHES, refreshes.get());
  }
}
