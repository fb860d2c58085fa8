package dev.retrofitauth.jdbc;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.TokenStore;
import dev.retrofitauth.fleet.FleetServer;
import dev.retrofitauth.oauth2.OAuth2RefreshApi;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * A manager on a store, refreshing at a {@link FleetServer}'s token endpoint with the library's own
 * {@link OAuth2RefreshApi}, and a Retrofit service on the server's API: what an app in a fleet
 * runs, in one JVM.
 */
final class ManagedCalls {
  interface Service {
    @GET("api/data")
    Call<String> data();
  }

  final RefreshManager auth;
  private final Service service;

  ManagedCalls(FleetServer server, TokenStore store, long refreshTimeoutMillis) {
    OkHttpClient tokenClient = new OkHttpClient();
    auth =
        RefreshManager.builder()
            .tokenStore(store)
            .allowCleartext(true)
            .refreshTimeout(refreshTimeoutMillis, TimeUnit.MILLISECONDS)
            .refreshBackoff(0, 0, TimeUnit.MILLISECONDS)
            .refreshApi(
                OAuth2RefreshApi.builder()
                    .tokenEndpoint(server.url("/token").toString())
                    .clientId("fleet")
                    .client(tokenClient)
                    .allowCleartext(true)
                    .build())
            .build();
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();
    client.dispatcher().setMaxRequestsPerHost(50);
    service =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Service.class);
  }

  /** Starts {@code count} calls at once; each future ends with the call's HTTP code. */
  List<CompletableFuture<Integer>> calls(int count) {
    List<CompletableFuture<Integer>> results = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      CompletableFuture<Integer> result = new CompletableFuture<>();
      service
          .data()
          .enqueue(
              new Callback<String>() {
                @Override
                public void onResponse(Call<String> call, Response<String> response) {
                  result.complete(response.code());
                }

                @Override
                public void onFailure(Call<String> call, Throwable t) {
                  result.completeExceptionally(t);
                }
              });
      results.add(result);
    }
    return results;
  }

  /** Every message in {@code e}'s chain of causes, one per line. */
  static String causes(Throwable e) {
    StringBuilder messages = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) messages.append(t).append('\n');
    return messages.toString();
  }
}
