package dev.retrofitauth.benchmarks;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.Credential;
import dev.retrofitauth.KeyedSessions;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.SessionRegistry;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.ResponseBody;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import retrofit2.Call;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;
import retrofit2.http.Path;
import retrofit2.http.Tag;

/**
 * What picking a session costs per call: {@code execute()} end to end through OkHttp, as in {@link
 * CallOverheadBenchmark}, with one {@link RefreshManager}, with a {@link SessionRegistry} calling a
 * named credential's method, and with a registry calling a keyed credential's method for {@link
 * #users} signed-in users in turn. Average time per call, so that a ratio to the single manager is
 * the cost of the pick.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SessionPickBenchmark {
  private static final MediaType TEXT = MediaType.get("text/plain");

  /**
   * The one manager's method: the same shape as the routed ones, {@code @Tag} included, which costs
   * Retrofit and OkHttp a tag map per request (about 5% of a call here). So the ratios show what
   * picking the session costs, not what carrying a key costs.
   */
  interface Plain {
    @GET("api/item/{n}")
    Call<String> item(@Path("n") int n, @Tag UserId user);
  }

  /** The methods a registry routes: one of a named credential, one of a keyed credential. */
  interface Routed {
    @Credential("partner")
    @GET("api/item/{n}")
    Call<String> partnerItem(@Path("n") int n, @Tag UserId user); // The tag is not used.

    @Credential("user")
    @GET("api/item/{n}")
    Call<String> userItem(@Path("n") int n, @Tag UserId user);
  }

  private OkHttpClient oneClient;
  private OkHttpClient namedClient;
  private OkHttpClient keyedClient;
  private Plain one;
  private Routed named;
  private Routed keyed;

  /**
   * The live, signed-in sessions of the keyed credential, each called in turn; {@code -p users=1}
   * calls one session only, which leaves out the cache misses of going through many.
   */
  @Param("1000")
  public int users;

  private UserId[] keys;
  private int next;

  @Setup
  public void setUp() throws IOException {
    // Answers with the request's Authorization header, so that setUp can check each session's.
    Interceptor canned =
        chain -> {
          String authorization = chain.request().header("Authorization");
          return new okhttp3.Response.Builder()
              .request(chain.request())
              .protocol(Protocol.HTTP_1_1)
              .code(200)
              .message("OK")
              .body(ResponseBody.create(authorization != null ? authorization : "none", TEXT))
              .build();
        };

    keys = new UserId[users];
    for (int i = 0; i < users; i++) keys[i] = new UserId("user-" + i);

    // (a) One manager, wired as usual.
    RefreshManager manager = signedIn("access-token", "refresh-token");
    oneClient =
        new OkHttpClient.Builder()
            .addInterceptor(manager.interceptor())
            .addInterceptor(canned)
            .build();
    one =
        retrofit(oneClient)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(manager))
            .build()
            .create(Plain.class);

    // (b) A default and a named credential; the calls name the second.
    SessionRegistry namedRegistry =
        SessionRegistry.builder()
            .add(signedIn("app-token", "app-refresh"))
            .add("partner", signedIn("partner-token", "partner-refresh"))
            .build();
    namedClient = client(namedRegistry, canned);
    named = retrofit(namedClient, namedRegistry).create(Routed.class);

    // (c) A keyed credential with `users` live sessions, each signed in.
    SessionRegistry keyedRegistry =
        SessionRegistry.builder()
            .addKeyed("user", UserId.class, user -> RefreshManager.builder())
            .maxSessions(users) // None is evicted.
            .build();
    KeyedSessions<UserId> sessions = keyedRegistry.keyed("user", UserId.class);
    for (int i = 0; i < users; i++) {
      sessions.signIn(keys[i], Tokens.of("access-" + i, "refresh-" + i));
    }
    if (sessions.liveSessions() != users) throw new AssertionError(sessions.liveSessions());
    keyedClient = client(keyedRegistry, canned);
    keyed = retrofit(keyedClient, keyedRegistry).create(Routed.class);

    check("Bearer access-token", one.item(1, keys[0]));
    check("Bearer partner-token", named.partnerItem(1, keys[0]));
    check("Bearer access-0", keyed.userItem(1, keys[0]));
    check("Bearer access-" + (users - 1), keyed.userItem(1, keys[users - 1]));
  }

  private static void check(String expected, Call<String> call) throws IOException {
    String authorization = call.execute().body();
    if (!expected.equals(authorization)) {
      throw new AssertionError("expected " + expected + ", sent " + authorization);
    }
  }

  private static RefreshManager signedIn(String access, String refresh) {
    RefreshManager manager = RefreshManager.builder().build();
    manager.signIn(Tokens.of(access, refresh));
    return manager;
  }

  private static OkHttpClient client(SessionRegistry registry, Interceptor canned) {
    return new OkHttpClient.Builder()
        .addInterceptor(registry.interceptor())
        .addInterceptor(canned)
        .build();
  }

  private static Retrofit retrofit(OkHttpClient client, SessionRegistry registry) {
    return retrofit(client).addCallAdapterFactory(AuthCallAdapterFactory.create(registry)).build();
  }

  private static Retrofit.Builder retrofit(OkHttpClient client) {
    return new Retrofit.Builder()
        .baseUrl("https://api.example.test/")
        .client(client)
        .addConverterFactory(ScalarsConverterFactory.create());
  }

  @TearDown
  public void tearDown() {
    oneClient.dispatcher().executorService().shutdown();
    namedClient.dispatcher().executorService().shutdown();
    keyedClient.dispatcher().executorService().shutdown();
  }

  /** The next key, round robin: every benchmark carries one, so that they differ in the pick. */
  private UserId nextKey() {
    UserId user = keys[next];
    next = next + 1 == users ? 0 : next + 1;
    return user;
  }

  @Benchmark
  public String oneManagerExecute() throws IOException {
    return one.item(1, nextKey()).execute().body();
  }

  @Benchmark
  public String namedCredentialExecute() throws IOException {
    return named.partnerItem(1, nextKey()).execute().body();
  }

  @Benchmark
  public String keyedCredentialExecute() throws IOException {
    return keyed.userItem(1, nextKey()).execute().body();
  }
}
