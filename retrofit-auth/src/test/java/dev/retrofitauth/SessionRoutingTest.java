package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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

/** Which session's token each call of a {@link SessionRegistry} carries, and the errors. */
final class SessionRoutingTest {
  interface Api {
    @GET("app")
    Call<String> app();

    @Credential("partner")
    @GET("partner")
    Call<String> partner();

    @Credential("user")
    @GET("inbox")
    Call<String> inbox(@Tag UserId user);

    @Credential("nobody")
    @GET("nobody")
    Call<String> unknown();

    @Credential(value = "partner", scope = "read")
    @GET("partner")
    Call<String> partnerWithScope();

    @NoAuth
    @GET("login")
    Call<String> login();
  }

  @Credential("partner")
  interface PartnerApi {
    @GET("partner")
    Call<String> rates();

    @Credential("default")
    @GET("app")
    Call<String> app();
  }

  interface Common {
    @GET("app")
    Call<String> shared();
  }

  @Credential("partner")
  interface PartnerCommon extends Common {}

  @Credential("user")
  interface UserInbox {
    @GET("inbox")
    Call<String> inbox(@Tag UserId user);

    @NoAuth
    @GET("login")
    Call<String> login(); // On a keyed interface: needs no key.
  }

  private final MockWebServer server = new MockWebServer();
  private RefreshManager app;
  private RefreshManager partner;
  private SessionRegistry registry;
  private OkHttpClient client;
  private Api api;

