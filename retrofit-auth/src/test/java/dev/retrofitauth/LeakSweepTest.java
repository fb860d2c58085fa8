package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import dev.retrofitauth.oauth2.OAuth2RefreshApi;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import okhttp3.logging.HttpLoggingInterceptor;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/**
 * Runs the main scenarios with canary token values and body-level HTTP logging, and checks that no
 * canary shows up anywhere but in the Authorization header (which the logger redacts) and the token
 * endpoint's request and response bodies.
 */
final class LeakSweepTest {
  private static final String CANARY = "CANARY";

  @TempDir Path directory;

  private final List<String> apiLog = new CopyOnWriteArrayList<>();
  private final List<String> tokenLog = new CopyOnWriteArrayList<>();

  /** Everything else a user could see: events, messages, toString()s. */
  private final List<String> visible = new CopyOnWriteArrayList<>();

  private final AtomicInteger issued = new AtomicInteger();
  private volatile String validAccess = "";
  private volatile MockResponse forcedTokenResponse;

  @Test
  void noCanaryEscapes() throws Exception {
    MockWebServer tokenServer = new MockWebServer();
    tokenServer.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            MockResponse forced = forcedTokenResponse;
            if (forced != null) return forced;
            int n = issued.incrementAndGet();
            validAccess = CANARY + "-access-" + n;
            return json(
                200,
                "{\"access_token\":\""
                    + validAccess
                    + "\",\"refresh_token\":\""
                    + CANARY
                    + "-refresh-"
                    + n
                    + "\",\"expires_in\":3600}");
          }
        });
    MockWebServer apiServer = new MockWebServer();
    apiServer.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            return ("Bearer " + validAccess).equals(request.getHeader("Authorization"))
                ? new MockResponse().setBody("ok")
                : new MockResponse()
                    .setResponseCode(401)
                    .setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
          }
        });
    tokenServer.start();
    apiServer.start();
    try {
      run(tokenServer, apiServer);
    } finally {
      tokenServer.shutdown();
      apiServer.shutdown();
    }

    assertTrue(apiLog.size() > 20, "the API client logged " + apiLog.size() + " lines");
    assertTrue(tokenLog.size() > 10, "the token client logged " + tokenLog.size() + " lines");
    assertTrue(visible.size() > 20, "collected " + visible.size() + " visible strings");
    for (String line : apiLog) assertFalse(line.contains(CANARY), "API log: " + line);
    for (String line : visible) assertFalse(line.contains(CANARY), "visible: " + line);
    int inBodies = 0;
    for (String line : tokenLog) {
      if (!line.contains(CANARY)) continue;
      // Only the token endpoint's bodies: the JSON response and the form request.
      assertTrue(line.startsWith("{") || line.startsWith("grant_type="), "token log: " + line);
      inBodies++;
    }
    assertTrue(inBodies > 0, "the sweep saw the canaries where they belong");
  }

  private void run(MockWebServer tokenServer, MockWebServer apiServer) throws Exception {
    File file = directory.resolve("tokens.json").toFile();
    RefreshManager[] managers = new RefreshManager[2];
    OkHttpClient tokenClient = new OkHttpClient.Builder().addInterceptor(logger(tokenLog)).build();
    OAuth2RefreshApi oauth =
        OAuth2RefreshApi.builder()
            .tokenEndpoint(tokenServer.url("/token").toString())
            .clientId("app")
            .clientSecret("app-secret")
            .client(tokenClient)
            .build();
    for (int m = 0; m < 2; m++) {
      boolean queueMode = m == 1;
      RefreshManager auth =
          RefreshManager.builder()
              .tokenStore(TokenStore.file(file))
              .refreshApi(oauth)
              .queueMode(queueMode)
              .refreshBackoff(0, 0, TimeUnit.MILLISECONDS)
              .addListener(recordingListener())
              .build();
      managers[m] = auth;
      OkHttpClient client =
          new OkHttpClient.Builder()
              .addInterceptor(auth.interceptor())
              .addInterceptor(logger(apiLog)) // After ours: it sees the Authorization header.
              .authenticator(auth.authenticator())
              .build();
      Api api =
          new Retrofit.Builder()
              .baseUrl(apiServer.url("/"))
              .client(client)
              .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
              .addConverterFactory(ScalarsConverterFactory.create())
              .build()
              .create(Api.class);

      auth.signIn(Tokens.of(CANARY + "-signin-" + m, CANARY + "-signin-refresh-" + m));
      visible.add(auth.currentTokens().toString());
      // A refresh that succeeds, then a stale 401.
      call(api);
      validAccess = "changed";
      call(api);
      // Transient failures whose bodies carry canaries.
      validAccess = "expired";
      forcedTokenResponse =
          json(500, "{\"error\":\"server_error\",\"detail\":\"" + CANARY + "-refresh-x\"}");
      call(api);
      forcedTokenResponse = json(200, "{\"access_token\":\"" + CANARY + "-half");
      call(api);
      forcedTokenResponse = json(200, "{\"access_token\":\"" + CANARY + " has space\"}");
      call(api);
      forcedTokenResponse =
          json(400, "{\"error\":\"invalid_client\",\"error_description\":\"" + CANARY + "\"}");
      call(api);
      auth.signIn(Tokens.of(CANARY + "-again-" + m, CANARY + "-again-refresh-" + m));
      // A rejection that echoes the refresh token.
      forcedTokenResponse =
          json(400, "{\"error\":\"invalid_grant\",\"error_description\":\"" + CANARY + "\"}");
      call(api);
      forcedTokenResponse = null;
      auth.signIn(Tokens.of(CANARY + "-last-" + m, CANARY + "-last-refresh-" + m));
      // A plain OkHttp call through the authenticator.
      validAccess = "expired-again";
      try (okhttp3.Response plain =
          client
              .newCall(new okhttp3.Request.Builder().url(apiServer.url("/img")).build())
              .execute()) {
        visible.add(plain.toString());
      } catch (IOException e) {
        addChain(e);
      }
      visible.add(auth.stats().toString());
      visible.add(auth.queuedCalls().toString());
      visible.add(auth.toString());
      auth.signOut();
    }
    visible.add(oauth.toString());
    // A corrupt token file that holds a canary.
    Files.write(
        file.toPath(),
        ("{\"version\":1,\"access_token\":\"" + CANARY + "-corrupt")
            .getBytes(StandardCharsets.UTF_8));
    RefreshManager.builder()
        .tokenStore(TokenStore.file(file))
        .addListener(recordingListener())
        .build();
    try {
      TokenStore.file(file).load();
    } catch (IOException e) {
      addChain(e);
    }
    // Bad input that carries a token.
    try {
      Tokens.of(CANARY + " with space");
    } catch (IllegalArgumentException e) {
      addChain(e);
    }
  }

  private void call(Api api) {
    try {
      Response<String> response = api.me().execute();
      visible.add(response.toString());
      visible.add(response.raw().toString());
    } catch (IOException | RuntimeException e) {
      addChain(e);
    }
  }

  private void addChain(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      visible.add(c.toString());
      java.io.StringWriter trace = new java.io.StringWriter();
      c.printStackTrace(new java.io.PrintWriter(trace));
      visible.add(trace.toString());
    }
  }

  private AuthListener recordingListener() {
    return new AuthListener() {
      @Override
      public void onSignedIn() {
        visible.add("signedIn");
      }

      @Override
      public void onRefreshed() {
        visible.add("refreshed");
      }

      @Override
      public void onRefreshFailed(IOException cause) {
        addChain(cause);
      }

      @Override
      public void onSignedOut(SignOutReason reason) {
        visible.add("signedOut " + reason);
      }

      @Override
      public void onStoreFailed(Exception cause) {
        addChain(cause);
      }
    };
  }

  private static HttpLoggingInterceptor logger(List<String> lines) {
    HttpLoggingInterceptor logging = new HttpLoggingInterceptor(lines::add);
    logging.setLevel(HttpLoggingInterceptor.Level.BODY);
    logging.redactHeader("Authorization"); // As OkHttp's documentation advises.
    return logging;
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse()
        .setResponseCode(code)
        .setHeader("Content-Type", "application/json")
        .setBody(body);
  }
}
