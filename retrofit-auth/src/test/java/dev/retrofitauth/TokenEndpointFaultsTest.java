package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.oauth2.OAuth2RefreshApi;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okhttp3.mockwebserver.SocketPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * Faults at the token endpoint: the stored tokens stay byte-identical, each waiter gets one clear
 * failure, no thread stays blocked, and the next call refreshes and succeeds.
 */
final class TokenEndpointFaultsTest {
  interface Api {
    @GET("api/me")
    Call<String> me();
  }

  enum Fault {
    DISCONNECT_BEFORE_RESPONSE,
    DISCONNECT_DURING_BODY,
    STALL_PAST_REFRESH_TIMEOUT,
    HTTP_500,
    HTTP_503,
    HTTP_429_RETRY_AFTER,
    MALFORMED_BODY,
    EMPTY_ACCESS_TOKEN;

    MockResponse response() {
      switch (this) {
        case DISCONNECT_BEFORE_RESPONSE:
          return new MockResponse().setSocketPolicy(SocketPolicy.DISCONNECT_AFTER_REQUEST);
        case DISCONNECT_DURING_BODY:
          return json(200, "{\"access_token\":\"new-access\",\"refresh_token\":\"new-refresh\"}")
              .setSocketPolicy(SocketPolicy.DISCONNECT_DURING_RESPONSE_BODY);
        case STALL_PAST_REFRESH_TIMEOUT:
          return new MockResponse().setSocketPolicy(SocketPolicy.NO_RESPONSE);
        case HTTP_500:
          return new MockResponse().setResponseCode(500);
        case HTTP_503:
          return new MockResponse().setResponseCode(503);
        case HTTP_429_RETRY_AFTER:
          return new MockResponse().setResponseCode(429).setHeader("Retry-After", "30");
        case MALFORMED_BODY:
          return json(200, "{\"access_token\":\"new-access\",\"refresh_tok");
        case EMPTY_ACCESS_TOKEN:
          return json(200, "{\"access_token\":\"\",\"refresh_token\":\"new-refresh\"}");
      }
      throw new AssertionError(this);
    }
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse()
        .setResponseCode(code)
        .setHeader("Content-Type", "application/json")
        .setBody(body);
  }

  @TempDir Path directory;
  private final MockWebServer tokenServer = new MockWebServer();
  private final MockWebServer apiServer = new MockWebServer();
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final AtomicInteger tokenRequests = new AtomicInteger();
  private volatile MockResponse nextTokenResponse;
  private volatile String validAccess = "old-access";
  private OkHttpClient client;

  @BeforeEach
  void setUp() throws IOException {
    tokenServer.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            tokenRequests.incrementAndGet();
            return nextTokenResponse;
          }
        });
    apiServer.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            return ("Bearer " + validAccess).equals(request.getHeader("Authorization"))
                ? new MockResponse().setBody("ok")
                : new MockResponse().setResponseCode(401);
          }
        });
    tokenServer.start();
    apiServer.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    tokenServer.shutdown();
    apiServer.shutdown();
    if (client != null) client.dispatcher().executorService().shutdown();
  }

  @ParameterizedTest
  @EnumSource(Fault.class)
  void faultLeavesTokensIntactFailsEachWaiterOnceAndNextRefreshWorks(Fault fault) throws Exception {
    Path file = directory.resolve("tokens.json");
    TokenStore store = TokenStore.file(file.toFile());
    OAuth2RefreshApi oauth =
        OAuth2RefreshApi.builder()
            .tokenEndpoint(tokenServer.url("/token").toString())
            .clientId("app")
            .client(new OkHttpClient.Builder().readTimeout(1, TimeUnit.SECONDS).build())
            .clock(now::get)
            .build();
    RefreshManager auth =
        RefreshManager.builder()
            .tokenStore(store)
            .refreshApi(oauth)
            .clock(now::get)
            .refreshTimeout(300, TimeUnit.MILLISECONDS)
            .build();
    auth.signIn(Tokens.of("old-access", "old-refresh"));
    byte[] before = Files.readAllBytes(file);
    client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    Api api =
        new Retrofit.Builder()
            .baseUrl(apiServer.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);
    validAccess = "expired-for-everyone";
    nextTokenResponse = fault.response();

    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          // 20 asynchronous and 5 synchronous calls all get a 401 and wait for the refresh.
          int async = 20;
          List<Object> outcomes = new java.util.concurrent.CopyOnWriteArrayList<>();
          CountDownLatch done = new CountDownLatch(async);
          for (int i = 0; i < async; i++) {
            api.me()
                .enqueue(
                    new Callback<String>() {
                      @Override
                      public void onResponse(Call<String> call, Response<String> response) {
                        outcomes.add(response);
                        done.countDown();
                      }

                      @Override
                      public void onFailure(Call<String> call, Throwable t) {
                        outcomes.add(t);
                        done.countDown();
                      }
                    });
          }
          ExecutorService sync = Executors.newFixedThreadPool(5);
          List<Future<?>> syncResults = new ArrayList<>();
          for (int i = 0; i < 5; i++) syncResults.add(sync.submit(() -> api.me().execute()));

          assertTrue(done.await(20, TimeUnit.SECONDS), "every asynchronous waiter was answered");
          for (Object outcome : outcomes) assertClearFailure(fault, outcome);
          for (Future<?> f : syncResults) {
            java.util.concurrent.ExecutionException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class,
                    () -> f.get(20, TimeUnit.SECONDS));
            assertClearFailure(fault, e.getCause());
          }
          sync.shutdown();
          assertEquals(async, outcomes.size()); // Exactly one answer each.
          assertEquals(0, Await.waiting(auth));
          assertArrayEquals(before, Files.readAllBytes(file)); // Byte-identical.
          assertEquals(Tokens.of("old-access", "old-refresh"), auth.currentTokens());
        });

    // The fault is over: the next call refreshes and succeeds.
    nextTokenResponse = json(200, "{\"access_token\":\"new-access\",\"refresh_token\":\"r2\"}");
    validAccess = "new-access";
    now.addAndGet(TimeUnit.MINUTES.toMillis(5)); // Past any backoff or Retry-After.
    Await.until(
        "a refresh after the fault succeeds",
        () -> {
          try {
            return api.me().execute().code() == 200;
          } catch (IOException stillFailingFast) {
            now.addAndGet(TimeUnit.MINUTES.toMillis(5));
            return false;
          }
        });
    assertEquals(Tokens.of("new-access", "r2"), store.load());
  }

  private static void assertClearFailure(Fault fault, Object outcome) {
    assertTrue(outcome instanceof IOException, fault + ": " + outcome);
    IOException e = (IOException) outcome;
    assertNotNull(e.getCause(), fault.toString());
    assertEquals(
        "Token refresh failed: " + e.getCause().getMessage(), e.getMessage(), fault.toString());
    String cause = String.valueOf(e.getCause().getMessage());
    assertTrue(!cause.contains("old-") && !cause.contains("new-"), cause);
  }
}
