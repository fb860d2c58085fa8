package dev.retrofitauth.fleet;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.SharedTokenStore;
import dev.retrofitauth.TokenSource;
import dev.retrofitauth.TokenStore;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.oauth2.OAuth2RefreshApi;
import dev.retrofitauth.oauth2.OAuth2TokenSource;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.ResponseBody;
import org.jspecify.annotations.Nullable;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.http.GET;

/**
 * One process of a fleet: a manager on a shared store, driven by its parent over stdin and stdout.
 * It prints {@code ready}, then for each {@code round} line makes its calls at once and prints
 * {@code done <succeeded> <failed> <lease waits> <windows> <first failure>}: how long each lease
 * took to come, and for each refresh the time from the token endpoint's answer until its tokens
 * were saved (the window in which a crash loses rotated tokens), in microseconds, comma separated.
 *
 * <p>Arguments: the server's base URL, the store ({@code file:<path>}, or {@code
 * class:<name>:<arg>} for a class with a static {@code TokenStore create(String)}), calls per
 * round, {@code refresh} or {@code source} (a client credentials token source), and the worker's
 * name.
 */
public final class FleetWorker {
  interface Api {
    @GET("api/data")
    Call<ResponseBody> data();
  }

  public static void main(String[] args) throws Exception {
    String base = args[0];
    TokenStore store = timed(store(args[1]));
    int calls = Integer.parseInt(args[2]);
    boolean source = args[3].equals("source");
    String name = args[4];
    PrintStream out = new PrintStream(System.out, true, "UTF-8");

    OkHttpClient tokenClient =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain ->
                    chain.proceed(
                        chain.request().newBuilder().header("X-Fleet-Worker", name).build()))
            .build();
    RefreshManager.Builder builder =
        RefreshManager.builder().tokenStore(store).allowCleartext(true);
    if (source) {
      TokenSource tokenSource =
          OAuth2TokenSource.clientCredentials()
              .tokenEndpoint(base + "token")
              .clientId("fleet")
              .clientSecret("fleet-secret")
              .client(tokenClient)
              .allowCleartext(true)
              .build();
      builder.tokenSource(
          () -> {
            Tokens tokens = tokenSource.fetch();
            answeredNanos = System.nanoTime();
            return tokens;
          });
    } else {
      RefreshApi refreshApi =
          OAuth2RefreshApi.builder()
              .tokenEndpoint(base + "token")
              .clientId("fleet")
              .client(tokenClient)
              .allowCleartext(true)
              .build();
      builder.refreshApi(
          current -> {
            Tokens tokens = refreshApi.refresh(current);
            answeredNanos = System.nanoTime();
            return tokens;
          });
    }
    RefreshManager auth = builder.build();
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(calls);
    dispatcher.setMaxRequestsPerHost(calls);
    OkHttpClient client =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .addInterceptor(auth.interceptor())
            .build();
    Api api =
        new Retrofit.Builder()
            .baseUrl(base)
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .build()
            .create(Api.class);

    out.println("ready");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null && line.equals("round"); ) {
      out.println(round(api, calls));
    }
    System.exit(0);
  }

  private static String round(Api api, int calls) throws InterruptedException {
    AtomicInteger succeeded = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<String> firstFailure = new AtomicReference<>("-");
    CountDownLatch done = new CountDownLatch(calls);
    LEASE_WAITS.clear();
    WINDOWS.clear();
    for (int i = 0; i < calls; i++) {
      api.data()
          .enqueue(
              new Callback<ResponseBody>() {
                @Override
                public void onResponse(Call<ResponseBody> call, Response<ResponseBody> response) {
                  if (response.isSuccessful()) {
                    succeeded.incrementAndGet();
                  } else {
                    failed.incrementAndGet();
                    firstFailure.compareAndSet("-", "HTTP_" + response.code());
                  }
                  ResponseBody body = response.body();
                  if (body != null) body.close();
                  done.countDown();
                }

                @Override
                public void onFailure(Call<ResponseBody> call, Throwable t) {
                  failed.incrementAndGet();
                  firstFailure.compareAndSet("-", t.getClass().getSimpleName());
                  done.countDown();
                }
              });
    }
    if (!done.await(60, TimeUnit.SECONDS)) return "timeout";
    return "done "
        + succeeded
        + " "
        + failed
        + " "
        + join(LEASE_WAITS)
        + " "
        + join(WINDOWS)
        + " "
        + firstFailure;
  }

  private static String join(List<String> values) {
    synchronized (values) {
      return values.isEmpty() ? "-" : String.join(",", values);
    }
  }

  private static TokenStore store(String spec) throws Exception {
    if (spec.startsWith("file:")) return TokenStore.file(new File(spec.substring(5)));
    if (spec.startsWith("class:")) {
      String[] parts = spec.split(":", 3);
      return (TokenStore)
          Class.forName(parts[1]).getMethod("create", String.class).invoke(null, parts[2]);
    }
    throw new IllegalArgumentException("unknown store: " + spec);
  }

  private static final List<String> LEASE_WAITS = Collections.synchronizedList(new ArrayList<>());
  private static final List<String> WINDOWS = Collections.synchronizedList(new ArrayList<>());
  private static volatile long answeredNanos;

  /** Records how long each lease took to come, and each refresh's window, in microseconds. */
  private static TokenStore timed(TokenStore store) {
    if (!(store instanceof SharedTokenStore)) return store;
    SharedTokenStore shared = (SharedTokenStore) store;
    return new SharedTokenStore() {
      @Override
      public Lease lease(long timeoutMillis) throws IOException {
        long start = System.nanoTime();
        Lease lease = shared.lease(timeoutMillis);
        LEASE_WAITS.add(Long.toString((System.nanoTime() - start) / 1000L));
        answeredNanos = 0L;
        return new Lease() {
          @Override
          public @Nullable Tokens load() throws IOException {
            return lease.load();
          }

          @Override
          public boolean save(@Nullable Tokens tokens) throws IOException {
            boolean saved = lease.save(tokens);
            long answered = answeredNanos;
            if (answered != 0L) WINDOWS.add(Long.toString((System.nanoTime() - answered) / 1000L));
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
        return shared.load();
      }

      @Override
      public void save(Tokens tokens) throws IOException {
        shared.save(tokens);
      }

      @Override
      public void clear() throws IOException {
        shared.clear();
      }
    };
  }

  private FleetWorker() {}
}
