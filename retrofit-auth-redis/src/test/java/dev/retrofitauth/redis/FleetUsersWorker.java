package dev.retrofitauth.redis;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.Credential;
import dev.retrofitauth.KeyedSessions;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.SessionRegistry;
import dev.retrofitauth.SharedTokenStore;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.oauth2.OAuth2RefreshApi;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;
import retrofit2.http.Path;
import retrofit2.http.Tag;

/**
 * One process of a fleet that acts for many users: a {@link SessionRegistry} with a keyed
 * credential {@code "user"}, each user's session in its own Redis hash ({@code
 * RedisTokenStore.builder(connection).keyPrefix(KEY_PREFIX).buildFor(userId)}), driven by its
 * parent ({@link FleetUsers}) over stdin and stdout.
 *
 * <p>It loads every user's session, prints {@code ready}, then for each {@code round} line makes
 * its calls at once, every user's interleaved with the others', and prints {@code done <succeeded>
 * <failed> <leases> <saves> <first failure>}: the leases and the saves under a lease that each
 * user's session took in this round, comma separated in the order of {@link #userIds}. A call
 * succeeds when it gets a 200 whose body is its own user's id.
 *
 * <p>Arguments: the server's base URL, the Redis port, the number of users, calls per user per
 * round, and the worker's name.
 */
public final class FleetUsersWorker {
  static final String KEY_PREFIX = "fleet:tokens:";

  /** The key of a session: a user of the server. */
  static final class UserId {
    final String value;

    UserId(String value) {
      this.value = value;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof UserId && ((UserId) o).value.equals(value);
    }

    @Override
    public int hashCode() {
      return value.hashCode();
    }

    @Override
    public String toString() {
      return value;
    }
  }

  interface Api {
    @Credential("user")
    @GET("users/{id}/data")
    Call<String> data(@Path("id") String id, @Tag UserId user);
  }

