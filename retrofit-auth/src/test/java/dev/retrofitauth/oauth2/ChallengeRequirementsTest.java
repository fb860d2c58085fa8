package dev.retrofitauth.oauth2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okio.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * Claims challenges (Continuous Access Evaluation) and scope challenges (step-up) against a
 * scripted server: an API that challenges the tokens it does not like, and a token endpoint that
 * issues a token per request and records what each asked for.
 */
final class ChallengeRequirementsTest {
  private static final String CLAIMS =
      "{\"access_token\":{\"nbf\":{\"essential\":true,\"value\":\"1726077595\"}}}";
  private static final String CLAIMS_BASE64 = ByteString.encodeUtf8(CLAIMS).base64();

  interface Api {
    @GET("api/data")
    Call<String> data();
  }

  private final MockWebServer server = Jose.noDelayServer();
  private final List<Map<String, String>> tokenRequests = new CopyOnWriteArrayList<>();
  private final List<String> apiAuthorizations = new CopyOnWriteArrayList<>();
  private final AtomicInteger issued = new AtomicInteger();

  /** The API's answer to a token: null for 200, or the WWW-Authenticate of a 401. */
  private volatile Challenger challenger = token -> null;

  interface Challenger {
    String challenge(String token);
  }

  @BeforeEach
  void start() throws IOException {
    server.setDispatcher(
        new okhttp3.mockwebserver.Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            if (request.getPath().startsWith("/oauth/token")) {
              Map<String, String> form = Jose.form(request);
              tokenRequests.add(form);
              String token =
                  "token-"
                      + issued.incrementAndGet()
                      + (form.containsKey("claims") ? "-claims" : "")
                      + (form.containsKey("scope")
                          ? "-" + form.get("scope").replace(' ', '+')
                          : "");
              return json(
                  "{\"access_token\":\""
                      + token
                      + "\",\"token_type\":\"Bearer\",\"refresh_token\":\"r-"
                      + issued.get()
                      + "\"}");
            }
            String authorization = request.getHeader("Authorization");
            apiAuthorizations.add(authorization);
            String challenge = challenger.challenge(authorization.substring("Bearer ".length()));
            if (challenge == null) return new MockResponse().setBody("ok");
            return new MockResponse().setResponseCode(401).setHeader("WWW-Authenticate", challenge);
          }
        });
    server.start();
  }

  @AfterEach
  void stop() throws IOException {
    server.shutdown();
  }

  private static MockResponse json(String body) {
    return new MockResponse().setHeader("Content-Type", "application/json").setBody(body);
  }

  private OAuth2TokenSource source(String scope) {
    return builder(scope).build();
  }

  private OAuth2TokenSource.ClientCredentialsBuilder builder(String scope) {
    return OAuth2TokenSource.clientCredentials()
        .tokenEndpoint(server.url("/oauth/token").toString())
        .clientId("worker")
        .clientSecret("s3cret")
        .scope(scope);
  }

  private Api api(RefreshManager auth) {
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequestsPerHost(64);
    OkHttpClient client =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .addInterceptor(auth.interceptor())
            .build();
    return new Retrofit.Builder()
        .baseUrl(server.url("/"))
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
        .addConverterFactory(ScalarsConverterFactory.create())
        .build()
        .create(Api.class);
  }

  private static String claimsChallenge() {
    return "Bearer realm=\"\", error=\"insufficient_claims\", claims=\"" + CLAIMS_BASE64 + "\"";
  }

  @Test
  void aClaimsChallengeGetsOneTokenRequestWithTheClaimsAndOneRetry() throws Exception {
    challenger = token -> token.contains("-claims") ? null : claimsChallenge();
    RefreshManager auth = RefreshManager.builder().tokenSource(source("read")).build();
    Api api = api(auth);

    List<retrofit2.Call<String>> calls = new ArrayList<>();
    for (int i = 0; i < 50; i++) calls.add(api.data());
    List<java.util.concurrent.CompletableFuture<Response<String>>> results = new ArrayList<>();
    for (Call<String> call : calls) results.add(enqueue(call));
    for (java.util.concurrent.CompletableFuture<Response<String>> result : results) {
      assertEquals("ok", result.get(30, java.util.concurrent.TimeUnit.SECONDS).body());
    }

    assertEquals(2, tokenRequests.size(), "the first token, then one with the claims");
    assertNull(tokenRequests.get(0).get("claims"));
    assertEquals(CLAIMS, tokenRequests.get(1).get("claims"), "decoded from the challenge's base64");
    assertEquals("read", tokenRequests.get(1).get("scope"));
  }

  @Test
  void aSecondClaimsChallengeOnTheSameCallGoesToTheCaller() throws Exception {
    challenger = token -> claimsChallenge(); // No token ever satisfies it.
    RefreshManager auth = RefreshManager.builder().tokenSource(source("read")).build();
    Response<String> response = api(auth).data().execute();

    assertEquals(401, response.code());
    assertEquals(2, tokenRequests.size(), "one token request with the claims, not a loop");
    assertEquals(CLAIMS, tokenRequests.get(1).get("claims"));
    assertEquals(2, apiAuthorizations.size(), "the call and its one retry");
  }

  @Test
  void theRefreshTokenGrantCarriesTheClaims() throws Exception {
    challenger = token -> token.contains("-claims") ? null : claimsChallenge();
    OAuth2RefreshApi refreshApi =
        OAuth2RefreshApi.builder()
            .tokenEndpoint(server.url("/oauth/token").toString())
            .clientId("app")
            .build();
    RefreshManager auth = RefreshManager.builder().refreshApi(refreshApi).build();
    auth.signIn(Tokens.of("user-token", "user-refresh"));

    assertEquals("ok", api(auth).data().execute().body());
    assertEquals(1, tokenRequests.size());
    Map<String, String> refresh = tokenRequests.get(0);
    assertEquals("refresh_token", refresh.get("grant_type"));
    assertEquals("user-refresh", refresh.get("refresh_token"));
    assertEquals(CLAIMS, refresh.get("claims"));
  }

  @Test
  void aRefreshApiThatCannotAskForClaimsPassesTheChallengeThrough() throws Exception {
    challenger = token -> claimsChallenge();
    AtomicInteger refreshes = new AtomicInteger();
    RefreshManager auth =
        RefreshManager.builder()
            .refreshApi(
                current -> {
                  refreshes.incrementAndGet();
                  return Tokens.of("plain-refresh", "r");
                })
            .build();
    auth.signIn(Tokens.of("user-token", "user-refresh"));

    assertEquals(401, api(auth).data().execute().code());
    assertEquals(0, refreshes.get(), "a plain refresh cannot meet a claims challenge");
  }

  @Test
  void aScopeChallengeWidensATokenSourcesScopeOnceAndTheScopeStays() throws Exception {
    challenger = token -> token.contains("read+write") ? null : scopeChallenge("read write");
    RefreshManager auth =
        RefreshManager.builder().tokenSource(builder("read").stepUpScopes("write").build()).build();
    Api api = api(auth);

    assertEquals("ok", api.data().execute().body());
    assertEquals(2, tokenRequests.size());
    assertEquals("read", tokenRequests.get(0).get("scope"));
    assertEquals("read write", tokenRequests.get(1).get("scope"), "the union, each scope once");

    // The next token, after an ordinary refresh, keeps the widened scope.
    auth.refreshNow();
    assertEquals("read write", tokenRequests.get(2).get("scope"));
    assertEquals("ok", api.data().execute().body());
    assertEquals(3, tokenRequests.size());
  }

  @Test
  void aScopeChallengeIsBoundedToOneExtraTokenRequestPerCall() throws Exception {
    challenger = token -> scopeChallenge("admin"); // Never granted.
    RefreshManager auth =
        RefreshManager.builder().tokenSource(builder("read").stepUpScopes("admin").build()).build();
    assertEquals(401, api(auth).data().execute().code());
    assertEquals(2, tokenRequests.size());
    assertEquals("read admin", tokenRequests.get(1).get("scope"));
  }

  @Test
  void aScopeTheAppDidNotAllowIsNeverAskedForAndTheChallengeGoesToTheCaller() throws Exception {
    // A hostile or confused API asks for a broader scope than the app allows for step-up.
    challenger = token -> scopeChallenge("read cloud-platform");
    RefreshManager auth =
        RefreshManager.builder().tokenSource(builder("read").stepUpScopes("write").build()).build();
    assertEquals(401, api(auth).data().execute().code());
    assertEquals(1, tokenRequests.size(), "only the first token");
    assertEquals("read", tokenRequests.get(0).get("scope"));
    // Without stepUpScopes, no scope challenge is answered at all.
    RefreshManager plain = RefreshManager.builder().tokenSource(source("read")).build();
    challenger = token -> scopeChallenge("read write");
    assertEquals(401, api(plain).data().execute().code());
    assertEquals(2, tokenRequests.size());
  }

  @Test
  void aRefusedChallengeRequestFailsItsCallsButNeverTheSessionForGood() throws Exception {
    AtomicInteger refusals = new AtomicInteger(1);
    server.setDispatcher(
        new okhttp3.mockwebserver.Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            if (request.getPath().startsWith("/oauth/token")) {
              Map<String, String> form = Jose.form(request);
              tokenRequests.add(form);
              if (form.containsKey("claims") && refusals.getAndDecrement() > 0) {
                return new MockResponse()
                    .setResponseCode(400)
                    .setHeader("Content-Type", "application/json")
                    .setBody("{\"error\":\"invalid_scope\"}"); // Permanent, for a plain fetch.
              }
              return json(
                  "{\"access_token\":\"token-"
                      + issued.incrementAndGet()
                      + (form.containsKey("claims") ? "-claims" : "")
                      + "\",\"token_type\":\"Bearer\"}");
            }
            String token = request.getHeader("Authorization").substring("Bearer ".length());
            return token.contains("-claims")
                ? new MockResponse().setBody("ok")
                : new MockResponse()
                    .setResponseCode(401)
                    .setHeader("WWW-Authenticate", claimsChallenge());
          }
        });
    RefreshManager auth =
        RefreshManager.builder()
            .tokenSource(source("read"))
            .refreshBackoff(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS)
            .build();
    Api api = api(auth);
    IOException refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            IOException.class, () -> api.data().execute());
    assertEquals(
        "Token request failed: the token request for a resource server's challenge failed",
        refused.getMessage());
    assertEquals("ok", api.data().execute().body(), "the session asks again on the next call");
  }

  @Test
  void aUsersRefreshTokenCannotWidenScopeSoTheChallengeGoesToTheCaller() throws Exception {
    challenger = token -> scopeChallenge("admin");
    OAuth2RefreshApi refreshApi =
        OAuth2RefreshApi.builder()
            .tokenEndpoint(server.url("/oauth/token").toString())
            .clientId("app")
            .build();
    RefreshManager auth = RefreshManager.builder().refreshApi(refreshApi).build();
    auth.signIn(Tokens.of("user-token", "user-refresh"));
    assertEquals(401, api(auth).data().execute().code());
    assertEquals(0, tokenRequests.size());
  }

  private static String scopeChallenge(String scope) {
    return "Bearer error=\"insufficient_scope\", scope=\"" + scope + "\"";
  }

  private static java.util.concurrent.CompletableFuture<Response<String>> enqueue(
      Call<String> call) {
    java.util.concurrent.CompletableFuture<Response<String>> result =
        new java.util.concurrent.CompletableFuture<>();
    call.enqueue(
        new retrofit2.Callback<String>() {
          @Override
          public void onResponse(Call<String> c, Response<String> response) {
            result.complete(response);
          }

          @Override
          public void onFailure(Call<String> c, Throwable t) {
            result.completeExceptionally(t);
          }
        });
    return result;
  }
}
