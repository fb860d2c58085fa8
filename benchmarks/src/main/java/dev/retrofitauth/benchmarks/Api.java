package dev.retrofitauth.benchmarks;

import retrofit2.Call;
import retrofit2.http.GET;
import retrofit2.http.Path;

/** The service every contender calls. */
interface Api {
  @GET("api/item/{n}")
  Call<String> item(@Path("n") int n);
}
