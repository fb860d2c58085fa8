package dev.retrofitauth;

import okhttp3.HttpUrl;
import retrofit2.Call;

/**
 * What an {@link AuthCallAdapterFactory} serves: one {@link RefreshManager}, or a {@link
 * SessionRegistry} that picks a session for each call.
 */
abstract class CallWrapper {
  /** Wraps {@code call}, a call of the service method that {@code slot} describes. */
  abstract <T> Call<T> wrap(Call<T> call, MethodPolicy.Slot slot);

  /** A factory serves a Retrofit instance with {@code baseUrl}: its origin may get the token. */
  abstract void servedBy(HttpUrl baseUrl);
}
