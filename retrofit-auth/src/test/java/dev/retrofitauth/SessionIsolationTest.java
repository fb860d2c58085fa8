package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;
import retrofit2.http.Tag;

/** What one key's session does never reaches another key's calls. */
final class SessionIsolationTest {
  interface Inbox {
    @Credential("user")
    @GET("inbox")
    Call<String> inbox(@Tag String user);
  }

  private final MockWebServer server = new MockWebServer();
  private final GatedRefreshApi bobsRefresh = GatedRefreshApi.returning(Tokens.of("bob-2", "r"));
  private OkHttpClient client;

  @AfterEach
  void tearDown() throws IOException {
    bobsRefresh.release();
    server.shutdown();
    client.dispatcher().executorService().shutdown();
  }

  @Test
  void signingOneUserOutLeavesAnotherUsersWaitingCallsAlone() throws Exception {
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            String authorization = String.valueOf(request.getHeader("Authorization"));
            if (authorization.equals("Bearer alice-1") || authorization.equals("Bearer bob-2")) {
              return new MockResponse().setBody(authorization);
            }
            return new MockResponse().setResponseCode(401);
          }
        });
    server.setServerSocketFactory(new ApiServer.NoDelayServerSocketFactory());
    server.start();
    SessionRegistry registry =
        SessionRegistry.builder()
            .addKeyed(
                "user",
                String.class,
                user ->
                    RefreshManager.builder()
                        .refreshApi(
                            user.equals("bob")
                                ? bobsRefresh.hold()
                                : current -> Tokens.of("alice-2", "r")))
            .build();
    client = new OkHttpClient.Builder().addInterceptor(registry.interceptor()).build();
    Inbox inbox =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(registry))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Inbox.class);
    KeyedSessions<String> users = registry.keyed("user", String.class);
    users.signIn("alice", Tokens.of("alice-1", "r"));
    users.signIn("bob", Tokens.of("bob-1", "r")); // Expired: Bob's calls wait for his refresh.

    List<CompletableFuture<String>> bobsCalls = new ArrayList<>();
    for (int i = 0; i < 10; i++) bobsCalls.add(enqueue(inbox.inbox("bob")));
    bobsRefresh.awaitEntered();
    Await.until("Bob's calls wait", () -> users.stats().callsWaitingForRefresh() == 10);

    users.signOut("alice");
    assertNull(users.currentTokens("alice"));
    assertEquals(10, users.stats("bob").callsWaitingForRefresh()); // Untouched.

    bobsRefresh.release();
    for (CompletableFuture<String> call : bobsCalls) {
      assertEquals("Bearer bob-2", call.get(30, TimeUnit.SECONDS));
    }
    assertEquals(1, bobsRefresh.calls.get());
    assertEquals(1, users.stats("bob").refreshesSucceeded());
    assertTrue(users.stats("alice").refreshesStarted() == 0);
  }

  private static CompletableFuture<String> enqueue(Call<String> call) {
    CompletableFuture<String> result = new CompletableFuture<>();
    call.enqueue(
        new Callback<String>() {
          @Override
          public void onResponse(Call<String> c, Response<String> response) {
            result.complete(response.code() == 200 ? response.body() : "HTTP " + response.code());
          }

          @Override
          public void onFailure(Call<String> c, Throwable t) {
            result.completeExceptionally(t);
          }
        });
    return result;
  }
}