  @BeforeEach
  void setUp() throws IOException {
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            String authorization = request.getHeader("Authorization");
            return new MockResponse().setBody(authorization != null ? authorization : "none");
          }
        });
    server.setServerSocketFactory(new ApiServer.NoDelayServerSocketFactory()); // No ACK waits.
    server.start();
    app = RefreshManager.builder().build();
    app.signIn(Tokens.of("app-token", null));
    partner = RefreshManager.builder().build();
    partner.signIn(Tokens.of("partner-token", null));
    registry =
        SessionRegistry.builder()
            .add(app)
            .add("partner", partner)
            .addKeyed(
                "user",
                UserId.class,
                user -> {
                  RefreshManager.Builder builder = RefreshManager.builder();
                  return builder;
                })
            .build();
    client = new OkHttpClient.Builder().addInterceptor(registry.interceptor()).build();
    api = retrofit().create(Api.class);
  }

  private Retrofit retrofit() {
    return new Retrofit.Builder()
        .baseUrl(server.url("/"))
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(registry))
        .addConverterFactory(ScalarsConverterFactory.create())
        .build();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
    client.dispatcher().executorService().shutdown();
  }

  @Test
  void eachMethodCarriesItsCredentialsToken() throws IOException {
    assertEquals("Bearer app-token", api.app().execute().body());
    assertEquals("Bearer partner-token", api.partner().execute().body());
    assertEquals("none", api.login().execute().body());
  }

  @Test
  void anInterfacesCredentialAppliesToItsMethodsUnlessTheyNameTheirOwn() throws IOException {
    PartnerApi partnerApi = retrofit().create(PartnerApi.class);
    assertEquals("Bearer partner-token", partnerApi.rates().execute().body());
    assertEquals("Bearer app-token", partnerApi.app().execute().body());
  }

  @Test
  void eachKeyCarriesItsOwnSessionsToken() throws IOException {
    KeyedSessions<UserId> users = registry.keyed("user", UserId.class);
    users.signIn(new UserId("alice"), Tokens.of("alice-token", null));
    users.signIn(new UserId("bob"), Tokens.of("bob-token", null));

    assertEquals("Bearer alice-token", api.inbox(new UserId("alice")).execute().body());
    assertEquals("Bearer bob-token", api.inbox(new UserId("bob")).execute().body());
    assertEquals(2, users.liveSessions());
    // A key never signed in has a session of its own, with no token: never someone else's.
    assertEquals("none", api.inbox(new UserId("carol")).execute().body());
  }

  @Test
  void aCallWithoutItsKeyFailsAndIsNeverSent() throws Exception {
    registry.keyed("user", UserId.class).signIn(new UserId("alice"), Tokens.of("a", null));

    IOException sync = assertThrows(IOException.class, () -> api.inbox(null).execute());
    assertTrue(sync.getMessage().contains("add a @Tag UserId parameter"), sync.getMessage());
    assertTrue(sync.getMessage().contains("Api.inbox()"), sync.getMessage());

    CompletableFuture<Throwable> async = new CompletableFuture<>();
    api.inbox(null)
        .enqueue(
            new Callback<String>() {
              @Override
              public void onResponse(Call<String> call, Response<String> response) {
                async.complete(null);
              }

              @Override
              public void onFailure(Call<String> call, Throwable t) {
                async.complete(t);
              }
            });
    Throwable failure = async.get(10, TimeUnit.SECONDS);
    assertTrue(failure instanceof IOException, String.valueOf(failure));
    assertEquals(0, server.getRequestCount());
  }

  @Test
  void anUnknownCredentialFailsWithTheNamesThereAre() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> api.unknown().execute());
    assertEquals(
        "Api.unknown() names @Credential(\"nobody\"), which the SessionRegistry does not have."
            + " Credentials: [default, partner, user]",
        e.getMessage());
    assertEquals(0, server.getRequestCount());
  }

  @Test
  void aScopeOnACredentialWithOneTokenFails() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> api.partnerWithScope().execute());
    assertTrue(e.getMessage().contains("addPerScope"), e.getMessage());
  }

  @Test
  void withoutADefaultCredentialAMethodWithoutOneFails() throws IOException {
    SessionRegistry onlyPartner = SessionRegistry.builder().add("partner", partner).build();
    Api partnerOnly =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(new OkHttpClient.Builder().addInterceptor(onlyPartner.interceptor()).build())
            .addCallAdapterFactory(AuthCallAdapterFactory.create(onlyPartner))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);

    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> partnerOnly.app().execute());
    assertTrue(e.getMessage().startsWith("Api.app() names no @Credential"), e.getMessage());
    assertEquals("none", partnerOnly.login().execute().body()); // @NoAuth needs none.
    assertEquals("Bearer partner-token", partnerOnly.partner().execute().body());
  }

  @Test
  void plainOkHttpRequestsPickTheirCredentialAndKeyWithTags() throws IOException {
    registry.keyed("user", UserId.class).signIn(new UserId("alice"), Tokens.of("alice", null));
    OkHttpClient plain =
        client.newBuilder().addInterceptor(chain -> chain.proceed(chain.request())).build();
    Request.Builder request = new Request.Builder().url(server.url("/plain"));
    registry.manager("default").signIn(Tokens.of("app-token", null));
    // Plain calls are allowed the origins the factory serves once it served one.
    api.app().execute();

    assertEquals("Bearer app-token", body(plain, request.build()));
    assertEquals(
        "Bearer partner-token",
        body(plain, request.tag(Credential.class, SessionRegistry.credential("partner")).build()));
    assertEquals(
        "Bearer alice",
        body(
            plain,
            request
                .tag(Credential.class, SessionRegistry.credential("user"))
                .tag(UserId.class, new UserId("alice"))
                .build()));
  }

  @Test
  void theRegistryAnswersForItsCredentials() throws IOException {
    assertEquals(java.util.Arrays.asList("default", "partner", "user"), registry.credentials());
    assertEquals(1, registry.liveSessions("partner"));
    assertEquals(0, registry.liveSessions("user"));
    assertTrue(registry.manager("partner") == partner);
    assertThrows(IllegalArgumentException.class, () -> registry.manager("user"));
    assertThrows(IllegalArgumentException.class, () -> registry.keyed("user", String.class));
    assertNull(registry.keyed("user", UserId.class).currentTokens(new UserId("nobody")));
    assertEquals(1, registry.liveSessions("user")); // Asking built the session.
  }

  @Test
  void builderErrorsSayWhatToDo() {
    assertEquals(
        "the default credential was added already",
        assertThrows(
                IllegalArgumentException.class,
                () -> SessionRegistry.builder().add(app).add("default", partner))
            .getMessage());
    assertEquals(
        "credential \"p\" was added already",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    SessionRegistry.builder()
                        .add("p", partner)
                        .addKeyed("p", String.class, k -> RefreshManager.builder()))
            .getMessage());
    assertTrue(
        assertThrows(IllegalStateException.class, () -> SessionRegistry.builder().build())
            .getMessage()
            .startsWith("no credential"));
  }

  @Test
  void aCredentialOnAnInterfaceThatInheritsTheMethodIsRefusedNotIgnored() {
    PartnerCommon partnerCommon = retrofit().create(PartnerCommon.class);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> partnerCommon.shared().execute());
    assertTrue(e.getMessage().startsWith("PartnerCommon has @Credential"), e.getMessage());
    assertEquals(0, server.getRequestCount()); // Not sent with the default credential's token.
  }

  @Test
  void aNoAuthMethodOfAKeyedInterfaceNeedsNoKey() throws IOException {
    assertEquals("none", retrofit().create(UserInbox.class).login().execute().body());
    assertEquals(0, registry.liveSessions("user"));
  }

  @Test
  void aFactoryThatReturnsOneBuilderForTwoKeysFailsTheSecond() throws IOException {
    RefreshManager.Builder shared = RefreshManager.builder();
    SessionRegistry sharing =
        SessionRegistry.builder().addKeyed("user", String.class, key -> shared).build();
    KeyedSessions<String> users = sharing.keyed("user", String.class);
    users.signIn("alice", Tokens.of("a", null));

    IOException e =
        assertThrows(IOException.class, () -> users.signIn("bob", Tokens.of("b", null)));
    assertTrue(
        e.getMessage().contains("returned a builder it had returned before"), e.getMessage());
    assertEquals("a", users.currentTokens("alice").accessToken());
    assertEquals(1, users.liveSessions());
  }

  @Test
  void aScopeOnACredentialKeyedByATagFails() {
    Request request =
        new Request.Builder()
            .url(server.url("/plain"))
            .tag(Credential.class, SessionRegistry.credential("user", "read"))
            .tag(UserId.class, new UserId("alice"))
            .build();
    IOException e = assertThrows(IOException.class, () -> client.newCall(request).execute());
    assertTrue(e.getMessage().contains("not per scope"), e.getMessage());
  }

  @Test
  void theRegistrysNetworkInterceptorSignsTheProofsOfASessionWithDPoP() throws Exception {
    RefreshManager bound = RefreshManager.builder().dpop(DPoP.generate()).build();
    bound.signIn(Tokens.of("bound-token", null).withTokenType(Tokens.DPOP));
    SessionRegistry withDPoP = SessionRegistry.builder().add(app).add("partner", bound).build();
    OkHttpClient dpopClient =
        new OkHttpClient.Builder()
            .addInterceptor(withDPoP.interceptor())
            .addNetworkInterceptor(withDPoP.networkInterceptor())
            .build();
    Api dpopApi =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(dpopClient)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(withDPoP))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);

    assertEquals("DPoP bound-token", dpopApi.partner().execute().body());
    assertTrue(server.takeRequest().getHeader("DPoP") != null); // A proof, from its session.
    assertEquals("Bearer app-token", dpopApi.app().execute().body());
    assertNull(server.takeRequest().getHeader("DPoP")); // The other session has no DPoP.
    dpopClient.dispatcher().executorService().shutdown();
  }

  private static String body(OkHttpClient client, Request request) throws IOException {
    try (okhttp3.Response response = client.newCall(request).execute()) {
      return response.body().string();
    }
  }
}
