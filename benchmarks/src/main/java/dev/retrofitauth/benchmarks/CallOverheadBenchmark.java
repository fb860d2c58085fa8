package dev.retrofitauth.benchmarks;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.DPoP;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/**
 * The happy path: a Retrofit call end to end through OkHttp, bare and with retrofit-auth, against a
 * last interceptor that answers 200 without touching the network.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CallOverheadBenchmark {
  private static final MediaType TEXT = MediaType.get("text/plain");

  private OkHttpClient bareClient;
  private OkHttpClient headerClient;
  private OkHttpClient authClient;
  private OkHttpClient dpopClient;
  private Api dpop;
  private Api bare;
  private Api header;
  private Api auth;

  @Setup
  public void setUp() {
    Interceptor canned =
        chain ->
            new okhttp3.Response.Builder()
                .request(chain.request())
                .protocol(Protocol.HTTP_1_1)
                .code(200)
                .message("OK")
                .body(ResponseBody.create("ok", TEXT))
                .build();
    bareClient = new OkHttpClient.Builder().addInterceptor(canned).build();
    bare = retrofit(bareClient).build().create(Api.class);
    // The least any bearer-token client does: an interceptor that adds a fixed header.
    headerClient =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain ->
                    chain.proceed(
                        chain
                            .request()
                            .newBuilder()
                            .header("Authorization", "Bearer access-token")
                            .build()))
            .addInterceptor(canned)
            .build();
    header = retrofit(headerClient).build().create(Api.class);

    RefreshManager manager = RefreshManager.builder().build();
    manager.signIn(Tokens.of("access-token", "refresh-token"));
    authClient =
        new OkHttpClient.Builder()
            .addInterceptor(manager.interceptor())
            .addInterceptor(canned)
            .build();
    auth =
        retrofit(authClient)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(manager))
            .build()
            .create(Api.class);
    setUpDpop(canned);
  }

  /** retrofit-auth with DPoP: a proof signed with an EC P-256 key on every call. */
  private void setUpDpop(Interceptor canned) {
    RefreshManager manager = RefreshManager.builder().dpop(DPoP.generate()).build();
    manager.signIn(Tokens.of("access-token", "refresh-token").withTokenType(Tokens.DPOP));
    dpopClient =
        new OkHttpClient.Builder()
            .addInterceptor(manager.interceptor())
            .addInterceptor(canned)
            .build();
    dpop =
        retrofit(dpopClient)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(manager))
            .build()
            .create(Api.class);
  }

  private static Retrofit.Builder retrofit(OkHttpClient client) {
    return new Retrofit.Builder()
        .baseUrl("https://api.example.test/")
        .client(client)
        .addConverterFactory(ScalarsConverterFactory.create());
  }

  @TearDown
  public void tearDown() {
    bareClient.dispatcher().executorService().shutdown();
    headerClient.dispatcher().executorService().shutdown();
    authClient.dispatcher().executorService().shutdown();
    dpopClient.dispatcher().executorService().shutdown();
  }

  @Benchmark
  public String dpopExecute() throws IOException {
    return dpop.item(1).execute().body();
  }

  @Benchmark
  public String bareExecute() throws IOException {
    return bare.item(1).execute().body();
  }

  @Benchmark
  public String headerExecute() throws IOException {
    return header.item(1).execute().body();
  }

  @Benchmark
  public String headerEnqueue() throws Exception {
    return enqueue(header.item(1));
  }

  @Benchmark
  public String authExecute() throws IOException {
    return auth.item(1).execute().body();
  }

  @Benchmark
  public String bareEnqueue() throws Exception {
    return enqueue(bare.item(1));
  }

  @Benchmark
  public String authEnqueue() throws Exception {
    return enqueue(auth.item(1));
  }

  private static String enqueue(Call<String> call) throws Exception {
    CompletableFuture<String> result = new CompletableFuture<>();
    call.enqueue(
        new Callback<String>() {
          @Override
          public void onResponse(Call<String> call, Response<String> response) {
            result.complete(response.body());
          }

          @Override
          public void onFailure(Call<String> call, Throwable t) {
            result.completeExceptionally(t);
          }
        });
    return result.get(10, TimeUnit.SECONDS);
  }
}
