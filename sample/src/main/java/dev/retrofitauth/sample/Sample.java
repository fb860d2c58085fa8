package dev.retrofitauth.sample;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.AuthListener;
import dev.retrofitauth.NoAuth;
import dev.retrofitauth.NoRetry;
import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.TokenStore;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.moshi.MoshiConverterFactory;
import retrofit2.http.Field;
import retrofit2.http.FormUrlEncoded;
import retrofit2.http.GET;
import retrofit2.http.POST;
import retrofit2.http.Path;

/**
 * Runs the whole retrofit-auth story against an embedded API server, and exits 0 if every step
 * behaved as expected.
 */
public final class Sample {
  // ---- What an app writes: the services, the token JSON and the RefreshApi. ----

  /** The token endpoint's JSON. */
  static final class TokenJson {
    String access_token;
    String refresh_token;
    long expires_in;
  }

  static final class Profile {
    String path;
  }

  interface AuthService {
    @NoAuth
    @FormUrlEncoded
    @POST("login")
    Call<TokenJson> login(@Field("username") String username, @Field("password") String password);

    @NoAuth
    @FormUrlEncoded
    @POST("oauth/token")
    Call<TokenJson> refresh(
        @Field("grant_type") String grantType, @Field("refresh_token") String refreshToken);
  }

  interface Api {
    @GET("api/profile")
    Call<Profile> profile();

    @GET("api/feed/{page}")
    Call<Profile> feed(@Path("page") int page);

    @NoRetry
    @GET("api/poll")
    Call<Profile> poll();
  }

  /** Exchanges the refresh token through a {@code @NoAuth} Retrofit method. */
  static RefreshApi refreshApi(AuthService authService) {
    return current -> {
      Response<TokenJson> response =
          authService.refresh("refresh_token", current.refreshToken()).execute();
      if (response.code() == 400 || response.code() == 401) {
        throw new RefreshRejectedException("refresh token rejected: HTTP " + response.code());
      }
      if (!response.isSuccessful())
        throw new IOException("refresh failed: HTTP " + response.code());
      return toTokens(response.body());
    };
  }

  static Tokens toTokens(TokenJson json) {
    return Tokens.of(
        json.access_token,
        json.refresh_token,
        System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(json.expires_in));
  }

  // ---- The story. ----

  private final PrintStream out;
  private final DemoServer server;
  private int failures;

  Sample(PrintStream out, DemoServer server) {
    this.out = out;
    this.server = server;
  }

  public static void main(String[] args) throws Exception {
    int status;
    try (DemoServer server = new DemoServer()) {
      status = new Sample(System.out, server).run();
    }
    System.exit(status);
  }

  /** Runs every step; returns the process exit status. */
  int run() throws Exception {
    out.println("retrofit-auth sample: demo API at " + server.url());
    accessTokenOnly();
    singleFlight();
    signOut();
    if (failures == 0) {
      out.println("All steps behaved as expected.");
      return 0;
    }
    out.println(failures + " step(s) did not behave as expected.");
    return 1;
  }

  /** A client wired the way the README shows it. */
  private final class Client implements AutoCloseable {
    final RefreshManager auth;
    final OkHttpClient okHttp;
    final AuthService authService;
    final Api api;
    final List<String> events = new CopyOnWriteArrayList<>();

    Client(boolean withRefresh) {
      // The token endpoint has its own client, without the auth interceptor.
      OkHttpClient plain = new OkHttpClient();
      authService = retrofit(plain, null).create(AuthService.class);
      RefreshManager.Builder builder =
          RefreshManager.builder()
              .tokenStore(TokenStore.inMemory())
              // Tokens live 5 s here: refresh ahead of expiry only in the last second.
              .expiryLeeway(1, TimeUnit.SECONDS)
              .listener(
                  new AuthListener() {
                    @Override
                    public void onRefreshed() {
                      events.add("refreshed");
                    }

                    @Override
                    public void onSignedOut(SignOutReason reason) {
                      events.add("signed out: " + reason);
                    }
                  });
      if (withRefresh) builder.refreshApi(refreshApi(authService));
      auth = builder.build();
      Dispatcher dispatcher = new Dispatcher();
      dispatcher.setMaxRequestsPerHost(64);
      okHttp = plain.newBuilder().dispatcher(dispatcher).addInterceptor(auth.interceptor()).build();
      api = retrofit(okHttp, auth).create(Api.class);
    }

    private Retrofit retrofit(OkHttpClient client, RefreshManager auth) {
      Retrofit.Builder builder = new Retrofit.Builder().baseUrl(server.url()).client(client);
      if (auth != null) builder.addCallAdapterFactory(AuthCallAdapterFactory.create(auth));
      return builder.addConverterFactory(MoshiConverterFactory.create()).build();
    }

    void login() throws IOException {
      auth.signIn(toTokens(authService.login("ada", "secret").execute().body()));
    }

