package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.Credential;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.SessionRegistry;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import okhttp3.FormBody;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;
import retrofit2.http.Tag;

/**
 * Token exchange (RFC 8693) through a {@link RefreshManager}: against mock-oauth2-server, which
 * implements the grant, and against a scripted token endpoint for the answers it never gives
 * ({@code invalid_grant}, a refresh token).
 */
final class TokenExchangeIntegrationTest {
  private static final String ISSUER = "default";
  private static final String EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";

  interface Api {
    @GET("api/orders")
    Call<String> orders();
  }

  interface KeyedApi {
    @Credential("orders")
    @GET("api/orders")
    Call<String> orders(@Tag String user);
  }

  private final MockOAuth2Server oauth = new MockOAuth2Server();

  /** The resource server: answers with the token a call carried, 401 once the test expires it. */
  private final MockWebServer api = Jose.noDelayServer();

  /** A scripted token endpoint, for the tests that need answers mock-oauth2-server never gives. */
  private final MockWebServer tokens = new MockWebServer();

  private final Set<String> expired = ConcurrentHashMap.newKeySet();

  /** The grant type of every token request the helper sent, in order. */
  private final List<String> grants = new CopyOnWriteArrayList<>();

  /** Holds every token request until the test has started all its calls; open when null. */
  private final AtomicReference<CountDownLatch> tokenGate = new AtomicReference<>();

  private final OkHttpClient client = new OkHttpClient();

