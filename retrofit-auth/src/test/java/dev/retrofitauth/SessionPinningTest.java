package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;
import retrofit2.http.Tag;

/** A keyed session's pins are released once per call, however the call ends. */
final class SessionPinningTest {
  interface Inbox {
    @Credential("user")
    @GET("inbox")
    Call<String> inbox(@Tag String user);
  }

  private final MockWebServer server = new MockWebServer();
  private OkHttpClient client;

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
    if (client != null) client.dispatcher().executorService().shutdown();
  }

  @Test
  void aCallbackThatThrowsOnAFailureDeliveredAtOnceLeavesTheSessionUsable() throws Exception {
    server.enqueue(new MockResponse().setBody("never asked"));
    server.start();
    SessionRegistry registry =
        SessionRegistry.builder()
            .addKeyed(
                "user",
                String.class,
                user ->
                    RefreshManager.builder()
                        .tokenSource(
                            () -> {
                              throw new IOException("token endpoint down");
                            })
                        .refreshBackoff(1, 1, TimeUnit.HOURS))
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
    assertThrows(IOException.class, () -> inbox.inbox("alice").execute()); // Now in backoff.

    // In backoff the failure is delivered inside enqueue(), and this callback throws it out.
    RuntimeException thrown = new RuntimeException("the app's callback failed");
    RuntimeException e =
        assertThrows(
            RuntimeException.class,
            () ->
                inbox
                    .inbox("alice")
                    .enqueue(
                        new Callback<String>() {
                          @Override
                          public void onResponse(Call<String> call, Response<String> response) {}

                          @Override
                          public void onFailure(Call<String> call, Throwable t) {
                            throw thrown;
                          }
                        }));
    assertEquals(thrown, e);

    // The session's pin was released once: it is still there, and can be pinned and evicted.
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          assertEquals(null, users.currentTokens("alice"));
          assertEquals(1, users.evictIdle(System.nanoTime() + TimeUnit.DAYS.toNanos(1)));
        });
    Await.noDeadlock();
  }
}
