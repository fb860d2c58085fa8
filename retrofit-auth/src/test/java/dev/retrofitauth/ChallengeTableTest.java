package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.RecordedRequest;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Response;

/**
 * What a 401 says decides whether a refresh can help (RFC 6750 §3, RFC 9470), and a {@link
 * RefreshRule} covers APIs that signal an expired token another way. One test per row of the
 * README's table.
 */
final class ChallengeTableTest {
  private final GatedRefreshApi refreshApi = GatedRefreshApi.returning(Tokens.of("new", "r2"));
  private final List<StepUpChallenge> stepUps = new CopyOnWriteArrayList<>();
  private @Nullable ChallengingServer server;
  private @Nullable Fixture fixture;

  /** Answers "old" with a 401 that carries {@link #challenge}, or {@link #denial}. */
  static final class ChallengingServer extends ApiServer {
    volatile @Nullable String challenge;
    volatile @Nullable MockResponse denial;

    ChallengingServer() throws IOException {
      super("new");
    }

    @Override
    MockResponse respond(RecordedRequest request, String authorization) {
      if ("Bearer new".equals(authorization)) return new MockResponse().setBody("ok");
      if (denial != null) return denial;
      MockResponse response = new MockResponse().setResponseCode(401).setBody("unauthorized");
      if (challenge != null) response.setHeader("WWW-Authenticate", challenge);
      return response;
    }
  }

  @AfterEach
  void close() throws IOException {
    if (fixture != null) fixture.close();
    if (server != null) server.close();
  }

  private Api start(RefreshManager.Builder builder) throws IOException {
    server = new ChallengingServer();
    RefreshManager auth =
        builder
            .refreshApi(refreshApi)
            .addListener(
                new AuthListener() {
                  @Override
                  public void onStepUpRequired(StepUpChallenge challenge) {
                    stepUps.add(challenge);
                  }
                })
            .build();
    auth.signIn(Tokens.of("old", "r1"));
    okhttp3.OkHttpClient client =
        new okhttp3.OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    fixture = new Fixture(server, auth, client);
    return fixture.create(Api.class);
  }

  private int codeWith(@Nullable String challenge) throws IOException {
    Api api = start(RefreshManager.builder());
    server.challenge = challenge;
    return api.me().execute().code();
  }

