package dev.retrofitauth.oauth2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.RefreshFailedException;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okio.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class OAuth2RefreshApiTest {
  private static final Tokens CURRENT = Tokens.of("access-1", "refresh-1");

  private final MockWebServer server = new MockWebServer();
  private final AtomicLong now = new AtomicLong(1_000_000_000_000L);

  @BeforeEach
  void setUp() throws IOException {
    server.start();
  }

  @AfterEach
  void tearDown() throws IOException {
    server.shutdown();
  }

  private OAuth2RefreshApi.Builder builder() {
    return OAuth2RefreshApi.builder()
        .tokenEndpoint(server.url("/oauth/token").toString())
        .clientId("my app")
        .clock(now::get);
  }

  /** Decodes a form body; OkHttp 4 and 5 encode spaces differently, both correctly. */
  private static String form(RecordedRequest request) {
    okhttp3.HttpUrl url = okhttp3.HttpUrl.get("http://form/?" + request.getBody().readUtf8());
    StringBuilder result = new StringBuilder();
    for (int i = 0; i < url.querySize(); i++) {
      if (i > 0) result.append(", ");
      result.append(url.queryParameterName(i)).append('=').append(url.queryParameterValue(i));
    }
    return result.toString();
  }

  /** Formats an HTTP date (RFC 7231 IMF-fixdate) without OkHttp's internals. */
  static String httpDate(long millis) {
    java.text.SimpleDateFormat format =
        new java.text.SimpleDateFormat("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.US);
    format.setTimeZone(java.util.TimeZone.getTimeZone("GMT"));
    return format.format(new Date(millis));
  }

  static MockResponse json(int code, String body) {
    return new MockResponse()
        .setResponseCode(code)
        .setHeader("Content-Type", "application/json")
        .setBody(body);
  }

  @Test
  void refreshPostsGrantAndReadsTokens() throws Exception {
    server.enqueue(
        json(
            200,
            "{\"access_token\":\"access-2\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
                + "\"refresh_token\":\"refresh-2\",\"scope\":\"read\"}"));

    Tokens tokens = builder().clientSecret("s3cret").build().refresh(CURRENT);

    assertEquals(
        Tokens.of("access-2", "refresh-2", now.get() + TimeUnit.HOURS.toMillis(1)), tokens);
    RecordedRequest request = server.takeRequest();
    assertEquals("POST", request.getMethod());
    assertEquals("/oauth/token", request.getPath());
    assertEquals("grant_type=refresh_token, refresh_token=refresh-1", form(request));
    // client_secret_basic: form-encoded id and secret, then Basic (RFC 6749 §2.3.1).
    assertEquals(
        "Basic " + ByteString.encodeString("my+app:s3cret", StandardCharsets.ISO_8859_1).base64(),
        request.getHeader("Authorization"));
    assertEquals("application/json", request.getHeader("Accept"));
  }

  @Test
  void clientSecretPostPutsCredentialsInBody() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"a\",\"token_type\":\"bearer\"}"));

    builder()
        .clientSecret("s3cret")
        .clientAuthentication(ClientAuthentication.CLIENT_SECRET_POST)
        .scope("read write")
        .build()
        .refresh(CURRENT);

    RecordedRequest request = server.takeRequest();
    assertNull(request.getHeader("Authorization"));
    assertEquals(
        "grant_type=refresh_token, refresh_token=refresh-1, scope=read write, client_id=my app, "
            + "client_secret=s3cret",
        form(request));
  }

  @Test
  void publicClientSendsOnlyClientId() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"a\"}"));

    builder().build().refresh(CURRENT);

    RecordedRequest request = server.takeRequest();
    assertNull(request.getHeader("Authorization"));
    assertEquals(
        "grant_type=refresh_token, refresh_token=refresh-1, client_id=my app", form(request));
  }

  @Test
  void missingRefreshTokenInResponseGivesNoneAndManagerKeepsOld() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"access-2\",\"token_type\":\"Bearer\"}"));

    Tokens tokens = builder().build().refresh(CURRENT);

    assertNull(tokens.refreshToken());
    assertFalse(tokens.hasExpiry());
  }

  @Test
  void emptyRefreshTokenCountsAsMissing() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"access-2\",\"refresh_token\":\"\"}"));

    assertNull(builder().build().refresh(CURRENT).refreshToken());
  }

  @Test
  void expiresInAsStringIsAccepted() throws Exception {
    server.enqueue(json(200, "{\"access_token\":\"a\",\"expires_in\":\"60\"}"));

    assertEquals(now.get() + 60_000, builder().build().refresh(CURRENT).expiresAtMillis());
  }

  @Test
  void invalidGrantIsRejected() {
    server.enqueue(
        json(400, "{\"error\":\"invalid_grant\",\"error_description\":\"refresh-1 expired\"}"));

    RefreshRejectedException e =
        assertThrows(RefreshRejectedException.class, () -> builder().build().refresh(CURRENT));

    assertEquals(
        "the token endpoint rejected the refresh token (HTTP 400, invalid_grant)", e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "invalid_client",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope"
      })
  void configurationErrorsArePermanent(String error) {
    server.enqueue(json(400, "{\"error\":\"" + error + "\"}"));

    RefreshFailedException e =
        assertThrows(RefreshFailedException.class, () -> builder().build().refresh(CURRENT));

    assertTrue(e.isPermanent());
    assertEquals(
        "the token endpoint refused the client's request (HTTP 400, "
            + error
            + "): check the client id, secret, authentication method, grant type and scope",
        e.getMessage());
  }

  @Test
  void unauthorizedWithoutErrorCodeIsTransient() {
    server.enqueue(new MockResponse().setResponseCode(401));

    IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

    assertFalse(e instanceof RefreshFailedException);
    assertEquals("the token endpoint answered HTTP 401", e.getMessage());
  }

  @Test
  void notFoundIsTransient() {
    server.enqueue(new MockResponse().setResponseCode(404));

    IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

    assertFalse(e instanceof RefreshFailedException);
    assertEquals("the token endpoint answered HTTP 404", e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(ints = {408, 429, 500, 502, 503, 504})
  void timeoutsThrottlingAndServerErrorsAreTransient(int code) {
    server.enqueue(new MockResponse().setResponseCode(code));
    server.enqueue(new MockResponse().setResponseCode(code)); // OkHttp itself retries a 408 once.

    IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

    assertFalse(e instanceof RefreshRejectedException);
    assertFalse(e instanceof RefreshFailedException);
    assertEquals("the token endpoint answered HTTP " + code, e.getMessage());
  }

  @Test
  void retryAfterSecondsIsHonoured() {
    server.enqueue(new MockResponse().setResponseCode(429).setHeader("Retry-After", "120"));

    RefreshFailedException e =
        assertThrows(RefreshFailedException.class, () -> builder().build().refresh(CURRENT));

    assertFalse(e.isPermanent());
    assertEquals(120_000, e.retryAfterMillis());
  }

  @Test
  void retryAfterDateIsMeasuredFromServerDate() {
    long serverNow = 1_700_000_000_000L;
    server.enqueue(
        new MockResponse()
            .setResponseCode(503)
            .setHeader("Date", httpDate((serverNow)))
            .setHeader("Retry-After", httpDate((serverNow + 30_000))));

    RefreshFailedException e =
        assertThrows(RefreshFailedException.class, () -> builder().build().refresh(CURRENT));

    assertEquals(30_000, e.retryAfterMillis());
  }

  @Test
  void malformedBodyIsClearAndNamesNoToken() {
    server.enqueue(json(200, "{\"access_token\":\"secret-access\",\"refresh_token\":"));

    IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

    assertEquals(
        "the token endpoint returned a malformed token response (EOFException)", e.getMessage());
    assertNull(e.getCause());
  }

  @Test
  void htmlBodySaysItIsNotJson() {
    server.enqueue(
        new MockResponse()
            .setHeader("Content-Type", "text/html; charset=utf-8")
            .setBody("<html>proxy error</html>"));

    IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

    assertEquals(
        "the token endpoint answered text/html, not JSON (HTTP 200): check the token endpoint's URL",
        e.getMessage());
  }

  @Test
  void bodyThatIsNotJsonWithoutAContentTypeIsMalformed() {
    server.enqueue(new MockResponse().setBody("<html>proxy error</html>"));

    IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

    assertEquals(
        "the token endpoint returned a malformed token response (JsonEncodingException)",
        e.getMessage());
  }

  @Test
  void emptyAccessTokenIsTransientFailure() {
    server.enqueue(json(200, "{\"access_token\":\"\",\"refresh_token\":\"refresh-2\"}"));

    IOException e = assertThrows(IOException.class, () -> builder().build().refresh(CURRENT));

    assertEquals("the token response has no access_token", e.getMessage());
  }

  @Test
  void nonBearerTokenTypeIsPermanent() {
    server.enqueue(json(200, "{\"access_token\":\"a\",\"token_type\":\"mac\"}"));

    RefreshFailedException e =
        assertThrows(RefreshFailedException.class, () -> builder().build().refresh(CURRENT));

    assertEquals("the token endpoint issued a token of an unsupported type: mac", e.getMessage());
  }

  @Test
  void jwtExpIsCorrectedForDeviceClockByDateHeader() throws Exception {
    // The device clock runs one hour behind the server's.
    long serverNow = now.get() + TimeUnit.HOURS.toMillis(1);
    String jwt = JwtsTest.jwt("{\"sub\":\"ada\",\"exp\":" + (serverNow / 1000 + 300) + "}");
    server.enqueue(
        json(200, "{\"access_token\":\"" + jwt + "\"}").setHeader("Date", httpDate((serverNow))));

    Tokens tokens = builder().build().refresh(CURRENT);

    // Five minutes from now on the device's clock, not one hour and five minutes.
    assertEquals(now.get() + 300_000, tokens.expiresAtMillis());
  }

  @Test
  void expiresInIsRelativeToDeviceClockWhateverTheServerDate() throws Exception {
    server.enqueue(
        json(200, "{\"access_token\":\"a\",\"expires_in\":300}")
            .setHeader("Date", httpDate((now.get() + 3_600_000))));

    assertEquals(now.get() + 300_000, builder().build().refresh(CURRENT).expiresAtMillis());
  }

  @Test
  void derivedClientNeverCarriesAccessToken() throws Exception {
    RefreshManager auth =
        RefreshManager.builder().addAllowedOrigin(server.url("/").toString()).build();
    auth.signIn(CURRENT);
    OkHttpClient appClient = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    server.enqueue(new MockResponse());
    server.enqueue(json(200, "{\"access_token\":\"a\"}"));
    // The app's client attaches the token to this origin...
    appClient
        .newCall(new okhttp3.Request.Builder().url(server.url("/api")).build())
        .execute()
        .close();
    assertEquals("Bearer access-1", server.takeRequest().getHeader("Authorization"));

    builder().client(appClient).build().refresh(CURRENT);

    // ...but the refresh goes through a copy without the interceptor.
    assertNull(server.takeRequest().getHeader("Authorization"));
    assertEquals(1, appClient.interceptors().size()); // The app's client is left as it was.
  }

  @Test
  void builderRejectsBadConfiguration() {
    assertEquals(
        "no token endpoint: call tokenEndpoint(url) or issuer(url)",
        assertThrows(
                IllegalStateException.class, () -> OAuth2RefreshApi.builder().clientId("a").build())
            .getMessage());
    assertEquals(
        "no client id: call clientId(id)",
        assertThrows(
                IllegalStateException.class,
                () -> OAuth2RefreshApi.builder().tokenEndpoint("https://a.example/token").build())
            .getMessage());
    assertEquals(
        "the token endpoint is cleartext http: use https, or call allowCleartext(true)",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2RefreshApi.builder()
                        .tokenEndpoint("http://auth.example/token")
                        .clientId("a")
                        .build())
            .getMessage());
    assertEquals(
        "CLIENT_SECRET_POST needs a client secret: call clientSecret(secret), or use NONE",
        assertThrows(
                IllegalStateException.class,
                () ->
                    builder().clientAuthentication(ClientAuthentication.CLIENT_SECRET_POST).build())
            .getMessage());
    assertEquals(
        "url is not an http or https URL: ftp://x",
        assertThrows(
                IllegalArgumentException.class,
                () -> OAuth2RefreshApi.builder().tokenEndpoint("ftp://x"))
            .getMessage());
    assertEquals(
        "clientId is empty",
        assertThrows(IllegalArgumentException.class, () -> OAuth2RefreshApi.builder().clientId(""))
            .getMessage());
    assertEquals(
        "scope is blank",
        assertThrows(IllegalArgumentException.class, () -> OAuth2RefreshApi.builder().scope(" "))
            .getMessage());
  }

  @Test
  void builderChecksThePrivateKeyConfiguration() {
    java.security.PrivateKey key = Jose.Alg.ES256.keys.getPrivate();
    assertEquals(
        "clientSecret(secret), privateKey(key, keyId) and clientAssertion(source) exclude each"
            + " other: call one of them",
        assertThrows(
                IllegalStateException.class,
                () -> builder().clientSecret("s").privateKey(key, "k").build())
            .getMessage());
    assertEquals(
        "PRIVATE_KEY_JWT needs a private key or an assertion: call privateKey(key, keyId) or"
            + " clientAssertion(source), or use NONE",
        assertThrows(
                IllegalStateException.class,
                () -> builder().clientAuthentication(ClientAuthentication.PRIVATE_KEY_JWT).build())
            .getMessage());
    assertEquals(
        "CLIENT_SECRET_BASIC needs a client secret: call clientSecret(secret), or use NONE",
        assertThrows(
                IllegalStateException.class,
                () ->
                    builder()
                        .privateKey(key, "k")
                        .clientAuthentication(ClientAuthentication.CLIENT_SECRET_BASIC)
                        .build())
            .getMessage());
    assertEquals(
        "a public client (NONE) sends no assertion: remove privateKey(...) or"
            + " clientAssertion(...), or pick PRIVATE_KEY_JWT",
        assertThrows(
                IllegalStateException.class,
                () ->
                    builder()
                        .privateKey(key, "k")
                        .clientAuthentication(ClientAuthentication.NONE)
                        .build())
            .getMessage());
    assertEquals(
        "key == null",
        assertThrows(NullPointerException.class, () -> builder().privateKey(null, "k"))
            .getMessage());
    assertEquals(
        "keyId == null",
        assertThrows(NullPointerException.class, () -> builder().privateKey(key, null))
            .getMessage());
    assertEquals(
        "keyId is empty",
        assertThrows(IllegalArgumentException.class, () -> builder().privateKey(key, ""))
            .getMessage());
    assertEquals(
        "RS256 needs an RSA key of 2048 bits or more: 1024",
        assertThrows(
                IllegalArgumentException.class,
                () -> builder().privateKey(Jose.generate("RSA", 1024).getPrivate(), "k"))
            .getMessage());
  }

  @Test
  void toStringNamesNoSecretAndNoKey() {
    assertEquals(
        "OAuth2RefreshApi{tokenEndpoint="
            + server.url("/oauth/token")
            + ", clientId=my app, clientAuthentication=auto}",
        builder().clientSecret("s3cret").build().toString());
    assertEquals(
        "OAuth2RefreshApi{tokenEndpoint="
            + server.url("/oauth/token")
            + ", clientId=my app, clientAuthentication=PRIVATE_KEY_JWT}",
        builder()
            .privateKey(Jose.Alg.RS256.keys.getPrivate(), "k")
            .clientAuthentication(ClientAuthentication.PRIVATE_KEY_JWT)
            .build()
            .toString());
  }
}
