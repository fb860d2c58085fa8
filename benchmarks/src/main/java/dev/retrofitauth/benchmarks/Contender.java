package dev.retrofitauth.benchmarks;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Authenticator;
import okhttp3.Dispatcher;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.Route;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/** One way of handling 401s, wired against a {@link StormServer}. */
abstract class Contender implements AutoCloseable {
  final String name;

  /** A regular expression for the frame of a thread that waits for a refresh. */
  final String waitingFrame;

  final OkHttpClient client;
  final Api api;

  Contender(String name, String waitingFrame, OkHttpClient client, Retrofit.Builder retrofit) {
    this.name = name;
    this.waitingFrame = waitingFrame;
    this.client = client;
    this.api = retrofit.client(client).build().create(Api.class);
  }

  abstract void signIn(String access, String refresh, long expiresAtMillis);

  /** Calls that wait for a refresh right now, for a contender that can tell. */
  int waitingNow() {
    return 0;
  }

  /** Moves this contender's clock forward, for one that reads the token's expiry. */
  void advanceClock(long millis) {}

  @Override
  public void close() {
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }

  /** A client for the storm server; {@code maxRequests} 0 keeps OkHttp's default dispatcher. */
  static OkHttpClient.Builder h2c(int maxRequests) {
    Dispatcher dispatcher = new Dispatcher();
    if (maxRequests > 0) {
      dispatcher.setMaxRequests(maxRequests);
      dispatcher.setMaxRequestsPerHost(maxRequests);
    }
    // No timeouts: on two cores, ten thousand calls queue for longer than OkHttp's defaults.
    return new OkHttpClient.Builder()
        .protocols(Collections.singletonList(Protocol.H2_PRIOR_KNOWLEDGE))
        .connectTimeout(0, TimeUnit.MILLISECONDS)
        .readTimeout(0, TimeUnit.MILLISECONDS)
        .writeTimeout(0, TimeUnit.MILLISECONDS)
        .dispatcher(dispatcher);
  }

  static Retrofit.Builder retrofit(StormServer server) {
    return new Retrofit.Builder()
        .baseUrl(server.url("/"))
        .addConverterFactory(ScalarsConverterFactory.create());
  }

  /** POSTs the refresh token and reads {@code "access refresh"}, blocking. */
  static String[] refresh(OkHttpClient tokenClient, StormServer server, String refreshToken)
      throws IOException {
    Request request =
        new Request.Builder()
            .url(server.url("/token"))
            .post(RequestBody.create(refreshToken, MediaType.get("text/plain")))
            .build();
    try (Response response = tokenClient.newCall(request).execute()) {
      return response.body().string().split(" ");
    }
  }

  /** retrofit-auth, in single-flight or queue mode. */
  static final class RetrofitAuth extends Contender {
    final RefreshManager auth;
    private final AtomicLong offset;

    RetrofitAuth(StormServer server, int maxRequests, boolean queueMode) {
      this(
          server,
          maxRequests,
          queueMode ? Integer.MAX_VALUE : 0,
          queueMode ? "retrofit-auth (queue mode)" : "retrofit-auth (single flight)");
    }

    RetrofitAuth(StormServer server, int maxRequests, String name) {
      this(server, maxRequests, 0, name);
    }

    /**
     * {@code maxConcurrentRetries} 0 is single-flight mode; any other value is queue mode with at
     * most that many retries running at once.
     */
    RetrofitAuth(StormServer server, int maxRequests, int maxConcurrentRetries, String name) {
      this(server, maxRequests, maxConcurrentRetries, new AtomicLong(), name);
    }

    private RetrofitAuth(
        StormServer server,
        int maxRequests,
        int maxConcurrentRetries,
        AtomicLong offset,
        String name) {
      this(server, maxRequests, manager(server, maxConcurrentRetries, offset), offset, name);
    }

    private RetrofitAuth(
        StormServer server, int maxRequests, RefreshManager auth, AtomicLong offset, String name) {
      super(
          name,
          // Where a thread parks until the refresh ends: a synchronous call, or the authenticator.
          "dev.retrofitauth.(AuthCall.BlockingWaiter|AuthAuthenticator.Latch).await",
          h2c(maxRequests).addInterceptor(auth.interceptor()).build(),
          retrofit(server).addCallAdapterFactory(AuthCallAdapterFactory.create(auth)));
      this.auth = auth;
      this.offset = offset;
    }

    @Override
    int waitingNow() {
      return auth.stats().callsWaitingForRefresh();
    }

    @Override
    void advanceClock(long millis) {
      offset.addAndGet(millis);
    }

    private static RefreshManager manager(
        StormServer server, int maxConcurrentRetries, AtomicLong offset) {
      OkHttpClient tokenClient = h2c(8).build();
      RefreshManager.Builder builder =
          RefreshManager.builder().clock(() -> System.currentTimeMillis() + offset.get());
      if (maxConcurrentRetries > 0) {
        builder.queueMode(true).maxConcurrentRetries(maxConcurrentRetries);
      }
      return builder
          .addAllowedOrigin(server.url("/").toString())
          .refreshApi(
              current -> {
                String[] pair = refresh(tokenClient, server, current.refreshToken());
                return Tokens.of(
                    pair[0], pair[1], System.currentTimeMillis() + offset.get() + 3_600_000);
              })
          .build();
    }

    @Override
    void signIn(String access, String refresh, long expiresAtMillis) {
      auth.signIn(Tokens.of(access, refresh, expiresAtMillis));
    }
  }

