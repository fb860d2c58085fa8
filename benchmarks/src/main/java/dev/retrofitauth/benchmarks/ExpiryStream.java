package dev.retrofitauth.benchmarks;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import okhttp3.Authenticator;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.Route;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/**
 * A steady stream of calls over several expiries of a token with a known lifetime: how often each
 * contender asks for a token, how much of each token's lifetime it uses, how many calls wait for a
 * refresh and how many 401s the server answers.
 *
 * <p>The server and every contender read one {@link FakeClock}: it runs with real time, and for
 * lifetimes above {@link #REAL_TIME_MAX_MILLIS} the driver jumps it over the quiet middle of each
 * lifetime (only while no token request is in flight): to half a second before the library's margin
 * would begin, and, once the latest jittered start of refresh-ahead has passed, to half a second
 * before the expiry. Calls, the token endpoint and the API run in real time throughout, so a
 * refresh takes its 50 ms and a call in flight at the expiry is in flight for its real time.
 *
 * <p>A call "waited" if it was held until a refresh ended before it could be sent with a token the
 * server accepts: for retrofit-auth, a call whose OkHttp call was not created inside its own {@code
 * enqueue()} (the call adapter held it, or retried it after a 401) or that the interceptor held
 * until a token arrived; for the Authenticator ways, a call that reached the authenticator (a 401,
 * then the {@code synchronized} block) or found the token expired in the interceptor.
 */
final class ExpiryStream {
  /** Lifetimes up to this run on the real clock, with no jumps. */
  static final long REAL_TIME_MAX_MILLIS = 3_000;

  /** The library's defaults, to know where its margin begins: leeway 30 s + refresh-ahead 30 s. */
  private static final long DEFAULT_LEEWAY_MILLIS = 30_000;

  private static final long DEFAULT_AHEAD_MILLIS = 30_000;

  /** What one contender did over one stream. */
  static final class Result {
    String contender;
    long lifetimeMillis;
    int calls;
    int succeeded;
    int tokenRequests;

    /** Lifetimes that passed on the clock during the stream. */
    double lifetimes;

    /** The mean share of its lifetime a token was in use before the next one was fetched. */
    double shareUsed;

    int waited;
    int unauthorized;

    /** Real time the stream took, in milliseconds. */
    long wallMillis;

    /** Token requests per lifetime, from the clock time between the first token and the last. */
    double perLifetime;
  }

  /** The clock of the server and of every contender: real time plus the driver's jumps. */
  static final class FakeClock {
    private final long base = System.currentTimeMillis();
    private final long startNanos = System.nanoTime();
    private final AtomicLong jumped = new AtomicLong();

    long now() {
      return base + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos) + jumped.get();
    }