  @Test
  void noChallengeRefreshes() throws IOException {
    assertEquals(200, codeWith(null));
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void bearerWithoutErrorRefreshes() throws IOException {
    assertEquals(200, codeWith("Bearer realm=\"api\""));
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void invalidTokenRefreshes() throws IOException {
    assertEquals(200, codeWith("Bearer error=\"invalid_token\", error_description=\"expired\""));
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void insufficientScopeMakesNoRefreshRequest() throws IOException {
    assertEquals(401, codeWith("Bearer error=\"insufficient_scope\", scope=\"admin\""));
    assertEquals(0, refreshApi.calls.get());
    assertEquals(1, server.requests.size()); // Not retried either.
  }

  @Test
  void invalidRequestPassesThrough() throws IOException {
    assertEquals(401, codeWith("Bearer error=\"invalid_request\""));
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void insufficientUserAuthenticationTellsListenersToStepUp() throws IOException {
    assertEquals(
        401,
        codeWith(
            "Bearer error=\"insufficient_user_authentication\","
                + " error_description=\"A different authentication level is required\","
                + " acr_values=\"myACR\", max_age=\"5\""));
    assertEquals(0, refreshApi.calls.get());
    assertEquals(1, stepUps.size());
    assertEquals("myACR", stepUps.get(0).acrValues());
    assertEquals(5, stepUps.get(0).maxAgeSeconds());
  }

  @Test
  void stepUpWithoutDetails() throws IOException {
    assertEquals(401, codeWith("Bearer error=\"insufficient_user_authentication\""));
    assertNull(stepUps.get(0).acrValues());
    assertEquals(-1, stepUps.get(0).maxAgeSeconds());
  }

  @Test
  void severalChallengesInOneHeaderTheHopelessOneWins() throws IOException {
    assertEquals(401, codeWith("Basic realm=\"x\", Bearer error=\"insufficient_scope\""));
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void otherSchemesAreIgnored() throws IOException {
    assertEquals(200, codeWith("Basic realm=\"x\", Negotiate"));
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void malformedHeaderRefreshesAsIfThereWereNone() throws IOException {
    assertEquals(200, codeWith("Bearer error=\"insufficient_scope"));
    assertEquals(1, refreshApi.calls.get());
  }

  @Test
  void authenticatorReadsTheSameChallenges() throws IOException {
    start(RefreshManager.builder());
    server.challenge = "Bearer error=\"insufficient_scope\"";
    fixture.auth.servedBy(server.server.url("/")); // As its Retrofit would.
    okhttp3.OkHttpClient client =
        fixture.client.newBuilder().authenticator(fixture.auth.authenticator()).build();
    try (okhttp3.Response response =
        client.newCall(new okhttp3.Request.Builder().url(server.url("/img")).build()).execute()) {
      assertEquals(401, response.code());
    }
    assertEquals(0, refreshApi.calls.get());
  }

  private static MockResponse forbidden(String body) {
    return new MockResponse()
        .setResponseCode(403)
        .setHeader("Content-Type", "application/json")
        .setBody(body);
  }

  private static final RefreshRule TOKEN_EXPIRED_403 =
      response ->
          response.code() == 403 && response.body().string().contains("\"code\":\"token_expired\"");

  @Test
  void ruleRefreshesA403WithAnExpiryCodeOnce() throws IOException {
    Api api = start(RefreshManager.builder().refreshWhen(TOKEN_EXPIRED_403));
    server.denial = forbidden("{\"code\":\"token_expired\"}");

    assertEquals(200, api.me().execute().code());
    assertEquals(1, refreshApi.calls.get());
    assertEquals(Arrays.asList("Bearer old", "Bearer new"), authorizations());
  }

  @Test
  void rulePassesAPlain403Through() throws IOException {
    Api api = start(RefreshManager.builder().refreshWhen(TOKEN_EXPIRED_403));
    server.denial = forbidden("{\"code\":\"forbidden\"}");

    Response<String> response = api.me().execute();
    assertEquals(403, response.code());
    assertEquals("{\"code\":\"forbidden\"}", response.errorBody().string());
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void withoutARuleA403NeverRefreshes() throws IOException {
    Api api = start(RefreshManager.builder());
    server.denial = forbidden("{\"code\":\"token_expired\"}");

    assertEquals(403, api.me().execute().code());
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void ruleSeesAtMost8KibAndTheCallerGetsTheWholeBody() throws IOException {
    List<Long> seen = new CopyOnWriteArrayList<>();
    Api api =
        start(
            RefreshManager.builder()
                .refreshWhen(
                    response -> {
                      seen.add((long) response.body().bytes().length);
                      return false;
                    }));
    StringBuilder big = new StringBuilder();
    for (int i = 0; i < 20_000; i++) big.append('x');
    server.denial = forbidden(big.toString());

    Response<String> response = api.me().execute();
    assertEquals(20_000, response.errorBody().string().length());
    assertEquals(Arrays.asList(8_192L), seen);
  }

  @Test
  void ruleThatThrowsFailsTheCallWithItsCause() throws IOException {
    Api api =
        start(
            RefreshManager.builder()
                .refreshWhen(
                    response -> {
                      throw new IllegalStateException("rule bug");
                    }));
    server.denial = forbidden("{}");

    IOException e =
        org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> api.me().execute());
    assertEquals("RefreshRule threw java.lang.IllegalStateException", e.getMessage());
  }

  private List<String> authorizations() {
    List<String> result = new java.util.ArrayList<>();
    for (RecordedRequest request : server.requests) result.add(request.getHeader("Authorization"));
    return result;
  }
}