  /**
   * retrofit-auth with a {@link dev.retrofitauth.TokenSource}: a service that never signs in. Its
   * first calls share one acquisition; it ignores {@link #signIn}, which is what a cold start is.
   */
  static final class RetrofitAuthSource extends Contender {
    RetrofitAuthSource(StormServer server, int maxRequests) {
      this(server, maxRequests, source(server));
    }

    private RetrofitAuthSource(StormServer server, int maxRequests, RefreshManager auth) {
      super(
          "retrofit-auth (token source)",
          "dev.retrofitauth.(AuthCall.BlockingWaiter|AuthAuthenticator.Latch).await",
          h2c(maxRequests).addInterceptor(auth.interceptor()).build(),
          retrofit(server).addCallAdapterFactory(AuthCallAdapterFactory.create(auth)));
    }

    private static RefreshManager source(StormServer server) {
      OkHttpClient tokenClient = h2c(8).build();
      return RefreshManager.builder()
          .addAllowedOrigin(server.url("/").toString())
          .tokenSource(
              () -> {
                String[] pair = refresh(tokenClient, server, "client-credentials");
                return Tokens.of(pair[0], null, System.currentTimeMillis() + 3_600_000);
              })
          .build();
    }

    @Override
    void signIn(String access, String refresh, long expiresAtMillis) {
      // Nothing to sign in to: the first calls acquire a token.
    }
  }

  /**
   * The OkHttp Authenticator way, written as its users write it: an interceptor adds the header,
   * and a {@code synchronized} authenticator refreshes unless another thread already did.
   */
  static final class OkHttpAuthenticator extends Contender {
    private final Holder holder;

    OkHttpAuthenticator(StormServer server, int maxRequests) {
      this(server, maxRequests, "OkHttp Authenticator (synchronized)");
    }

    /** With OkHttp's default dispatcher: 64 requests, 5 per host. */
    static OkHttpAuthenticator withDefaultDispatcher(StormServer server) {
      return new OkHttpAuthenticator(server, 0, "OkHttp Authenticator, default dispatcher");
    }

    OkHttpAuthenticator(StormServer server, int maxRequests, String name) {
      this(server, maxRequests, new Holder(server), name);
    }

    private OkHttpAuthenticator(StormServer server, int maxRequests, Holder holder, String name) {
      super(
          name,
          ".*TokenAuthenticator.authenticate",
          h2c(maxRequests).addInterceptor(holder).authenticator(holder).build(),
          retrofit(server));
      this.holder = holder;
    }

    @Override
    void signIn(String access, String refresh, long expiresAtMillis) {
      holder.access = access;
      holder.refresh = refresh;
    }

    /** Holds the tokens, adds the header, and refreshes in the authenticator. */
    static final class Holder implements Interceptor, Authenticator {
      private final StormServer server;
      private final OkHttpClient tokenClient = h2c(8).build();
      volatile String access;
      volatile String refresh;

      Holder(StormServer server) {
        this.server = server;
      }

      @Override
      public Response intercept(Chain chain) throws IOException {
        return chain.proceed(
            chain.request().newBuilder().header("Authorization", "Bearer " + access).build());
      }

      @Override
      public Request authenticate(Route route, Response response) throws IOException {
        return TokenAuthenticator.authenticate(this, response);
      }
    }

    /** Named so that a thread dump shows who waits here. */
    static final class TokenAuthenticator {
      static Request authenticate(Holder holder, Response response) throws IOException {
        if (response.priorResponse() != null) return null; // Gave it one try already.
        synchronized (holder) {
          String sent = response.request().header("Authorization");
          if (!("Bearer " + holder.access).equals(sent)) {
            // Another thread refreshed while this request was in flight.
            return response
                .request()
                .newBuilder()
                .header("Authorization", "Bearer " + holder.access)
                .build();
          }
          String[] pair = refresh(holder.tokenClient, holder.server, holder.refresh);
          holder.access = pair[0];
          holder.refresh = pair[1];
          return response
              .request()
              .newBuilder()
              .header("Authorization", "Bearer " + holder.access)
              .build();
        }
      }
    }
  }

  /** An interceptor that refreshes on every 401 it sees, with no coordination at all. */
  static final class Naive extends Contender {
    private final NaiveRefreshInterceptor interceptor;

    Naive(StormServer server, int maxRequests) {
      this(server, maxRequests, new NaiveRefreshInterceptor(server));
    }

    private Naive(StormServer server, int maxRequests, NaiveRefreshInterceptor interceptor) {
      super(
          "naive refresh-on-every-401 interceptor",
          ".*NaiveRefreshInterceptor.refresh",
          h2c(maxRequests).addInterceptor(interceptor).build(),
          retrofit(server));
      this.interceptor = interceptor;
    }

    @Override
    void signIn(String access, String refresh, long expiresAtMillis) {
      interceptor.access = access;
      interceptor.refresh = refresh;
    }

    static final class NaiveRefreshInterceptor implements Interceptor {
      private final StormServer server;
      private final OkHttpClient tokenClient = h2c(10_000).build();
      volatile String access;
      volatile String refresh;

      NaiveRefreshInterceptor(StormServer server) {
        this.server = server;
      }

      @Override
      public Response intercept(Chain chain) throws IOException {
        Request request = chain.request();
        Response response =
            chain.proceed(request.newBuilder().header("Authorization", "Bearer " + access).build());
        if (response.code() != 401) return response;
        response.close();
        refresh();
        return chain.proceed(
            request.newBuilder().header("Authorization", "Bearer " + access).build());
      }

      private void refresh() throws IOException {
        String[] pair = Contender.refresh(tokenClient, server, refresh);
        access = pair[0];
        refresh = pair[1];
      }
    }
  }
}