    void jumpTo(long target) {
      long now = now();
      if (target > now) jumped.addAndGet(target - now);
    }
  }

  /** The API and the token endpoint; a token is valid until its lifetime ends on the clock. */
  static final class Server implements AutoCloseable {
    final MockWebServer server = new MockWebServer();
    final FakeClock clock;
    final long lifetimeMillis;
    final AtomicInteger tokenRequests = new AtomicInteger();
    final AtomicInteger unauthorized = new AtomicInteger();
    final AtomicInteger tokensInFlight = new AtomicInteger();
    private final Map<String, Long> expiries = new ConcurrentHashMap<>();

    /** When each token was issued, on the clock, in order. Guarded by this. */
    private final List<Long> issued = new ArrayList<>();

    private volatile long latestExpiry;

    Server(FakeClock clock, long lifetimeMillis, long tokenDelayMillis, long apiDelayMillis)
        throws IOException {
      this.clock = clock;
      this.lifetimeMillis = lifetimeMillis;
      server.setProtocols(Collections.singletonList(Protocol.H2_PRIOR_KNOWLEDGE));
      server.setDispatcher(
          new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
              if (request.getPath().startsWith("/token")) {
                tokenRequests.incrementAndGet();
                return new MockResponse()
                    .setBody(issue())
                    .setHeadersDelay(tokenDelayMillis, TimeUnit.MILLISECONDS);
              }
              String header = request.getHeader("Authorization");
              Long expiry = header != null ? expiries.get(header) : null;
              MockResponse response;
              if (expiry != null && clock.now() < expiry) {
                response = new MockResponse().setBody("ok " + header);
              } else {
                unauthorized.incrementAndGet();
                response = new MockResponse().setResponseCode(401);
              }
              return response.setHeadersDelay(apiDelayMillis, TimeUnit.MILLISECONDS);
            }
          });
      server.start(InetAddress.getLoopbackAddress(), 0);
    }

    /** Issues a token: {@code "access refresh expiresAtMillis"}. */
    synchronized String issue() {
      long now = clock.now();
      String access = "access-" + issued.size();
      issued.add(now);
      latestExpiry = now + lifetimeMillis;
      expiries.put("Bearer " + access, latestExpiry);
      return access + " refresh-" + issued.size() + " " + latestExpiry;
    }

    synchronized List<Long> issued() {
      return new ArrayList<>(issued);
    }

    long latestExpiry() {
      return latestExpiry;
    }

    @Override
    public void close() throws IOException {
      server.shutdown();
    }
  }

  /** The token pair a contender holds, and the counting every contender shares. */
  abstract static class StreamContender implements AutoCloseable {
    final String name;
    final Server server;
    final OkHttpClient tokenClient = Contender.h2c(8).build();
    final AtomicInteger waited = new AtomicInteger();
    Api api;
    OkHttpClient client;

    StreamContender(String name, Server server) {
      this.name = name;
      this.server = server;
    }

    /** POSTs the refresh token; returns {@code access, refresh, expiresAtMillis}. */
    String[] fetch(String refreshToken) throws IOException {
      server.tokensInFlight.incrementAndGet();
      try {
        Request request =
            new Request.Builder()
                .url(server.server.url("/token"))
                .post(RequestBody.create(refreshToken, MediaType.get("text/plain")))
                .build();
        try (Response response = tokenClient.newCall(request).execute()) {
          return response.body().string().split(" ");
        }
      } finally {
        server.tokensInFlight.decrementAndGet();
      }
    }

    abstract void signIn(String[] tokens);

    /** Called by the driver around each {@code enqueue()}; true while it runs on this thread. */
    final ThreadLocal<Boolean> inEnqueue = ThreadLocal.withInitial(() -> false);

    int waited() {
      return waited.get();
    }

    @Override
    public void close() {
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
      tokenClient.dispatcher().executorService().shutdown();
      tokenClient.connectionPool().evictAll();
    }
  }

  static Retrofit.Builder retrofit(Server server) {
    return new Retrofit.Builder()
        .baseUrl(server.server.url("/"))
        .addConverterFactory(ScalarsConverterFactory.create());
  }

  /** retrofit-auth with its defaults, on the stream's clock. */
  static final class Library extends StreamContender {
    private final RefreshManager auth;

    /** The calls that were held for a refresh, by number. */
    private final Map<Integer, Boolean> held = new ConcurrentHashMap<>();

    /** When the RefreshApi last returned, from {@link System#nanoTime()}. */
    private volatile long lastTokenNanos;

    Library(Server server) {
      super("retrofit-auth (defaults)", server);
      auth =
          RefreshManager.builder()
              .clock(server.clock::now)
              .addAllowedOrigin(server.server.url("/").toString())
              .refreshApi(
                  current -> {
                    String[] pair = fetch(current.refreshToken());
                    lastTokenNanos = System.nanoTime();
                    return Tokens.of(pair[0], pair[1], Long.parseLong(pair[2]));
                  })
              .build();
      client =
          Contender.h2c(1_000)
              // First: when the request entered OkHttp's chain.
              .addInterceptor(
                  chain ->
                      chain.proceed(
                          chain.request().newBuilder().tag(Long.class, System.nanoTime()).build()))
              .addInterceptor(auth.interceptor())
              // Last: a token arrived while the library's interceptor held the request.
              .addInterceptor(
                  chain -> {
                    Request request = chain.request();
                    Long entered = request.tag(Long.class);
                    Integer n = callNumber(request);
                    if (n != null && entered != null && lastTokenNanos > entered) {
                      held.put(n, true);
                    }
                    return chain.proceed(request);
                  })
              .build();
      // Retrofit creates the OkHttp call inside enqueue() unless the call adapter holds the call
      // (it waits for a refresh) or sends it again after a 401.
      okhttp3.Call.Factory factory =
          request -> {
            Integer n = callNumber(request);
            if (!inEnqueue.get() && n != null) held.put(n, true);
            return client.newCall(request);
          };
      api =
          retrofit(server)
              .callFactory(factory)
              .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
              .build()
              .create(Api.class);
    }

    @Override
    void signIn(String[] t) {
      auth.signIn(Tokens.of(t[0], t[1], Long.parseLong(t[2])));
    }

    @Override
    int waited() {
      return held.size();
    }
  }

  /**
   * The Authenticator way: an interceptor adds the header, a {@code synchronized} authenticator
   * refreshes on a 401 unless another thread already did; with {@code expiryCheck}, the interceptor
   * also refreshes, under the same lock, a token whose expiry has passed on the clock.
   */
  static final class AuthenticatorWay extends StreamContender
      implements Interceptor, Authenticator {
    private final boolean expiryCheck;
    private volatile String access;
    private volatile String refresh;
    private volatile long expiresAt;

    AuthenticatorWay(Server server, boolean expiryCheck) {
      super(
          expiryCheck
              ? "OkHttp Authenticator + expiry check in the interceptor"
              : "OkHttp Authenticator (synchronized)",
          server);
      this.expiryCheck = expiryCheck;
      client = Contender.h2c(1_000).addInterceptor(this).authenticator(this).build();
      api = retrofit(server).client(client).build().create(Api.class);
    }

    @Override
    void signIn(String[] t) {
      set(t);
    }

    private void set(String[] t) {
      access = t[0];
      refresh = t[1];
      expiresAt = Long.parseLong(t[2]);
    }

    @Override
    public Response intercept(Chain chain) throws IOException {
      if (expiryCheck && server.clock.now() >= expiresAt) {
        waited.incrementAndGet();
        synchronized (this) {
          if (server.clock.now() >= expiresAt) set(fetch(refresh));
        }
      }
      return chain.proceed(
          chain.request().newBuilder().header("Authorization", "Bearer " + access).build());
    }

    @Override
    public Request authenticate(Route route, Response response) throws IOException {
      if (response.priorResponse() != null) return null; // Gave it one try already.
      waited.incrementAndGet();
      synchronized (this) {
        String sent = response.request().header("Authorization");
        if (("Bearer " + access).equals(sent)) set(fetch(refresh));
        return response.request().newBuilder().header("Authorization", "Bearer " + access).build();
      }
    }
  }

  private ExpiryStream() {}

  /**
   * Runs one contender over {@code expiries} lifetimes of {@code lifetimeMillis}, one call every
   * {@code 1000 / callsPerSecond} ms.
   */
  static Result run(
      String kind,
      long lifetimeMillis,
      int expiries,
      int callsPerSecond,
      long tokenDelayMillis,
      long apiDelayMillis)
      throws Exception {
    FakeClock clock = new FakeClock();
    try (Server server = new Server(clock, lifetimeMillis, tokenDelayMillis, apiDelayMillis);
        StreamContender contender = contender(kind, server)) {
      contender.signIn(server.issue().split(" "));
      long margin = margin(lifetimeMillis);
      long window = margin - Math.min(DEFAULT_LEEWAY_MILLIS, margin / 2);
      long end = clock.now() + expiries * lifetimeMillis + lifetimeMillis / 10;
      long start = clock.now();
      boolean jumps = lifetimeMillis > REAL_TIME_MAX_MILLIS;
      long periodNanos = TimeUnit.SECONDS.toNanos(1) / callsPerSecond;
      AtomicInteger succeeded = new AtomicInteger();
      AtomicInteger finished = new AtomicInteger();
      long startNanos = System.nanoTime();
      long next = startNanos;
      int calls = 0;
      while (clock.now() < end) {
        if (jumps && server.tokensInFlight.get() == 0) {
          long expiry = server.latestExpiry();
          long now = clock.now();
          long marginStart = expiry - margin;
          // The latest moment refresh-ahead can start, with its jitter of up to a fifth of the
          // window.
          long latestAhead = marginStart + window / 5;
          if (now < marginStart - 500) {
            clock.jumpTo(Math.min(end, marginStart - 500));
          } else if (now > latestAhead + 500 && now < expiry - 500) {
            clock.jumpTo(Math.min(end, expiry - 500));
          }
        }
        int n = calls++;
        contender.inEnqueue.set(true);
        try {
          contender
              .api
              .item(n)
              .enqueue(
                  new Callback<String>() {
                    @Override
                    public void onResponse(Call<String> call, retrofit2.Response<String> r) {
                      String body = r.body();
                      if (body != null && body.startsWith("ok")) succeeded.incrementAndGet();
                      finished.incrementAndGet();
                    }

                    @Override
                    public void onFailure(Call<String> call, Throwable t) {
                      finished.incrementAndGet();
                    }
                  });
        } finally {
          contender.inEnqueue.set(false);
        }
        next += periodNanos;
        long wait = next - System.nanoTime();
        if (wait > 0) LockSupport.parkNanos(wait);
      }
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
      while (finished.get() < calls && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
      if (finished.get() < calls) throw new AssertionError(contender.name + " hung");
      Result result = new Result();
      result.contender = contender.name;
      result.lifetimeMillis = lifetimeMillis;
      result.calls = calls;
      result.succeeded = succeeded.get();
      result.tokenRequests = server.tokenRequests.get();
      result.lifetimes = (clock.now() - start) / (double) lifetimeMillis;
      List<Long> issued = server.issued();
      double share = 0;
      for (int i = 1; i < issued.size(); i++) {
        share += Math.min(1.0, (issued.get(i) - issued.get(i - 1)) / (double) lifetimeMillis);
      }
      result.shareUsed = issued.size() > 1 ? share / (issued.size() - 1) : Double.NaN;
      // Token requests per lifetime: replacements over the clock time between the first token
      // and the last, in lifetimes.
      result.perLifetime =
          issued.size() > 1
              ? (issued.size() - 1)
                  / ((issued.get(issued.size() - 1) - issued.get(0)) / (double) lifetimeMillis)
              : Double.NaN;
      result.waited = contender.waited();
      result.unauthorized = server.unauthorized.get();
      result.wallMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
      return result;
    }
  }

  private static StreamContender contender(String kind, Server server) {
    switch (kind) {
      case "auth":
        return new Library(server);
      case "authenticator":
        return new AuthenticatorWay(server, false);
      case "expiry-check":
        return new AuthenticatorWay(server, true);
      default:
        throw new IllegalArgumentException("kind: " + kind);
    }
  }

  /** The library's default margin for a token with {@code lifetime} ms to live (Session.margin). */
  static long margin(long lifetime) {
    long share = Math.max((long) (lifetime * 0.08), 500L);
    return Math.min(Math.min(share, DEFAULT_LEEWAY_MILLIS + DEFAULT_AHEAD_MILLIS), lifetime / 2);
  }

  private static Integer callNumber(Request request) {
    List<String> segments = request.url().pathSegments();
    try {
      return Integer.valueOf(segments.get(segments.size() - 1));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
