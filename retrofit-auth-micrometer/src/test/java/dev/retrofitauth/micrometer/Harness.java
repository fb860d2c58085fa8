package dev.retrofitauth.micrometer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import okhttp3.OkHttpClient;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * One API server, one manager signed in with access "old" and refresh "r1", a Retrofit wired to
 * both the way the README shows it, and a registry with the manager's meters bound to it.
 */
final class Harness implements AutoCloseable {
  interface Api {
    @GET("api/me")
    Call<String> me();

    @GET("api/slow")
    Call<String> slow();
  }

  final TestServer server;
  final ControlledRefreshApi refreshApi;
  final RefreshManager auth;
  final OkHttpClient client;
  final Api api;
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  /** A harness whose refreshes return access "new", which the server then accepts. */
  Harness(RefreshManager.Builder builder) throws IOException {
    this.server = new TestServer("old");
    this.refreshApi =
        new ControlledRefreshApi(
            current -> {
              server.accept("new");
              return Tokens.of("new", "r2");
            });
    this.auth = builder.refreshApi(refreshApi).build();
    auth.signIn(Tokens.of("old", "r1"));
    this.client =
        new OkHttpClient.Builder()
            .addInterceptor(auth.interceptor())
            .addNetworkInterceptor(auth.networkInterceptor())
            .build();
    this.api =
        new Retrofit.Builder()
            .baseUrl(server.url())
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);
    RetrofitAuthMetrics.create(auth).bindTo(registry);
  }

  /** Enqueues {@code call}; its response or failure arrives in the returned queue. */
  static BlockingQueue<Object> enqueue(Call<String> call) {
    BlockingQueue<Object> result = new LinkedBlockingQueue<>();
    call.enqueue(
        new Callback<String>() {
          @Override
          public void onResponse(Call<String> call, Response<String> response) {
            result.add(response);
          }

          @Override
          public void onFailure(Call<String> call, Throwable t) {
            result.add(t);
          }
        });
    return result;
  }

  /** Takes the response an enqueued call got, failing if it failed or took 30 seconds. */
  static Response<?> response(BlockingQueue<Object> result) throws InterruptedException {
    Object outcome = result.poll(30, TimeUnit.SECONDS);
    assertTrue(outcome instanceof Response, "call did not get a response: " + outcome);
    return (Response<?>) outcome;
  }

  double counter(String name) {
    return registry.get(name).functionCounter().count();
  }

  double timerCount(String outcome) {
    return registry.get("retrofit.auth.refreshes").tag("outcome", outcome).functionTimer().count();
  }

  double timerNanos(String outcome) {
    return registry
        .get("retrofit.auth.refreshes")
        .tag("outcome", outcome)
        .functionTimer()
        .totalTime(TimeUnit.NANOSECONDS);
  }

  double waiting(String waitingFor) {
    return registry.get("retrofit.auth.calls.waiting").tag("for", waitingFor).gauge().value();
  }

  /** Waits until {@code condition} holds, or fails after 30 seconds; never sleeps a fixed time. */
  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting: " + what);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }

  @Override
  public void close() throws IOException {
    refreshApi.release();
    server.close();
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }
}
