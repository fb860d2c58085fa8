package dev.retrofitauth.oauth2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.squareup.moshi.JsonReader;
import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.text.ParseException;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.http.MockWebServerWrapper;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import retrofit2.Call;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * The OAuth 2 helpers against a real OAuth 2 server (mock-oauth2-server) that rotates refresh
 * tokens.
 */
final class MockOAuth2ServerIntegrationTest {
  private static final String ISSUER = "default";
  private static final String CLIENT_ID = "retrofit-auth-test";
  private static final String CLIENT_SECRET = "test-secret";
  private static final String REDIRECT_URI = "http://localhost/callback";

  interface Api {
    @GET("api/me")
    Call<String> me();
  }

  private final MockOAuth2Server oauth =
      new MockOAuth2Server(
          new OAuth2Config(
              false,
              null,
              null,
              true, // Rotate refresh tokens, as production servers do.
              new OAuth2TokenProvider(),
              Collections.emptySet(),
              new MockWebServerWrapper()));

  /**
   * The resource server: accepts the tokens the OAuth server issued, until the test expires them.
   */
  private final MockWebServer api = new MockWebServer();

  private final Set<String> expired = ConcurrentHashMap.newKeySet();
  private final List<String> presentedRefreshTokens = new CopyOnWriteArrayList<>();
  private final List<String> requested = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    oauth.start();
    api.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            String authorization = request.getHeader("Authorization");
            if (authorization == null
                || !authorization.startsWith("Bearer ey")
                || expired.contains(authorization.substring(7))) {
              return new MockResponse().setResponseCode(401);
            }
            return new MockResponse().setBody("hello");
          }
        });
    api.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    oauth.shutdown();
    api.shutdown();
  }

  @Test
  void signInExpireRefreshAndRefreshAgainWithRotatedToken() throws Exception {
    OkHttpClient client = new OkHttpClient();
    OAuth2RefreshApi oauthRefresh =
        OAuth2RefreshApi.builder()
            .tokenEndpoint(oauth.tokenEndpointUrl(ISSUER).toString())
            .clientId(CLIENT_ID)
            .clientSecret(CLIENT_SECRET)
            .client(client)
            .build();
    RefreshManager auth =
        RefreshManager.builder()
            .refreshApi(
                current -> {
                  presentedRefreshTokens.add(current.refreshToken());
                  return oauthRefresh.refresh(current);
                })
            .build();
    Api service =
        new Retrofit.Builder()
            .baseUrl(api.url("/"))
            .client(client.newBuilder().addInterceptor(auth.interceptor()).build())
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);

    // Sign in: the authorization code flow, as a login screen would run it.
    Tokens signedIn = authorizationCodeLogin(client);
    auth.signIn(signedIn);
    assertEquals("hello", service.me().execute().body());

    // The access token expires: one refresh, and the call goes through.
    expired.add(signedIn.accessToken());
    assertEquals("hello", service.me().execute().body());
    Tokens first = auth.currentTokens();
    assertNotEquals(signedIn.accessToken(), first.accessToken());
    assertNotEquals(signedIn.refreshToken(), first.refreshToken()); // Rotated.
    assertTrue(first.hasExpiry());

    // It expires again: the second refresh presents the rotated refresh token.
    expired.add(first.accessToken());
    assertEquals("hello", service.me().execute().body());
    Tokens second = auth.currentTokens();
    assertNotEquals(first.refreshToken(), second.refreshToken());
    assertEquals(List.of(signedIn.refreshToken(), first.refreshToken()), presentedRefreshTokens);
    assertEquals(2, auth.stats().refreshesSucceeded());
  }

  /** An OkHttp client that records each URL the helper calls. */
  private OkHttpClient recordingClient() {
    return new OkHttpClient.Builder()
        .addInterceptor(
            chain -> {
              requested.add(chain.request().url().encodedPath());
              return chain.proceed(chain.request());
            })
        .build();
  }

  private static JWTClaimsSet claims(String jwt) throws ParseException {
    return SignedJWT.parse(jwt).getJWTClaimsSet();
  }

  @ParameterizedTest
  @EnumSource(
      value = ClientAuthentication.class,
      names = {"CLIENT_SECRET_BASIC", "CLIENT_SECRET_POST"})
  void clientCredentialsWithASecret(ClientAuthentication method) throws Exception {
    OAuth2TokenSource source =
        OAuth2TokenSource.clientCredentials()
            .tokenEndpoint(oauth.tokenEndpointUrl(ISSUER).toString())
            .clientId(CLIENT_ID)
            .clientSecret(CLIENT_SECRET)
            .clientAuthentication(method)
            .scope("reports")
            .build();

    Tokens tokens = source.fetch();

    // The server names the client it authenticated as the token's subject.
    JWTClaimsSet claims = claims(tokens.accessToken());
    assertEquals(CLIENT_ID, claims.getSubject());
    assertEquals(oauth.issuerUrl(ISSUER).toString(), claims.getIssuer());
    assertEquals(List.of("reports"), claims.getAudience());
    assertTrue(tokens.hasExpiry());
    assertNull(tokens.refreshToken());
  }

  @Test
  void clientCredentialsWithPrivateKeyJwt() throws Exception {
    OAuth2TokenSource source =
        OAuth2TokenSource.clientCredentials()
            .tokenEndpoint(oauth.tokenEndpointUrl(ISSUER).toString())
            .clientId(CLIENT_ID)
            .privateKey(Jose.Alg.RS256.keys.getPrivate(), "key-1")
            .scope("reports")
            .build();

    // The server (Nimbus OAuth SDK) parsed the client assertion to find the client.
    assertEquals(CLIENT_ID, claims(source.fetch().accessToken()).getSubject());
  }

  /** mock-oauth2-server supports the JWT bearer grant: it copies the assertion's claims. */
  @Test
  void jwtBearerGrant() throws Exception {
    OAuth2TokenSource source =
        OAuth2TokenSource.jwtBearer()
            .tokenEndpoint(oauth.tokenEndpointUrl(ISSUER).toString())
            .privateKey(Jose.Alg.ES256.keys.getPrivate(), "key-1")
            .assertionIssuer("robot@example.com")
            .assertionSubject("user@example.com")
            .scope("reports")
            .build();

    Tokens tokens = source.fetch();

    JWTClaimsSet claims = claims(tokens.accessToken());
    assertEquals("user@example.com", claims.getSubject());
    assertEquals(oauth.issuerUrl(ISSUER).toString(), claims.getIssuer());
    assertEquals("reports", claims.getStringClaim("scope"));
    assertTrue(tokens.hasExpiry());
  }

  @Test
  void tokenSourceDiscoversTheTokenEndpointOnceFromTheServersMetadata() throws Exception {
    OAuth2TokenSource source =
        OAuth2TokenSource.clientCredentials()
            .issuer(oauth.issuerUrl(ISSUER).toString())
            .clientId(CLIENT_ID)
            .clientSecret(CLIENT_SECRET)
            .client(recordingClient())
            .build();
    assertEquals(List.of(), requested);

    for (int i = 0; i < 5; i++)
      assertEquals(CLIENT_ID, claims(source.fetch().accessToken()).getSubject());

    // The server serves RFC 8414's document next to OpenID's, not at the inserted path.
    assertEquals(
        List.of(
            "/.well-known/oauth-authorization-server/default",
            "/default/.well-known/openid-configuration",
            "/default/token",
            "/default/token",
            "/default/token",
            "/default/token",
            "/default/token"),
        requested);
  }

  /**
   * mock-oauth2-server 3.0.0 has an RFC 7009 endpoint: it revokes refresh tokens and refuses other
   * token types with {@code unsupported_token_type}. Both helpers find their endpoint in the
   * metadata.
   */
  @Test
  void refreshAndRevokeThroughDiscoveredEndpoints() throws Exception {
    Tokens signedIn = authorizationCodeLogin(new OkHttpClient());
    String issuer = oauth.issuerUrl(ISSUER).toString();
    OAuth2RefreshApi refreshApi =
        OAuth2RefreshApi.builder()
            .issuer(issuer)
            .clientId(CLIENT_ID)
            .clientSecret(CLIENT_SECRET)
            .client(recordingClient())
            .build();
    OAuth2Revoker revoker =
        OAuth2Revoker.builder()
            .issuer(issuer)
            .clientId(CLIENT_ID)
            .clientSecret(CLIENT_SECRET)
            .client(recordingClient())
            .build();

    Tokens refreshed = refreshApi.refresh(signedIn);
    assertNotEquals(signedIn.refreshToken(), refreshed.refreshToken());
    revoker.revoke(refreshed); // The refresh token, hinted as one: 200.
    IOException accessOnly =
        assertThrows(IOException.class, () -> revoker.revoke(Tokens.of(refreshed.accessToken())));

    assertEquals(
        "the revocation endpoint answered HTTP 400, unsupported_token_type",
        accessOnly.getMessage());
    assertEquals(
        List.of(
            "/.well-known/oauth-authorization-server/default",
            "/default/.well-known/openid-configuration",
            "/default/token",
            "/.well-known/oauth-authorization-server/default",
            "/default/.well-known/openid-configuration",
            "/default/revoke",
            "/default/revoke"),
        requested);
  }

  private Tokens authorizationCodeLogin(OkHttpClient client) throws IOException {
    HttpUrl authorize =
        oauth
            .authorizationEndpointUrl(ISSUER)
            .newBuilder()
            .addQueryParameter("client_id", CLIENT_ID)
            .addQueryParameter("response_type", "code")
            .addQueryParameter("redirect_uri", REDIRECT_URI)
            .addQueryParameter("scope", "openid offline_access")
            .addQueryParameter("state", "state")
            .addQueryParameter("nonce", "nonce")
            .build();
    String code;
    try (Response redirect =
        client
            .newBuilder()
            .followRedirects(false)
            .build()
            .newCall(new Request.Builder().url(authorize).build())
            .execute()) {
      code = HttpUrl.get(redirect.header("Location")).queryParameter("code");
    }
    assertNotNull(code);
    Request tokenRequest =
        new Request.Builder()
            .url(oauth.tokenEndpointUrl(ISSUER))
            .post(
                new FormBody.Builder()
                    .add("grant_type", "authorization_code")
                    .add("code", code)
                    .add("redirect_uri", REDIRECT_URI)
                    .add("client_id", CLIENT_ID)
                    .add("client_secret", CLIENT_SECRET)
                    .build())
            .build();
    try (Response response = client.newCall(tokenRequest).execute()) {
      JsonReader reader = JsonReader.of(response.body().source());
      String access = null;
      String refresh = null;
      reader.beginObject();
      while (reader.hasNext()) {
        String name = reader.nextName();
        if (name.equals("access_token")) {
          access = reader.nextString();
        } else if (name.equals("refresh_token")) {
          refresh = reader.nextString();
        } else {
          reader.skipValue();
        }
      }
      return Tokens.of(access, refresh);
    }
  }
}
