package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.oauth2.OAuth2RefreshApi;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;
import retrofit2.http.Path;
import retrofit2.http.Tag;

/**
 * A server that acts for each of its users: one session per user in one {@link SessionRegistry},
 * against a real OAuth 2 server that rotates refresh tokens and an API that checks each token's
 * {@code sub}.
 */
final class PerUserSessionsTest {
  interface Inbox {
    @Credential("user")
    @GET("users/{id}/inbox")
    Call<String> inbox(@Path("id") String id, @Tag UserId user);
  }

  private final IssuingServers servers = new IssuingServers();
  private final OAuth2RefreshApi oauth = servers.refreshApi("users");

  /** The most library threads seen while a refresh ran. */
  private final AtomicInteger libraryThreadsSeen = new AtomicInteger();

  /** Every refresh token presented, by user. */
  private final Map<String, List<String>> presented = new ConcurrentHashMap<>();

  private final SessionRegistry registry =
      SessionRegistry.builder()
          .addKeyed(
              "user",
              UserId.class,
              user ->
                  RefreshManager.builder()
                      .refreshApi(
                          current -> {
                            libraryThreadsSeen.accumulateAndGet(libraryThreads(), Math::max);
                            presented
                                .computeIfAbsent(user.value, u -> new CopyOnWriteArrayList<>())
                                .add(current.refreshToken());
                            return oauth.refresh(current);
                          }))
          .build();

  private final KeyedSessions<UserId> users = registry.keyed("user", UserId.class);

  /**
   * The library's threads: refresh executors and the timer. The rest of the process (OkHttp's
   * dispatcher, MockWebServer's thread per connection, other tests' leftovers) follows the test's
   * own configuration and load, not the number of sessions.
   */
  private static int libraryThreads() {
    int count = 0;
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.getName().startsWith("retrofit-auth")) count++;
    }
    return count;
  }

  private final OkHttpClient client;
  private final Inbox inbox;

  PerUserSessionsTest() throws IOException {
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(64);
    dispatcher.setMaxRequestsPerHost(64);
    client =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .addInterceptor(registry.interceptor())
            .build();
    inbox =
        new Retrofit.Builder()
            .baseUrl(servers.api.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(registry))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Inbox.class);
  }

  @AfterEach
  void tearDown() throws IOException {
    servers.close();
    client.dispatcher().executorService().shutdown();
  }

  @Test
  void oneRefreshPerUserPerExpiryNeverAnotherUsersTokenAndNoThreadPerUser() throws Exception {
    int peakAt10 = storm("ten", 10, 20);
    int peakAt500 = storm("many", 500, 20);

    assertEquals(0, servers.wrongToken.get());
    assertTrue(
        peakAt500 <= peakAt10 + 10,
        "library threads with 500 users " + peakAt500 + ", with 10 users " + peakAt10);
    assertEquals(510, users.liveSessions());
    assertEquals(510, users.stats().refreshesSucceeded());
  }

  /**
   * Signs in {@code count} users, expires every access token, and makes {@code callsEach} calls per
   * user at once. Returns the peak number of threads meanwhile.
   */
  private int storm(String prefix, int count, int callsEach) throws Exception {
    List<UserId> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      UserId user = new UserId(prefix + "-" + i);
      Tokens tokens = servers.signIn("users", user.value);
      users.signIn(user, tokens);
      servers.expired.add(tokens.accessToken()); // Expired before its first call: one expiry.
      ids.add(user);
    }

    libraryThreadsSeen.set(0);
    CountDownLatch done = new CountDownLatch(count * callsEach);
    List<String> failures = new CopyOnWriteArrayList<>();
    for (int call = 0; call < callsEach; call++) {
      for (UserId user : ids) {
        inbox
            .inbox(user.value, user)
            .enqueue(
                new Callback<String>() {
                  @Override
                  public void onResponse(Call<String> c, Response<String> response) {
                    if (response.code() != 200 || !user.value.equals(response.body())) {
                      failures.add(user.value + ": HTTP " + response.code());
                    }
                    done.countDown();
                  }

                  @Override
                  public void onFailure(Call<String> c, Throwable t) {
                    failures.add(user.value + ": " + t);
                    done.countDown();
                  }
                });
      }
    }
    assertTrue(done.await(120, TimeUnit.SECONDS), "calls left: " + done.getCount());
    // Pools keep their threads a while after use: at the end they show the most each needed.
    int peak = Math.max(libraryThreadsSeen.get(), libraryThreads());

    assertEquals(List.of(), failures);
    Set<String> allPresented = ConcurrentHashMap.newKeySet();
    for (UserId user : ids) {
      List<String> mine = presented.get(user.value);
      assertEquals(1, mine.size(), user.value + " refreshed " + mine.size() + " times");
      assertTrue(allPresented.add(mine.get(0)), "a refresh token presented twice");
      assertEquals(1, users.stats(user).refreshesSucceeded());
      assertEquals(user.value, IssuingServers.subject(users.currentTokens(user).accessToken()));
    }
    return peak;
  }
}