    @Override
    public void close() {
      okHttp.dispatcher().executorService().shutdown();
      okHttp.connectionPool().evictAll();
    }
  }

  private void accessTokenOnly() throws IOException {
    out.println();
    out.println("1. Access token only (no RefreshApi)");
    try (Client client = new Client(false)) {
      client.login();
      Response<Profile> ok = client.api.profile().execute();
      out.println("   GET /api/profile with a fresh token -> HTTP " + ok.code());
      server.expireAccessTokens();
      Response<Profile> expired = client.api.profile().execute();
      out.println("   the token expired on the server     -> HTTP " + expired.code());
      out.println("   the app was told: " + client.events);
      check(ok.code() == 200, "a fresh token works");
      check(expired.code() == 401, "an expired token gives 401 when there is no RefreshApi");
      check(
          client.events.equals(List.of("signed out: NO_REFRESH_POSSIBLE")),
          "exactly one 'session over' event");
    }
  }

  private void singleFlight() throws Exception {
    int calls = 200;
    out.println();
    out.println("2. Single-flight refresh: " + calls + " concurrent calls hit an expired token");
    try (Client client = new Client(true)) {
      client.login();
      server.expireAccessTokens();
      server.resetCounters();
      Storm storm = storm(client, calls);
      out.println(
          "   calls made: "
              + calls
              + ", succeeded: "
              + storm.succeeded
              + ", failed: "
              + storm.failed);
      out.println(
          "   the server saw "
              + server.apiCalls.get()
              + " API requests, "
              + server.unauthorized.get()
              + " of them 401, and "
              + server.refreshes.get()
              + " refresh(es)");
      RefreshManager.Stats stats = client.auth.stats();
      out.println(
          "   retries: "
              + stats.retries()
              + ", stale 401s answered without a refresh: "
              + stats.stale401s());
      check(storm.succeeded == calls, "every call succeeded");
      check(server.refreshes.get() == 1, "exactly one refresh ran");
      check(server.refreshTokensPresentedTwice.get() == 0, "no refresh token was presented twice");
      check(
          server.apiCalls.get() == calls + server.unauthorized.get(),
          "each call that got a 401 was retried exactly once");
    }
  }

  private void signOut() throws Exception {
    int calls = 50;
    out.println();
    out.println(
        "4. Sign-out: the server revoked the refresh token; " + calls + " calls are waiting");
    try (Client client = new Client(true)) {
      client.login();
      server.expireAccessTokens();
      server.revokeRefreshTokens();
      server.resetCounters();
      Storm storm = storm(client, calls);
      out.println(
          "   calls that got their 401 back: "
              + storm.unauthorized
              + " of "
              + calls
              + "; events: "
              + client.events);
      check(storm.unauthorized == calls, "every waiting call got its 401 back");
      check(
          client.events.equals(List.of("signed out: REFRESH_REJECTED")),
          "exactly one signed-out event");
      check(client.auth.currentTokens() == null, "the tokens were cleared");
    }
  }

  private static final class Storm {
    int succeeded;
    int unauthorized;
    int failed;
  }

  /** Fires {@code calls} asynchronous calls at once and waits for all of them. */
  private Storm storm(Client client, int calls) throws InterruptedException {
    AtomicInteger succeeded = new AtomicInteger();
    AtomicInteger unauthorized = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(calls);
    for (int i = 0; i < calls; i++) {
      client
          .api
          .feed(i)
          .enqueue(
              new Callback<Profile>() {
                @Override
                public void onResponse(Call<Profile> call, Response<Profile> response) {
                  if (response.isSuccessful()) {
                    succeeded.incrementAndGet();
                  } else if (response.code() == 401) {
                    unauthorized.incrementAndGet();
                  } else {
                    failed.incrementAndGet();
                  }
                  done.countDown();
                }

                @Override
                public void onFailure(Call<Profile> call, Throwable t) {
                  failed.incrementAndGet();
                  done.countDown();
                }
              });
    }
    progress(done, calls);
    Storm storm = new Storm();
    storm.succeeded = succeeded.get();
    storm.unauthorized = unauthorized.get();
    storm.failed = failed.get();
    return storm;
  }

  /** Prints how many calls have completed until all have, or 60 seconds have passed. */
  private void progress(CountDownLatch done, int calls) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    out.print("   progress:");
    long last = -1;
    while (!done.await(50, TimeUnit.MILLISECONDS) && System.nanoTime() < deadline) {
      long completed = calls - done.getCount();
      if (completed != last) out.print(" " + completed);
      last = completed;
    }
    out.println(" " + (calls - done.getCount()) + "/" + calls + " done");
  }

  private void check(boolean ok, String expectation) {
    out.println("   [" + (ok ? "ok" : "FAILED") + "] " + expectation);
    if (!ok) failures++;
  }
}
