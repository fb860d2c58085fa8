package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.oauth2.OAuth2RefreshApi;
import dev.retrofitauth.oauth2.OAuth2TokenSource;
import java.io.IOException;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * One DPoP configuration for a manager and its OAuth 2 helper, and no DPoP-bound token sent without
 * a proof.
 */
final class OneDPoPConfigurationTest {
  interface Api {
    @GET("api/me")
    Call<String> me();
  }

  private final MockWebServer server = new MockWebServer();

  @BeforeEach
  void start() throws IOException {
    server.start();
  }

  @AfterEach
  void stop() throws IOException {
    server.shutdown();
  }

  private static final String UNPROVABLE =
      "the access token is DPoP-bound (token type DPoP), and this manager has no DPoP key to prove"
          + " it with, so the request was not sent: build the manager with"
          + " RefreshManager.Builder.dpop(...) and the key the token is bound to";

  @Test
  void aDpopBoundTokenOnAManagerWithoutAKeyFailsTheCallAndIsNeverSent() throws Exception {
    RefreshManager auth = RefreshManager.builder().build();
    auth.signIn(Tokens.of("bound-token").withTokenType(Tokens.DPOP));
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    Api api =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);

    assertEquals(
        UNPROVABLE, assertThrows(IOException.class, () -> api.me().execute()).getMessage());
    Request plain = new Request.Builder().url(server.url("/api/me")).build();
    assertEquals(
        UNPROVABLE,
        assertThrows(IOException.class, () -> client.newCall(plain).execute()).getMessage());
    assertEquals(0, server.getRequestCount(), "no request went out with an unprovable token");
  }

  @Test
  void theManagerTakesTheDpopKeyOfItsOAuth2Helper() throws Exception {
    DPoP key = DPoP.generate();
    OAuth2RefreshApi refreshApi =
        OAuth2RefreshApi.builder()
            .tokenEndpoint(server.url("/token").toString())
            .clientId("app")
            .dpop(key)
            .build();
    assertSame(key, refreshApi.dpop());
    RefreshManager auth =
        RefreshManager.builder()
            .refreshApi(refreshApi)
            .addAllowedOrigin(server.url("/").toString())
            .build();
    auth.signIn(Tokens.of("bound-token", "refresh").withTokenType(Tokens.DPOP));
    OkHttpClient client =
        new OkHttpClient.Builder()
            .addInterceptor(auth.interceptor())
            .addNetworkInterceptor(auth.networkInterceptor())
            .build();
    server.enqueue(new MockResponse().setBody("me"));

    try (Response response =
        client.newCall(new Request.Builder().url(server.url("/api/me")).build()).execute()) {
      assertEquals(200, response.code());
    }
    RecordedRequest sent = server.takeRequest();
    assertEquals("DPoP bound-token", sent.getHeader("Authorization"));
    assertNotNull(sent.getHeader("DPoP"), "the manager proved the token with the helper's key");
  }

  @Test
  void aHelperWithAnotherKeyOrWithoutTheManagersKeyIsRefused() {
    DPoP managers = DPoP.generate();
    DPoP another = DPoP.generate();
    OAuth2TokenSource.ClientCredentialsBuilder source =
        OAuth2TokenSource.clientCredentials()
            .tokenEndpoint(server.url("/token").toString())
            .clientId("job")
            .clientSecret("s3cret");

    IllegalStateException none =
        assertThrows(
            IllegalStateException.class,
            () -> RefreshManager.builder().tokenSource(source.build()).dpop(managers).build());
    assertEquals(
        "the manager has a DPoP key, and its OAuth2TokenSource sends token requests without DPoP"
            + " proofs, so the server would not bind the tokens to the key: give the DPoP to the"
            + " helper's dpop(...) instead (the manager takes it from there), or to both",
        none.getMessage());

    IllegalStateException other =
        assertThrows(
            IllegalStateException.class,
            () ->
                RefreshManager.builder()
                    .tokenSource(source.dpop(another).build())
                    .dpop(managers)
                    .build());
    assertTrue(
        other
            .getMessage()
            .startsWith("the manager's DPoP key (jkt " + managers.thumbprint() + ") is not"),
        other.getMessage());

    // The same key, given to both, is one configuration.
    RefreshManager.builder().tokenSource(source.dpop(managers).build()).dpop(managers).build();
  }
}
