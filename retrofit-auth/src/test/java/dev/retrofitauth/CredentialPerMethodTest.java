package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.oauth2.OAuth2TokenSource;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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

/**
 * Several credentials in one Retrofit, against a real OAuth 2 server with an issuer per credential:
 * each method's calls carry its credential's token, and each credential (or each set of scopes)
 * makes one token request however many calls need it at once.
 */
final class CredentialPerMethodTest {
  interface Api {
    @GET("iss/app/me")
    Call<String> me();

    @Credential("partner")
    @GET("iss/partner/rates")
    Call<String> rates();

    @Credential(value = "reports", scope = "reports.read")
    @GET("aud/reports.read/list")
    Call<String> readReports();

    @Credential(value = "reports", scope = "reports.write")
    @GET("aud/reports.write/list")
    Call<String> writeReports();
  }

  private final IssuingServers servers = new IssuingServers();
  private final OkHttpClient.Builder clientBuilder;

  CredentialPerMethodTest() throws IOException {
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(64);
    dispatcher.setMaxRequestsPerHost(64);
    clientBuilder = new OkHttpClient.Builder().dispatcher(dispatcher);
  }

  @AfterEach
  void tearDown() throws IOException {
    servers.close();
  }

  private OAuth2TokenSource.ClientCredentialsBuilder clientCredentials(String issuer) {
    return OAuth2TokenSource.clientCredentials()
        .tokenEndpoint(servers.oauth.tokenEndpointUrl(issuer).toString())
        .clientId(IssuingServers.CLIENT_ID)
        .clientSecret(IssuingServers.CLIENT_SECRET)
        .client(servers.helperClient);
  }

  private Api api(SessionRegistry registry) {
    OkHttpClient client = clientBuilder.addInterceptor(registry.interceptor()).build();
    return new Retrofit.Builder()
        .baseUrl(servers.api.url("/"))
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(registry))
        .addConverterFactory(ScalarsConverterFactory.create())
        .build()
        .create(Api.class);
  }

  @Test
  void aThousandMixedCallsMakeOneTokenRequestPerCredential() throws Exception {
    RefreshManager user = RefreshManager.builder().refreshApi(servers.refreshApi("app")).build();
    Tokens signedIn = servers.signIn("app", "alice");
    user.signIn(signedIn);
    servers.expired.add(signedIn.accessToken()); // The user's token needs one refresh.
    RefreshManager partner =
        RefreshManager.builder().tokenSource(clientCredentials("partner").build()).build();
    SessionRegistry registry = SessionRegistry.builder().add(user).add("partner", partner).build();
    Api api = api(registry);

    List<String> failures = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1000);
    for (int i = 0; i < 1000; i++) {
      (i % 2 == 0 ? api.me() : api.rates()).enqueue(expectOk(failures, done));
    }
    assertTrue(done.await(60, TimeUnit.SECONDS), "calls left: " + done.getCount());

    assertEquals(List.of(), failures);
    assertEquals(0, servers.wrongToken.get());
    assertEquals(1, servers.tokenRequestsTo("app"));
    assertEquals(1, servers.tokenRequestsTo("partner"));
    assertEquals(1, registry.stats("default").refreshesSucceeded());
    assertEquals(1, registry.stats("partner").refreshesSucceeded());
  }

  @Test
  void concurrentCallsWithDifferentScopesEachGetTheirOwnToken() throws Exception {
    SessionRegistry registry =
        SessionRegistry.builder()
            .addPerScope(
                "reports",
                scope ->
                    RefreshManager.builder()
                        .tokenSource(clientCredentials("reports").scope(scope).build()))
            .build();
    Api api = api(registry);

    List<String> failures = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(400);
    for (int i = 0; i < 400; i++) {
      (i % 2 == 0 ? api.readReports() : api.writeReports()).enqueue(expectOk(failures, done));
    }
    assertTrue(done.await(60, TimeUnit.SECONDS), "calls left: " + done.getCount());

    assertEquals(List.of(), failures);
    assertEquals(0, servers.wrongToken.get()); // No call got the other scope's token.
    assertEquals(2, servers.tokenRequestsTo("reports")); // One per scope.
    KeyedSessions<String> scopes = registry.keyed("reports", String.class);
    assertEquals(2, scopes.liveSessions());
    assertEquals(1, scopes.stats("reports.read").refreshesSucceeded());
    // A set of scopes is one key, whatever its order and spacing.
    assertEquals(
        scopes.currentTokens("reports.read").accessToken(),
        scopes.currentTokens("  reports.read ").accessToken());
  }

  private static <T> Callback<T> expectOk(List<String> failures, CountDownLatch done) {
    return new Callback<T>() {
      @Override
      public void onResponse(Call<T> call, Response<T> response) {
        if (response.code() != 200) {
          failures.add(call.request().url().encodedPath() + ": HTTP " + response.code());
        }
        done.countDown();
      }

      @Override
      public void onFailure(Call<T> call, Throwable t) {
        failures.add(call.request().url().encodedPath() + ": " + t);
        done.countDown();
      }
    };
  }
}
