package dev.retrofitauth;

import java.util.concurrent.BlockingQueue;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;

/** Test callbacks. */
final class Callbacks {
  private Callbacks() {}

  /** Records {@code {call, response}} on success and the throwable on failure. */
  static <T> Callback<T> recording(BlockingQueue<Object> results) {
    return new Callback<T>() {
      @Override
      public void onResponse(Call<T> call, Response<T> response) {
        results.add(new Object[] {call, response});
      }

      @Override
      public void onFailure(Call<T> call, Throwable t) {
        results.add(t);
      }
    };
  }
}
