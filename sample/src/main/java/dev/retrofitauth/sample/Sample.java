package dev.retrofitauth.sample;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.AuthListener;
import dev.retrofitauth.Credential;
import dev.retrofitauth.DPoP;
import dev.retrofitauth.NoAuth;
import dev.retrofitauth.NoRetry;
import dev.retrofitauth.QueuedCall;
import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.RetryGroup;
import dev.retrofitauth.RetryPriority;
import dev.retrofitauth.SessionRegistry;
import dev.retrofitauth.TokenSource;
import dev.retrofitauth.TokenStore;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.oauth2.OAuth2TokenSource;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
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

  static final class Page {
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
    Call<Page> profile();

    @RetryPriority(10) // In queue mode, retried before everything else.
    @GET("api/checkout/{n}")
    Call<Page> checkout(@Path("n") int n);

    @GET("api/news/{n}")
    Call<Page> news(@Path("n") int n);

    @RetryGroup("feed") // In queue mode, cancellable together when the feed screen closes.
    @GET("api/feed/{n}")
    Call<Page> feed(@Path("n") int n);

    @NoRetry // A 401 comes back as it is.
    @GET("api/poll")
    Call<Page> poll();

    @Credential("service") // Step 7: the service's token, not the user's.
    @GET("api/reports/{n}")
    Call<Page> report(@Path("n") int n);
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
    queueMode();
    signOut();
    serviceToken();
    dpop();
    twoCredentials();
    KotlinStep.run(out, server, this::check);
    out.println();
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

    Client(boolean withRefresh, UnaryOperator<RefreshManager.Builder> options) {
      // The token endpoint gets its own client, without the auth interceptor.
      OkHttpClient plain = new OkHttpClient();
      authService = retrofit(plain, null).create(AuthService.class);
      RefreshManager.Builder builder =
          RefreshManager.builder()
              .tokenStore(TokenStore.inMemory())
              // Tokens live 5 s here: refresh ahead of expiry only in the last second.
              .expiryLeeway(1, TimeUnit.SECONDS)
              .addListener(
                  new AuthListener() {
                    @Override
                    public void onRefreshed() {
                      events.add("refreshed");
                    }

                    @Override
                    public void onSignedOut(SignOutReason reason) {
                      events.add("signed out: " + reason);
                    }

                    @Override
                    public void onNoRefreshPossible() {
                      events.add("no refresh possible");
                    }
                  });
      if (withRefresh) builder.refreshApi(refreshApi(authService));
      auth = options.apply(builder).build();
      Dispatcher dispatcher = new Dispatcher();
      dispatcher.setMaxRequestsPerHost(64);
      okHttp =
          plain
              .newBuilder()
              .dispatcher(dispatcher)
              .addInterceptor(auth.interceptor())
              // Signs the DPoP proofs of step 6; without DPoP it passes every request through.
              .addNetworkInterceptor(auth.networkInterceptor())
              .build();
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
    try (Client client = new Client(false, b -> b)) {
      client.login();
      Response<Page> ok = client.api.profile().execute();
      out.println("   GET /api/profile with a fresh token -> HTTP " + ok.code());
      server.expireAccessTokens();
      Response<Page> expired = client.api.profile().execute();
      out.println("   the token expired on the server     -> HTTP " + expired.code());
      out.println("   the app was told: " + client.events);
      check(ok.code() == 200, "a fresh token works");
      check(expired.code() == 401, "an expired token gives 401 when there is no RefreshApi");
      check(
          client.events.equals(List.of("no refresh possible")),
          "exactly one 'no refresh possible' event, and the app decides what it means");
    }
  }

  private void singleFlight() throws Exception {
    int calls = 200;
    out.println();
    out.println("2. Single-flight refresh: " + calls + " concurrent calls hit an expired token");
    try (Client client = new Client(true, b -> b)) {
      client.login();
      server.expireAccessTokens();
      server.resetCounters();
      List<Call<Page>> storm = new ArrayList<>();
      for (int i = 0; i < calls; i++) storm.add(client.api.news(i));
      Results results = run(storm, null);
      out.println(
          "   calls made: "
              + calls
              + ", succeeded: "
              + results.succeeded
              + ", failed: "
              + results.failed);
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
          "   the other "
              + (calls - server.unauthorized.get())
              + " calls started while the refresh ran: they waited for it and never sent the"
              + " dead token");
      out.println(
          "   retries: "
              + stats.retries()
              + ", stale 401s answered without a refresh: "
              + stats.stale401s());
      check(results.succeeded == calls, "every call succeeded");
      check(server.refreshes.get() == 1, "exactly one refresh ran");
      check(server.refreshTokensPresentedTwice.get() == 0, "no refresh token was presented twice");
      check(
          server.apiCalls.get() == calls + server.unauthorized.get(),
          "each call that got a 401 was retried exactly once");
    }
  }

  private void queueMode() throws Exception {
    int cap = 8;
    out.println();
    out.println(
        "3. Queue mode: 200 calls wait in one queue; at most "
            + cap
            + " retries at once; the feed screen closes");
    try (Client client = new Client(true, b -> b.queueMode(true).maxConcurrentRetries(cap))) {
      client.login();
      server.expireAccessTokens();
      server.resetCounters();
      server.holdTokenEndpoint(); // A slow token endpoint: the calls pile up in the queue.
      server.apiLatencyMillis = 5;
      List<Call<Page>> storm = new ArrayList<>();
      for (int i = 0; i < 100; i++) storm.add(client.api.feed(i));
      for (int i = 0; i < 60; i++) storm.add(client.api.news(i));
      for (int i = 0; i < 40; i++) storm.add(client.api.checkout(i));
      AtomicInteger canceled = new AtomicInteger();
      Results results =
          run(
              storm,
              () -> {
                List<QueuedCall> waiting = client.auth.queuedCalls();
                if (waiting.size() < storm.size()) return false;
                out.println("   waiting: " + summary(waiting));
                canceled.set(client.auth.cancelQueued("feed"));
                out.println("   the feed screen closed: " + canceled + " feed calls canceled");
                server.openTokenEndpoint();
                return true;
              });
      out.println(
          "   succeeded: "
              + results.succeeded
              + ", canceled: "
              + results.canceled
              + ", failed: "
              + results.failed
              + ", refreshes: "
              + server.refreshes.get());
      out.println("   retries reached the server in this order: " + runs(server.served));
      out.println(
          "   most retries on the server at once: "
              + server.maxInFlight.get()
              + " (cap "
              + cap
              + ")");
      check(
          canceled.get() == 100 && results.canceled == 100,
          "the 100 feed calls were canceled, once each");
      check(results.succeeded == 100, "the other 100 calls succeeded");
      check(server.refreshes.get() == 1, "exactly one refresh ran");
      check(server.maxInFlight.get() <= cap, "never more than " + cap + " retries at once");
      // A news retry starts only once all 40 checkouts have started and 32 have ended.
      check(
          server.served.subList(0, 32).stream().allMatch(p -> p.startsWith("/api/checkout/")),
          "the priority-10 checkouts were retried first");
    } finally {
      server.openTokenEndpoint();
      server.apiLatencyMillis = 0;
    }
  }

  private void signOut() throws Exception {
    int calls = 50;
    out.println();
    out.println(
        "4. Sign-out: the server revoked the refresh token; " + calls + " calls are waiting");
    try (Client client = new Client(true, b -> b)) {
      client.login();
      server.expireAccessTokens();
      server.revokeRefreshTokens();
      server.resetCounters();
      List<Call<Page>> storm = new ArrayList<>();
      for (int i = 0; i < calls; i++) storm.add(client.api.news(i));
      Results results = run(storm, null);
      out.println(
          "   calls that got their 401 back: "
              + results.unauthorized
              + " of "
              + calls
              + "; events: "
              + client.events);
      check(results.unauthorized == calls, "every waiting call got its 401 back");
      check(
          client.events.equals(List.of("signed out: REFRESH_REJECTED")),
          "exactly one signed-out event");
      check(client.auth.currentTokens() == null, "the tokens were cleared");
    }
  }

  private void serviceToken() throws Exception {
    int calls = 200;
    out.println();
    out.println("5. A service token: a worker that never signs in (client_credentials)");
    TokenSource source =
        OAuth2TokenSource.clientCredentials()
            .tokenEndpoint(server.url().resolve("/oauth/token").toString())
            .clientId("worker")
            .clientSecret("s3cret")
            .build();
    try (Client client = new Client(false, b -> b.tokenSource(source))) {
      server.resetCounters();
      List<Call<Page>> startUp = new ArrayList<>();
      for (int i = 0; i < calls; i++) startUp.add(client.api.news(i));
      Results first = run(startUp, null);
      int atStart = server.serviceTokens.get();
      out.println(
          "   "
              + calls
              + " concurrent first calls: "
              + first.succeeded
              + " succeeded, "
              + atStart
              + " token request(s), "
              + server.unauthorized.get()
              + " sent without a token");
      server.expireAccessTokens();
      List<Call<Page>> storm = new ArrayList<>();
      for (int i = 0; i < calls; i++) storm.add(client.api.news(i));
      Results second = run(storm, null);
      int afterExpiry = server.serviceTokens.get() - atStart;
      out.println(
          "   the token expired on the server, "
              + calls
              + " more calls: "
              + second.succeeded
              + " succeeded, "
              + afterExpiry
              + " token request(s)");
      check(first.succeeded == calls && second.succeeded == calls, "every call succeeded");
      check(atStart == 1, "the first calls shared one token request");
      check(afterExpiry == 1, "the 401s after expiry shared one token request");
    }
  }

  private void dpop() throws Exception {
    int calls = 100;
    out.println();
    out.println("6. DPoP: the worker's tokens are bound to its key; the server requires a nonce");
    DPoP dpop = DPoP.generate();
    TokenSource source =
        OAuth2TokenSource.clientCredentials()
            .tokenEndpoint(server.url().resolve("/oauth/token").toString())
            .clientId("worker")
            .clientSecret("s3cret")
            .dpop(dpop)
            .build();
    try (Client client = new Client(false, b -> b.tokenSource(source).dpop(dpop))) {
      server.resetCounters();
      server.dpopNonce = "nonce-1";
      List<Call<Page>> first = new ArrayList<>();
      for (int i = 0; i < calls; i++) first.add(client.api.news(i));
      Results one = run(first, null);
      int firstChallenges = server.nonceChallenges.get();
      out.println(
          "   "
              + calls
              + " calls: "
              + one.succeeded
              + " succeeded; "
              + firstChallenges
              + " were asked for the nonce and sent again once; token requests: "
              + server.serviceTokens.get());
      server.dpopNonce = "nonce-2"; // The server rotates its nonce.
      List<Call<Page>> second = new ArrayList<>();
      for (int i = 0; i < calls; i++) second.add(client.api.news(i));
      Results two = run(second, null);
      int secondChallenges = server.nonceChallenges.get() - firstChallenges;
      out.println(
          "   the nonce rotated, "
              + calls
              + " more calls: "
              + two.succeeded
              + " succeeded, "
              + secondChallenges
              + " sent again for the new nonce; token requests: "
              + server.serviceTokens.get()
              + " ("
              + dpop
              + ")");
      check(one.succeeded == calls && two.succeeded == calls, "every call succeeded");
      check(server.serviceTokens.get() == 1, "no token request was caused by a nonce");
      check(
          firstChallenges <= calls && secondChallenges <= calls,
          "each call was sent again at most once for a nonce");
    } finally {
      server.dpopNonce = null;
    }
  }

  private void twoCredentials() throws Exception {
    int calls = 200;
    out.println();
    out.println("7. Two credentials in one Retrofit: the user's token and a service's token");
    TokenSource source =
        OAuth2TokenSource.clientCredentials()
            .tokenEndpoint(server.url().resolve("/oauth/token").toString())
            .clientId("worker")
            .clientSecret("s3cret")
            .build();
    RefreshManager service = RefreshManager.builder().tokenSource(source).build();
    try (Client user = new Client(true, b -> b)) {
      // One registry: methods with @Credential("service") get its token, the rest the user's.
      SessionRegistry sessions =
          SessionRegistry.builder().add(user.auth).add("service", service).build();
      OkHttpClient client =
          new OkHttpClient.Builder()
              .dispatcher(user.okHttp.dispatcher()) // Shut down when the user's client closes.
              .addInterceptor(sessions.interceptor())
              .build();
      Api api =
          new Retrofit.Builder()
              .baseUrl(server.url())
              .client(client)
              .addCallAdapterFactory(AuthCallAdapterFactory.create(sessions))
              .addConverterFactory(MoshiConverterFactory.create())
              .build()
              .create(Api.class);
      user.login();
      server.resetCounters();
      server.expireAccessTokens(); // The user's token expired: its calls need one refresh.
      List<Call<Page>> mixed = new ArrayList<>();
      for (int i = 0; i < calls; i++) mixed.add(i % 2 == 0 ? api.news(i) : api.report(i));
      Results results = run(mixed, null);
      out.println(
          "   "
              + calls
              + " mixed calls: "
              + results.succeeded
              + " succeeded; user refreshes: "
              + server.refreshes.get()
              + ", service token requests: "
              + server.serviceTokens.get());
      check(results.succeeded == calls, "every call succeeded");
      check(server.refreshes.get() == 1, "the user's calls shared one refresh");
      check(server.serviceTokens.get() == 1, "the service's calls shared one token request");
      check(
          !user.auth.currentTokens().accessToken().equals(service.currentTokens().accessToken()),
          "each credential kept its own token");
    }
  }

  private static final class Results {
    final AtomicInteger succeededCount = new AtomicInteger();
    final AtomicInteger unauthorizedCount = new AtomicInteger();
    final AtomicInteger canceledCount = new AtomicInteger();
    final AtomicInteger failedCount = new AtomicInteger();
    int succeeded;
    int unauthorized;
    int canceled;
    int failed;
  }

  /**
   * Enqueues every call at once, runs {@code whileWaiting} until it returns true, and waits for all
   * calls while it prints progress.
   */
  private Results run(List<Call<Page>> calls, BooleanSupplier whileWaiting)
      throws InterruptedException {
    Results results = new Results();
    CountDownLatch done = new CountDownLatch(calls.size());
    for (Call<Page> call : calls) {
      call.enqueue(
          new Callback<Page>() {
            @Override
            public void onResponse(Call<Page> call, Response<Page> response) {
              if (response.isSuccessful()) {
                results.succeededCount.incrementAndGet();
              } else if (response.code() == 401) {
                results.unauthorizedCount.incrementAndGet();
              } else {
                results.failedCount.incrementAndGet();
              }
              done.countDown();
            }

            @Override
            public void onFailure(Call<Page> call, Throwable t) {
              if (String.valueOf(t.getMessage()).startsWith("Canceled")) {
                results.canceledCount.incrementAndGet();
              } else {
                results.failedCount.incrementAndGet();
              }
              done.countDown();
            }
          });
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (whileWaiting != null && !whileWaiting.getAsBoolean() && System.nanoTime() < deadline) {
      done.await(5, TimeUnit.MILLISECONDS);
    }
    out.print("   progress:");
    long last = -1;
    while (!done.await(20, TimeUnit.MILLISECONDS) && System.nanoTime() < deadline) {
      long completed = calls.size() - done.getCount();
      if (completed != last && completed > 0) out.print(" " + completed);
      last = completed;
    }
    out.println(" " + (calls.size() - done.getCount()) + "/" + calls.size() + " done");
    results.succeeded = results.succeededCount.get();
    results.unauthorized = results.unauthorizedCount.get();
    results.canceled = results.canceledCount.get();
    results.failed = results.failedCount.get();
    return results;
  }

  /** Counts waiting calls by method, e.g. {@code Api.feed×100 (group feed)}. */
  private static String summary(List<QueuedCall> waiting) {
    java.util.Map<String, Integer> counts = new java.util.LinkedHashMap<>();
    for (QueuedCall call : waiting) {
      String key =
          call.method()
              + (call.group() != null ? " (group " + call.group() + ")" : "")
              + (call.priority() != 0 ? " (priority " + call.priority() + ")" : "");
      counts.merge(key, 1, Integer::sum);
    }
    StringBuilder result = new StringBuilder();
    counts.forEach(
        (k, v) ->
            result.append(result.length() == 0 ? "" : ", ").append(v).append(" × ").append(k));
    return result.toString();
  }

  /** Run-length encodes paths by route: {@code checkout×40 → news×60}. */
  private static String runs(List<String> paths) {
    StringBuilder result = new StringBuilder();
    String current = null;
    int count = 0;
    for (String path : paths) {
      String route = path.split("/")[2];
      if (!route.equals(current)) {
        if (current != null) result.append(current).append("×").append(count).append(" → ");
        current = route;
        count = 0;
      }
      count++;
    }
    if (current != null) result.append(current).append("×").append(count);
    return result.toString();
  }

  private void check(boolean ok, String expectation) {
    out.println("   [" + (ok ? "ok" : "FAILED") + "] " + expectation);
    if (!ok) failures++;
  }
}
