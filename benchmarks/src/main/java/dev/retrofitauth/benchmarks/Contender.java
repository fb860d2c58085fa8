package dev.retrofitauth.benchmarks;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Authenticator;
import okhttp3.Call;
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

  /** When this contender's refresh returned, and what reached OkHttp after it. */
  final Timeline timeline;

  Contender(String name, String waitingFrame, OkHttpClient client, Retrofit.Builder retrofit) {
    this(name, waitingFrame, client, retrofit, new Timeline());
  }

  Contender(
      String name,
      String waitingFrame,
      OkHttpClient client,
      Retrofit.Builder retrofit,
      Timeline timeline) {
    this.name = name;
    this.waitingFrame = waitingFrame;
    this.client = client;
    this.timeline = timeline;
    this.api = retrofit.callFactory(timeline.wrap(client)).build().create(Api.class);
  }

  /**
   * When a storm's refresh returned its tokens, and the calls Retrofit handed to OkHttp after that.
   *
   * <p>Retrofit gives every call it sends, a first send or a retry, to its {@code callFactory};
   * this one stamps each {@code newCall} that follows the refresh, leaving out the thread that
   * enqueues the storm, whose calls are first sends. For retrofit-auth the last of them is the
   * release of its last waiting call. The Authenticator way retries inside OkHttp, without a {@code
   * newCall}. Thread-safe: a storm stamps it from every thread.
   */
  static final class Timeline {
    private static final long UNSET = Long.MIN_VALUE;

    private final AtomicLong refreshReturnedNanos = new AtomicLong(UNSET);
    private final AtomicLong lastNewCallNanos = new AtomicLong(UNSET);
    private final AtomicInteger newCallsAfterRefresh = new AtomicInteger();

    /** The JVM's started-thread count at the latest such {@code newCall}. */
    private final AtomicLong threadsStartedAtLastNewCall = new AtomicLong();

    private volatile long threadsStartedAtRefresh;
    private volatile Thread firstSends;

    /** Starts a storm whose first sends are all made on {@code firstSends}. */
    void reset(Thread firstSends) {
      refreshReturnedNanos.set(UNSET);
      lastNewCallNanos.set(UNSET);
      newCallsAfterRefresh.set(0);
      threadsStartedAtLastNewCall.set(0);
      this.firstSends = firstSends;
    }

    /** Called by a refresh as it returns its tokens; only the storm's first refresh counts. */
    void refreshReturned() {
      long now = System.nanoTime();
      if (refreshReturnedNanos.compareAndSet(UNSET, now)) {
        threadsStartedAtRefresh = ManagementFactory.getThreadMXBean().getTotalStartedThreadCount();
      }
    }

    boolean refreshed() {
      return refreshReturnedNanos.get() != UNSET;
    }

    /** From the refresh returning to {@code nanos}, a {@link System#nanoTime()}. */
    long sinceRefresh(long nanos) {
      return nanos - refreshReturnedNanos.get();
    }

    /** From the refresh returning to the last call handed to OkHttp after it; -1 if none was. */
    long releaseNanos() {
      long last = lastNewCallNanos.get();
      return last == UNSET || !refreshed() ? -1 : sinceRefresh(last);
    }

    int newCallsAfterRefresh() {
      return newCallsAfterRefresh.get();
    }

    long threadsStartedAtRefresh() {
      return threadsStartedAtRefresh;
    }

    /** Threads started from the refresh returning to the last call handed to OkHttp; -1 if none. */
    long threadsStartedInRelease() {
      long atLast = threadsStartedAtLastNewCall.get();
      return atLast == 0 || !refreshed() ? -1 : atLast - threadsStartedAtRefresh;
    }

    Call.Factory wrap(OkHttpClient client) {
      return request -> {
        Call call = client.newCall(request);
        if (refreshed() && Thread.currentThread() != firstSends) {
          lastNewCallNanos.accumulateAndGet(System.nanoTime(), Math::max);
          newCallsAfterRefresh.incrementAndGet();
          // The count only grows, so the largest seen is the one at the last newCall.
          threadsStartedAtLastNewCall.accumulateAndGet(
              ManagementFactory.getThreadMXBean().getTotalStartedThreadCount(), Math::max);
        }
        return call;
      };
    }
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
      this(server, maxRequests, maxConcurrentRetries, offset, new Timeline(), name);
    }

    private RetrofitAuth(
        StormServer server,
        int maxRequests,
        int maxConcurrentRetries,
        AtomicLong offset,
        Timeline timeline,
        String name) {
      this(
          server,
          maxRequests,
          manager(server, maxConcurrentRetries, offset, timeline),
          offset,
          timeline,
          name);
    }

    private RetrofitAuth(
        StormServer server,
        int maxRequests,
        RefreshManager auth,
        AtomicLong offset,
        Timeline timeline,
        String name) {
      super(
          name,
          // Where a thread parks until the refresh ends: a synchronous call, or the authenticator.
          "dev.retrofitauth.(AuthCall.BlockingWaiter|AuthAuthenticator.Latch).await",
          h2c(maxRequests).addInterceptor(auth.interceptor()).build(),
          retrofit(server).addCallAdapterFactory(AuthCallAdapterFactory.create(auth)),
          timeline);
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
        StormServer server, int maxConcurrentRetries, AtomicLong offset, Timeline timeline) {
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
                Tokens tokens =
                    Tokens.of(
                        pair[0], pair[1], System.currentTimeMillis() + offset.get() + 3_600_000);
                timeline.refreshReturned();
                return tokens;
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
          retrofit(server),
          holder.timeline);
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
      final Timeline timeline = new Timeline();
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
          holder.timeline.refreshReturned();
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
