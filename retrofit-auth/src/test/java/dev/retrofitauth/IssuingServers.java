package dev.retrofitauth;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.squareup.moshi.JsonReader;
import dev.retrofitauth.oauth2.OAuth2RefreshApi;
import java.io.IOException;
import java.text.ParseException;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.http.MockWebServerWrapper;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
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

/**
 * A real OAuth 2 server (mock-oauth2-server, rotating refresh tokens, any number of issuers) and an
 * API on MockWebServer that checks every token's claims against what the path asks for:
 *
 * <ul>
 *   <li>{@code /iss/<issuer>/...}: a token from that issuer;
 *   <li>{@code /users/<id>/...}: a token whose {@code sub} is {@code id};
 *   <li>{@code /aud/<scope>/...}: a token whose audience holds {@code scope}.
 * </ul>
 *
 * Anything else, an expired token, or a token of the wrong claims gets a 401; the wrong claims are
 * also counted in {@link #wrongToken}.
 */
final class IssuingServers implements AutoCloseable {
  static final String CLIENT_ID = "retrofit-auth-test";
  static final String CLIENT_SECRET = "test-secret";
  private static final String REDIRECT_URI = "http://localhost/callback";

  final MockOAuth2Server oauth =
      new MockOAuth2Server(
          new OAuth2Config(
              false,
              null,
              null,
              true, // Rotate refresh tokens, as production servers do.
              new OAuth2TokenProvider(),
              Collections.emptySet(),
              new MockWebServerWrapper()));
  final MockWebServer api = new MockWebServer();

  /** Access tokens the API no longer accepts. */
  final Set<String> expired = ConcurrentHashMap.newKeySet();

  /** Requests whose token was valid, but not for what they asked: another user's, say. */
  final AtomicInteger wrongToken = new AtomicInteger();

  /** Token requests, by path ({@code /<issuer>/token}). */
  final List<String> tokenRequests = new CopyOnWriteArrayList<>();

  /** The client the helpers use: it counts token requests. */
  final OkHttpClient helperClient =
      new OkHttpClient.Builder()
          .addInterceptor(
              chain -> {
                tokenRequests.add(chain.request().url().encodedPath());
                return chain.proceed(chain.request());
              })
          .build();

  /** The login screen's client. */
  private final OkHttpClient plain = new OkHttpClient.Builder().followRedirects(false).build();

  IssuingServers() throws IOException {
    oauth.start();
    api.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            return answer(request);
          }
        });
    api.setServerSocketFactory(new ApiServer.NoDelayServerSocketFactory()); // No 40 ms ACK waits.
    api.start();
  }

  private MockResponse answer(RecordedRequest request) {
    String authorization = request.getHeader("Authorization");
    if (authorization == null || !authorization.startsWith("Bearer ")) return unauthorized();
    String token = authorization.substring("Bearer ".length());
    if (expired.contains(token)) return unauthorized();
    JWTClaimsSet claims;
    try {
      claims = SignedJWT.parse(token).getJWTClaimsSet();
    } catch (ParseException e) {
      return unauthorized();
    }
    List<String> path = request.getRequestUrl().pathSegments();
    String kind = path.get(0);
    String wanted = path.get(1);
    boolean right;
    switch (kind) {
      case "iss":
        right = claims.getIssuer().equals(oauth.issuerUrl(wanted).toString());
        break;
      case "users":
        right = wanted.equals(claims.getSubject());
        break;
      case "aud":
        right = claims.getAudience().contains(wanted);
        break;
      default:
        right = false;
    }
    if (!right) {
      wrongToken.incrementAndGet();
      return new MockResponse().setResponseCode(403);
    }
    return new MockResponse().setBody(claims.getSubject());
  }

  private static MockResponse unauthorized() {
    return new MockResponse().setResponseCode(401).setHeader("WWW-Authenticate", "Bearer");
  }

  /** A refresh API for {@code issuer}, through {@link #helperClient}. */
  OAuth2RefreshApi refreshApi(String issuer) {
    return OAuth2RefreshApi.builder()
        .tokenEndpoint(oauth.tokenEndpointUrl(issuer).toString())
        .clientId(CLIENT_ID)
        .clientSecret(CLIENT_SECRET)
        .client(helperClient)
        .build();
  }

  /**
   * Signs {@code user} in at {@code issuer} with the authorization code flow, as a login screen
   * would: the token's {@code sub} is the user. One at a time: the server hands the user's name to
   * the next token it issues.
   */
  synchronized Tokens signIn(String issuer, String user) throws IOException {
    oauth.enqueueCallback(new DefaultOAuth2TokenCallback(issuer, user));
    HttpUrl authorize =
        oauth
            .authorizationEndpointUrl(issuer)
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
        plain.newCall(new Request.Builder().url(authorize).build()).execute()) {
      code = HttpUrl.get(redirect.header("Location")).queryParameter("code");
    }
    Request request =
        new Request.Builder()
            .url(oauth.tokenEndpointUrl(issuer))
            .post(
                new FormBody.Builder()
                    .add("grant_type", "authorization_code")
                    .add("code", code)
                    .add("redirect_uri", REDIRECT_URI)
                    .add("client_id", CLIENT_ID)
                    .add("client_secret", CLIENT_SECRET)
                    .build())
            .build();
    try (Response response = plain.newCall(request).execute()) {
      if (!response.isSuccessful()) throw new IOException("sign-in failed: " + response);
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
      if (refresh == null) throw new IOException("no refresh token for " + user);
      return Tokens.of(access, refresh);
    }
  }

  static String subject(String accessToken) throws ParseException {
    return SignedJWT.parse(accessToken).getJWTClaimsSet().getSubject();
  }

  /** Counts the token requests made to {@code issuer}. */
  long tokenRequestsTo(String issuer) {
    String path = "/" + issuer + "/token";
    return tokenRequests.stream().filter(path::equals).count();
  }

  @Override
  public void close() throws IOException {
    api.shutdown();
    oauth.shutdown();
    helperClient.dispatcher().executorService().shutdown();
    helperClient.connectionPool().evictAll();
    plain.connectionPool().evictAll();
  }
}