  @BeforeEach
  void setUp() throws IOException {
    oauth.start();
    api.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            String authorization = request.getHeader("Authorization");
            if (authorization == null
                || !authorization.startsWith("Bearer ")
                || expired.contains(authorization.substring(7))) {
              return new MockResponse().setResponseCode(401);
            }
            return new MockResponse().setBody(authorization.substring(7));
          }
        });
    api.start();
    tokens.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    CountDownLatch gate = tokenGate.get();
    if (gate != null) gate.countDown();
    oauth.shutdown();
    api.shutdown();
    tokens.shutdown();
    client.dispatcher().executorService().shutdown();
  }

  /** A client that records each token request's grant type and holds it at the gate. */
  private OkHttpClient helperClient() {
    Interceptor recording =
        chain -> {
          Request request = chain.request();
          FormBody form = (FormBody) request.body();
          for (int i = 0; i < form.size(); i++) {
            if (form.name(i).equals("grant_type")) grants.add(form.value(i));
          }
          awaitTokenGate();
          return chain.proceed(request);
        };
    return client.newBuilder().addInterceptor(recording).build();
  }

  private void awaitTokenGate() throws IOException {
    CountDownLatch gate = tokenGate.get();
    try {
      if (gate != null && !gate.await(30, TimeUnit.SECONDS)) {
        throw new IOException("the test never opened the token gate");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted at the token gate", e);
    }
  }

  private OAuth2TokenSource.TokenExchangeBuilder exchangeAtMockOAuth2Server() {
    return OAuth2TokenSource.tokenExchange()
        .tokenEndpoint(oauth.tokenEndpointUrl(ISSUER).toString())
        .clientId("gateway")
        .clientSecret("gateway-secret")
        .client(helperClient());
  }

  private OAuth2TokenSource.TokenExchangeBuilder exchangeAtScriptedEndpoint() {
    return OAuth2TokenSource.tokenExchange()
        .tokenEndpoint(tokens.url("/oauth/token").toString())
        .clientId("gateway")
        .clientSecret("gateway-secret")
        .client(helperClient());
  }

  private Retrofit retrofit(Interceptor interceptor, AuthCallAdapterFactory factory) {
    return new Retrofit.Builder()
        .baseUrl(api.url("/"))
        .client(client.newBuilder().addInterceptor(interceptor).build())
        .addCallAdapterFactory(factory)
        .addConverterFactory(ScalarsConverterFactory.create())
        .build();
  }

  private Api api(RefreshManager manager) {
    return retrofit(manager.interceptor(), AuthCallAdapterFactory.create(manager))
        .create(Api.class);
  }

  /** A user's access token, as the user's own sign-in got it from the authorization server. */
  private String userToken(String user) {
    return oauth.issueToken(ISSUER, user, "frontend").serialize();
  }

  /** The claims of {@code jwt}, after nimbus has verified its signature with the server's JWKS. */
  private JWTClaimsSet verifiedClaims(String jwt) throws Exception {
    SignedJWT parsed = SignedJWT.parse(jwt);
    JWKSet keys;
    try (okhttp3.Response response =
        client.newCall(new Request.Builder().url(oauth.jwksUrl(ISSUER)).build()).execute()) {
      keys = JWKSet.parse(response.body().string());
    }
    RSAKey key = (RSAKey) keys.getKeyByKeyId(parsed.getHeader().getKeyID());
    try {
      assertTrue(parsed.verify(new RSASSAVerifier(key)), "signature does not verify");
      return parsed.getJWTClaimsSet();
    } catch (JOSEException | ParseException e) {
      throw new AssertionError(e);
    }
  }

  /** Holds the token requests of the calls to come until {@link #openTokenGate} is called. */
  private void closeTokenGate() {
    tokenGate.set(new CountDownLatch(1));
  }

  private void openTokenGate() {
    tokenGate.getAndSet(null).countDown();
  }

  /** Enqueues {@code calls}, all before the token gate opens, and returns their bodies. */
  private static List<String> runConcurrently(List<Call<String>> calls, Runnable afterEnqueue)
      throws Exception {
    List<CompletableFuture<String>> results = new ArrayList<>();
    for (Call<String> call : calls) results.add(enqueue(call));
    afterEnqueue.run();
    List<String> bodies = new ArrayList<>();
    for (CompletableFuture<String> result : results) bodies.add(result.get(30, TimeUnit.SECONDS));
    return bodies;
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

  private List<Call<String>> ordersCalls(Api service, int count) {
    List<Call<String>> calls = new ArrayList<>();
    for (int i = 0; i < count; i++) calls.add(service.orders());
    return calls;
  }

  @Test
  void concurrentCallsForOneSubjectShareOneExchangeAndOneAfterExpiry() throws Exception {
    RefreshManager user = RefreshManager.builder().build();
    user.signIn(Tokens.of(userToken("alice")));
    RefreshManager orders =
        RefreshManager.builder()
            .tokenSource(
                exchangeAtMockOAuth2Server()
                    .subjectToken(SecurityTokenSource.of(user))
                    .audience("orders")
                    .build())
            .build();
    Api service = api(orders);

    closeTokenGate();
    List<String> first = runConcurrently(ordersCalls(service, 200), this::openTokenGate);

    assertEquals(List.of(EXCHANGE), grants);
    assertEquals(1, new HashSet<>(first).size(), "every call carried the one exchanged token");
    String exchanged = first.get(0);
    JWTClaimsSet claims = verifiedClaims(exchanged);
    assertEquals(List.of("orders"), claims.getAudience());
    assertEquals("alice", claims.getSubject());
    assertEquals(oauth.issuerUrl(ISSUER).toString(), claims.getIssuer());

    // The API stops accepting it: one exchange again, for all 200 calls that got a 401.
    expired.add(exchanged);
    closeTokenGate();
    List<String> second = runConcurrently(ordersCalls(service, 200), this::openTokenGate);

    assertEquals(List.of(EXCHANGE, EXCHANGE), grants);
    assertEquals(1, new HashSet<>(second).size());
    assertNotEquals(exchanged, second.get(0));
    assertEquals(List.of("orders"), verifiedClaims(second.get(0)).getAudience());
    assertEquals(2, orders.stats().refreshesSucceeded());
  }

  @Test
  void twoSubjectsOfAKeyedCredentialGetAnExchangeEach() throws Exception {
    Map<String, String> inbound = Map.of("alice", userToken("alice"), "bob", userToken("bob"));
    SessionRegistry sessions =
        SessionRegistry.builder()
            .addKeyed(
                "orders",
                String.class,
                user ->
                    RefreshManager.builder()
                        .tokenSource(
                            exchangeAtMockOAuth2Server()
                                .subjectToken(() -> inbound.get(user))
                                .audience("orders")
                                .build()))
            .build();
    KeyedApi service =
        retrofit(sessions.interceptor(), AuthCallAdapterFactory.create(sessions))
            .create(KeyedApi.class);
    List<Call<String>> calls = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      calls.add(service.orders("alice"));
      calls.add(service.orders("bob"));
    }

    closeTokenGate();
    List<String> bodies = runConcurrently(calls, this::openTokenGate);

    assertEquals(List.of(EXCHANGE, EXCHANGE), grants);
    Set<String> alices = new HashSet<>();
    Set<String> bobs = new HashSet<>();
    for (int i = 0; i < bodies.size(); i++) (i % 2 == 0 ? alices : bobs).add(bodies.get(i));
    assertEquals(1, alices.size());
    assertEquals(1, bobs.size());
    JWTClaimsSet alice = verifiedClaims(alices.iterator().next());
    JWTClaimsSet bob = verifiedClaims(bobs.iterator().next());
    assertEquals("alice", alice.getSubject());
    assertEquals("bob", bob.getSubject());
    assertEquals(List.of("orders"), alice.getAudience());
    assertEquals(List.of("orders"), bob.getAudience());
  }

  @Test
  void rejectedSubjectTokenFailsCallsWithoutAskingAgain() throws Exception {
    tokens.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            return json(400, "{\"error\":\"invalid_grant\"}");
          }
        });
    RefreshManager orders =
        RefreshManager.builder()
            .tokenSource(exchangeAtScriptedEndpoint().subjectToken(() -> "revoked").build())
            .build();
    Api service = api(orders);
    String expected =
        "the token endpoint rejected the subject token (HTTP 400, invalid_grant): check that it is"
            + " valid, of its configured type, and accepted for this exchange";
    String failedForGood = "Token request failed for good: " + expected;

    closeTokenGate();
    List<CompletableFuture<String>> concurrent = new ArrayList<>();
    for (Call<String> call : ordersCalls(service, 50)) concurrent.add(enqueue(call));
    openTokenGate();
    for (CompletableFuture<String> call : concurrent) {
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> call.get(30, TimeUnit.SECONDS));
      assertInstanceOf(IOException.class, e.getCause());
      // The calls that waited for the exchange get its failure; those that came after it, the
      // manager's note that it will not ask again.
      String message = e.getCause().getMessage();
      assertTrue(
          message.equals(expected) || message.equals(failedForGood), "unexpected: " + message);
    }
    for (int i = 0; i < 20; i++) {
      IOException later = assertThrows(IOException.class, () -> service.orders().execute());
      assertEquals(failedForGood, later.getMessage());
    }

    assertEquals(List.of(EXCHANGE), grants); // One token request in all: no retry storm.
    assertEquals(1, tokens.getRequestCount());
    assertEquals(0, api.getRequestCount()); // No call went out without a token.
  }

  @Test
  void returnedRefreshTokenIsUsedAfterExpiryAndInvalidGrantOnItFallsBackToOneExchange()
      throws Exception {
    tokens.enqueue(json(200, "{\"access_token\":\"orders-1\",\"refresh_token\":\"rt-1\"}"));
    tokens.enqueue(json(400, "{\"error\":\"invalid_grant\"}"));
    tokens.enqueue(json(200, "{\"access_token\":\"orders-2\",\"refresh_token\":\"rt-2\"}"));
    tokens.enqueue(json(200, "{\"access_token\":\"orders-3\"}"));
    RefreshManager orders =
        RefreshManager.builder()
            .tokenSource(exchangeAtScriptedEndpoint().subjectToken(() -> "alice").build())
            .build();
    Api service = api(orders);

    assertEquals("orders-1", service.orders().execute().body());
    expired.add("orders-1"); // The refresh token is refused: exchanged again.
    assertEquals("orders-2", service.orders().execute().body());
    expired.add("orders-2"); // The new refresh token works.
    assertEquals("orders-3", service.orders().execute().body());

    assertEquals(List.of(EXCHANGE, "refresh_token", EXCHANGE, "refresh_token"), grants);
    assertEquals("alice", Jose.form(tokens.takeRequest()).get("subject_token"));
    assertEquals("rt-1", Jose.form(tokens.takeRequest()).get("refresh_token"));
    assertEquals("alice", Jose.form(tokens.takeRequest()).get("subject_token"));
    assertEquals("rt-2", Jose.form(tokens.takeRequest()).get("refresh_token"));
    assertEquals(3, orders.stats().refreshesSucceeded());
  }
}
