package dev.retrofitauth.sample.shrink;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.NoAuth;
import dev.retrofitauth.NoRetry;
import dev.retrofitauth.QueuedCall;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RetryGroup;
import dev.retrofitauth.RetryPriority;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.OkHttpClient;
import okhttp3.ResponseBody;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.http.Field;
import retrofit2.http.FormUrlEncoded;
import retrofit2.http.GET;
import retrofit2.http.POST;

/**
 * A small client app that {@code ShrunkAppTest} shrinks and obfuscates with ProGuard, then runs.
 * Its only kept entry point is {@link #run}; every other name, its own and the libraries', may be
 * renamed or removed. Each annotation of retrofit-auth steers one of its calls, and {@link #run}
 * reports what each call saw.
 */
public final class ShrunkApp {
  interface Api {
    @NoAuth // No token; its 401 passes through.
    @GET("status")
    Call<ResponseBody> status();

    @NoRetry // The token goes, but its 401 comes back as it came.
    @GET("poll")
    Call<ResponseBody> poll();

    @RetryGroup("feed") // Canceled with its group while it waits.
    @GET("feed")
    Call<ResponseBody> feed();

    @GET("news")
    Call<ResponseBody> news();

    @RetryPriority(10) // Retried before news, although it joined the queue last.
    @GET("checkout")
    Call<ResponseBody> checkout();

    @NoAuth // Called from the RefreshApi, on the same Retrofit.
    @FormUrlEncoded
    @POST("token")
    Call<ResponseBody> token(@Field("refresh_token") String refreshToken);
  }

  private ShrunkApp() {}

  /**
   * Signs in with a token the server no longer accepts, and reports, in one line, what each call
   * got: {@code status}, {@code poll}, the waiting calls' groups and priorities, the canceled
   * group, and the calls retried after the one refresh.
   */
  public static String run(String baseUrl) throws Exception {
    AtomicReference<Api> apiRef = new AtomicReference<>();
    CountDownLatch refreshMayGo = new CountDownLatch(1);
    RefreshManager auth =
        RefreshManager.builder()
            .queueMode(true)
            .maxConcurrentRetries(1) // One retry at a time, so priorities decide the order.
            .refreshApi(
                current -> {
                  await(refreshMayGo);
                  Response<ResponseBody> response =
                      apiRef.get().token(current.refreshToken()).execute();
                  if (!response.isSuccessful()) throw new IOException("HTTP " + response.code());
                  String[] pair = response.body().string().split(" ");
                  return Tokens.of(pair[0], pair[1]);
                })
            .build();
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    Api api =
        new Retrofit.Builder()
            .baseUrl(baseUrl)
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .build()
            .create(Api.class);
    apiRef.set(api);
    try {
      auth.signIn(Tokens.of("t1", "r1"));
      List<String> report = new ArrayList<>();
      report.add("status=" + code(api.status()));
      report.add("poll=" + code(api.poll()));
      report.add("refreshes=" + auth.stats().refreshesStarted());

      Map<String, String> outcomes = Collections.synchronizedMap(new TreeMap<>());
      CountDownLatch done = new CountDownLatch(3);
      enqueue(api.feed(), "feed", outcomes, done);
      enqueue(api.news(), "news", outcomes, done);
      enqueue(api.checkout(), "checkout", outcomes, done);

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (auth.queuedCalls().size() < 3 && System.nanoTime() < deadline) {
        done.await(1, TimeUnit.MILLISECONDS); // Returns early only if a call ended too soon.
      }
      List<String> queued = new ArrayList<>();
      for (QueuedCall call : auth.queuedCalls()) {
        queued.add((call.group() != null ? call.group() : "-") + "/" + call.priority());
      }
      Collections.sort(queued);
      report.add("queued=" + queued);
      report.add("canceled=" + auth.cancelQueued("feed"));
      refreshMayGo.countDown();
      if (!done.await(10, TimeUnit.SECONDS)) report.add("TIMED OUT");
      report.add("outcomes=" + outcomes);
      report.add("refreshes=" + auth.stats().refreshesStarted());
      return String.join(" ", report);
    } finally {
      refreshMayGo.countDown();
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
  }

  private static int code(Call<ResponseBody> call) throws IOException {
    Response<ResponseBody> response = call.execute();
    if (response.errorBody() != null) response.errorBody().close();
    if (response.body() != null) response.body().close();
    return response.code();
  }

  private static void enqueue(
      Call<ResponseBody> call, String name, Map<String, String> outcomes, CountDownLatch done) {
    call.enqueue(
        new Callback<ResponseBody>() {
          @Override
          public void onResponse(Call<ResponseBody> call, Response<ResponseBody> response) {
            if (response.body() != null) response.body().close();
            if (response.errorBody() != null) response.errorBody().close();
            outcomes.put(name, String.valueOf(response.code()));
            done.countDown();
          }

          @Override
          public void onFailure(Call<ResponseBody> call, Throwable t) {
            outcomes.put(name, t.getClass().getSimpleName() + ": " + t.getMessage());
            done.countDown();
          }
        });
  }

  private static void await(CountDownLatch latch) throws IOException {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) throw new IOException("the app never let it go");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }
}
