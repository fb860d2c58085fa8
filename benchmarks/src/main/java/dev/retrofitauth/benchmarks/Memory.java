package dev.retrofitauth.benchmarks;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import okhttp3.OkHttpClient;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/**
 * The heap a call keeps while it waits for a refresh, above what the same Retrofit call and its
 * callback keep anyway. Calls park before they are sent (their token is known to be expired and the
 * refresh is held open), so no request touches the network.
 */
final class Memory {
  private Memory() {}

  /** Returns the retained bytes per waiting call above bare Retrofit, averaged over runs. */
  static double bytesPerWaitingCall(int calls, int runs) throws Exception {
    double total = 0;
    for (int run = 0; run < runs; run++) {
      total += parkedBytesPerCall(calls) - bareBytesPerCall(calls);
    }
    return total / runs;
  }

  private static Retrofit.Builder retrofit(OkHttpClient client) {
    return new Retrofit.Builder()
        .baseUrl("https://api.example.test/")
        .client(client)
        .addConverterFactory(ScalarsConverterFactory.create());
  }

  private static final Callback<String> CALLBACK =
      new Callback<String>() {
        @Override
        public void onResponse(Call<String> call, Response<String> response) {}

        @Override
        public void onFailure(Call<String> call, Throwable t) {}
      };

  /** Bytes per call of {@code calls} Retrofit calls held with their callback, not started. */
  private static double bareBytesPerCall(int calls) {
    OkHttpClient client = new OkHttpClient();
    Api api = retrofit(client).build().create(Api.class);
    List<Object> held = new ArrayList<>(calls * 2);
    api.item(0); // Warm Retrofit's method cache.
    long before = usedHeap();
    for (int i = 0; i < calls; i++) {
      held.add(api.item(i));
      held.add(CALLBACK);
    }
    long after = usedHeap();
    if (held.size() != calls * 2) throw new AssertionError();
    return (after - before) / (double) calls;
  }

  /** Bytes per call of {@code calls} retrofit-auth calls parked on an open refresh. */
  private static double parkedBytesPerCall(int calls) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    RefreshManager auth =
        RefreshManager.builder()
            .refreshTimeout(0, TimeUnit.MILLISECONDS)
            .refreshApi(
                current -> {
                  try {
                    release.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  return Tokens.of("new", "r2");
                })
            .build();
    auth.signIn(Tokens.of("expired", "r1", System.currentTimeMillis() - 1));
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    Api api =
        retrofit(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .build()
            .create(Api.class);
    List<Object> held = new ArrayList<>(calls * 2);
    // The first call starts the held refresh; it is not measured.
    api.item(-1).enqueue(CALLBACK);
    while (auth.stats().callsWaitingForRefresh() < 1) LockSupport.parkNanos(100_000);
    long before = usedHeap();
    for (int i = 0; i < calls; i++) {
      Call<String> call = api.item(i);
      call.enqueue(CALLBACK);
      held.add(call);
      held.add(CALLBACK);
    }
    if (auth.stats().callsWaitingForRefresh() != calls + 1) {
      throw new AssertionError("not all calls wait: " + auth.stats());
    }
    long after = usedHeap();
    auth.cancelAllQueued(); // Nothing reaches the network.
    release.countDown();
    client.dispatcher().executorService().shutdown();
    return (after - before) / (double) calls;
  }

  private static long usedHeap() {
    for (int i = 0; i < 4; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
