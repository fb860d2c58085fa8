package dev.retrofitauth;

import okhttp3.RequestBody;
import retrofit2.Call;
import retrofit2.http.Body;
import retrofit2.http.GET;
import retrofit2.http.POST;
import retrofit2.http.Url;

/** The service interfaces the tests call. */
final class Services {
  private Services() {}

  interface Api {
    @GET("api/me")
    Call<String> me();

    @NoAuth
    @GET("api/public")
    Call<String> open();

    @NoRetry
    @GET("api/poll")
    Call<String> poll();

    @POST("api/upload")
    Call<String> upload(@Body RequestBody body);

    @GET
    Call<String> get(@Url String url);
  }

  @NoAuth
  interface PublicApi {
    @GET("api/public")
    Call<String> open();
  }

  @NoRetry
  interface NoRetryApi {
    @GET("api/poll")
    Call<String> poll();
  }
}
