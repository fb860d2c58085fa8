package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import retrofit2.Call;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * A token server that hands out the same token again, with less time left each time, until shortly
 * before it expires (cloud metadata servers do): a bounded number of token requests per lifetime,
 * never one per call. The time is an injected clock.
 */
final class ReservedTokenTest {
  private static final long HOUR = TimeUnit.HOURS.toMillis(1);

  interface Api {
    @GET("data")
    Call<String> data();
  }

  private final MockWebServer server = new MockWebServer();
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private OkHttpClient client;

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
    if (client != null) client.dispatcher().executorService().shutdown();
  }

  /** {@code newWithinMillis}: how long before expiry the server issues a new token. */
  @ParameterizedTest(name = "a new token {0} ms before expiry")
  @ValueSource(longs = {30_000, 1_000})
  void aReservedTokenCostsAtMostTwoExtraRequestsPerLifetime(long newWithinMillis) throws Exception {
    AtomicInteger fetches = new AtomicInteger();
    AtomicInteger issued = new AtomicInteger();
    long[] expiresAt = {now.get() + HOUR};
    TokenSource metadataServer =
        () -> {
          fetches.incrementAndGet();
          synchronized (expiresAt) {
            if (now.get() >= expiresAt[0] - newWithinMillis) {
              expiresAt[0] = now.get() + HOUR;
              issued.incrementAndGet();
            }
            return Tokens.of("token-" + issued.get(), null, expiresAt[0]);
          }
        };
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            return new MockResponse().setBody("ok");
          }
        });
    server.setServerSocketFactory(new ApiServer.NoDelayServerSocketFactory());
    server.start();
    RefreshManager auth =
        RefreshManager.builder().tokenSource(metadataServer).clock(now::get).build();
    client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    Api api =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);

    int lifetimes = 3;
    long end = now.get() + lifetimes * HOUR;
    int calls = 0;
    while (now.get() < end) {
      assertEquals(200, api.data().execute().code());
      calls++;
      // A refresh ahead runs in the background: let it end before the clock moves on.
      Await.until(
          "no refresh runs",
          () ->
              auth.stats().refreshesStarted() == fetches.get()
                  && auth.stats().refreshesSucceeded() + auth.stats().refreshesFailed()
                      == auth.stats().refreshesStarted());
      now.addAndGet(2_000);
    }

    assertTrue(issued.get() >= lifetimes - 1, "new tokens: " + issued.get()); // One per expiry.
    assertTrue(
        fetches.get() <= 1 + 3 * lifetimes,
        fetches.get() + " token requests for " + lifetimes + " lifetimes and " + calls + " calls");
  }
}