  /** The ids of {@code count} users, the same in the test and in every worker. */
  static List<String> userIds(int count) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) ids.add(String.format("user-%03d", i));
    return ids;
  }

  /** Per user, the leases its session took and the saves under them, since the round began. */
  private static final Map<String, AtomicInteger> LEASES = new ConcurrentHashMap<>();

  private static final Map<String, AtomicInteger> SAVES = new ConcurrentHashMap<>();

  public static void main(String[] args) throws Exception {
    String base = args[0];
    int redisPort = Integer.parseInt(args[1]);
    List<UserId> users = new ArrayList<>();
    for (String id : userIds(Integer.parseInt(args[2]))) users.add(new UserId(id));
    int callsPerUser = Integer.parseInt(args[3]);
    String name = args[4];
    PrintStream out = new PrintStream(System.out, true, "UTF-8");

    // One connection for every user's store; it ends with the process.
    StatefulRedisConnection<String, String> connection =
        RedisClient.create(RedisURI.create("127.0.0.1", redisPort)).connect();
    RedisTokenStore.Builder stores = RedisTokenStore.builder(connection).keyPrefix(KEY_PREFIX);
    OkHttpClient tokenClient =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain ->
                    chain.proceed(
                        chain.request().newBuilder().header("X-Fleet-Worker", name).build()))
            .build();
    SessionRegistry registry =
        SessionRegistry.builder()
            .addKeyed(
                "user",
                UserId.class,
                user ->
                    RefreshManager.builder()
                        .tokenStore(counted(stores.buildFor(user.value), user.value))
                        .refreshApi(
                            OAuth2RefreshApi.builder()
                                .tokenEndpoint(base + "token")
                                .clientId("fleet")
                                // Tells the server which session presents the refresh token.
                                .client(
                                    tokenClient
                                        .newBuilder()
                                        .addInterceptor(
                                            chain ->
                                                chain.proceed(
                                                    chain
                                                        .request()
                                                        .newBuilder()
                                                        .header("X-Fleet-User", user.value)
                                                        .build()))
                                        .build())
                                .allowCleartext(true)
                                .build())
                        .allowCleartext(true))
            .build();
    KeyedSessions<UserId> sessions = registry.keyed("user", UserId.class);
    for (UserId user : users) {
      LEASES.put(user.value, new AtomicInteger());
      SAVES.put(user.value, new AtomicInteger());
      if (sessions.currentTokens(user) == null) throw new AssertionError("no tokens for " + user);
    }

    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(64);
    dispatcher.setMaxRequestsPerHost(64);
    OkHttpClient client =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .addInterceptor(registry.interceptor())
            .build();
    Api api =
        new Retrofit.Builder()
            .baseUrl(base)
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(registry))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);

    out.println("ready");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null && line.equals("round"); ) {
      out.println(round(api, users, callsPerUser));
    }
    System.exit(0);
  }

  private static String round(Api api, List<UserId> users, int callsPerUser)
      throws InterruptedException {
    for (AtomicInteger count : LEASES.values()) count.set(0);
    for (AtomicInteger count : SAVES.values()) count.set(0);
    AtomicInteger succeeded = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<String> firstFailure = new AtomicReference<>("-");
    CountDownLatch done = new CountDownLatch(users.size() * callsPerUser);
    for (int i = 0; i < callsPerUser; i++) {
      for (UserId user : users) {
        api.data(user.value, user)
            .enqueue(
                new Callback<String>() {
                  @Override
                  public void onResponse(Call<String> call, Response<String> response) {
                    if (response.code() == 200 && user.value.equals(response.body())) {
                      succeeded.incrementAndGet();
                    } else {
                      failed.incrementAndGet();
                      // A 200 with another user's data shows whose it was.
                      String got = response.code() == 200 ? ":" + response.body() : "";
                      firstFailure.compareAndSet(
                          "-", user.value + ":HTTP_" + response.code() + got);
                    }
                    done.countDown();
                  }

                  @Override
                  public void onFailure(Call<String> call, Throwable t) {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(
                        "-", user.value + ":" + t.getClass().getSimpleName());
                    done.countDown();
                  }
                });
      }
    }
    if (!done.await(60, TimeUnit.SECONDS)) return "timeout " + done.getCount() + " calls left";
    return "done "
        + succeeded
        + " "
        + failed
        + " "
        + counts(LEASES, users)
        + " "
        + counts(SAVES, users)
        + " "
        + firstFailure.get().replace(' ', '_');
  }

  private static String counts(Map<String, AtomicInteger> counts, List<UserId> users) {
    StringBuilder joined = new StringBuilder();
    for (UserId user : users) {
      if (joined.length() > 0) joined.append(',');
      joined.append(counts.get(user.value).get());
    }
    return joined.toString();
  }

  /** Counts the leases {@code user}'s session takes, and its saves under them. */
  private static SharedTokenStore counted(RedisTokenStore store, String user) {
    return new SharedTokenStore() {
      @Override
      public Lease lease(long timeoutMillis) throws IOException {
        Lease lease = store.lease(timeoutMillis);
        LEASES.get(user).incrementAndGet();
        return new Lease() {
          @Override
          public @Nullable Tokens load() throws IOException {
            return lease.load();
          }

          @Override
          public boolean save(@Nullable Tokens tokens) throws IOException {
            boolean saved = lease.save(tokens);
            if (saved) SAVES.get(user).incrementAndGet();
            return saved;
          }

          @Override
          public void close() {
            lease.close();
          }
        };
      }

      @Override
      public @Nullable Tokens load() throws IOException {
        return store.load();
      }

      @Override
      public void save(Tokens tokens) throws IOException {
        store.save(tokens);
      }

      @Override
      public void clear() throws IOException {
        store.clear();
      }

      @Override
      public String toString() {
        return store.toString();
      }
    };
  }

  private FleetUsersWorker() {}
}
