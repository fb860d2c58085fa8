package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.Field;
import retrofit2.http.FormUrlEncoded;
import retrofit2.http.GET;
import retrofit2.http.POST;

/**
 * One dispatcher slot per host, the token endpoint on the same server, and a RefreshApi that calls
 * it through the same client: waiting calls must not hold the slot the refresh needs
 * (square/retrofit#3935, square/okhttp#7904).
 */
final class DeadlockTest {
  interface Api {
    @GET("api/me")
    Call<String> me();

    @NoAuth
    @FormUrlEncoded
    @POST("token")
    Call<String> refresh(@Field("refresh_token") String refreshToken);
  }

  @ParameterizedTest(name = "refresh with {0}")
  @ValueSource(strings = {"execute", "enqueue"})
  void noDeadlockWithOneSlotPerHost(String refreshStyle) throws Exception {
    AtomicInteger tokenRequests = new AtomicInteger();
    ApiServer server =
        new ApiServer("old") {
          @Override
          MockResponse respond(RecordedRequest request, String authorization) {
            if (request.getPath().equals("/token")) {
              tokenRequests.incrementAndGet();
              acceptOnly("new");
              return new MockResponse().setBody("new");
            }
            return super.respond(request, authorization);
          }
        };
    server.acceptOnly("other");
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequestsPerHost(1);
    AtomicReferenceHolder<Api> holder = new AtomicReferenceHolder<>();
    RefreshManager auth =
        RefreshManager.builder()
            .refreshApi(
                current -> {
                  Call<String> call = holder.value.refresh(current.refreshToken());
                  Response<String> response;
                  if (refreshStyle.equals("execute")) {
                    response = call.execute();
                  } else {
                    CompletableFuture<Response<String>> future = new CompletableFuture<>();
                    call.enqueue(
                        new Callback<String>() {
                          @Override
                          public void onResponse(Call<String> c, Response<String> r) {
                            future.complete(r);
                          }

                          @Override
                          public void onFailure(Call<String> c, Throwable t) {
                            future.completeExceptionally(t);
                          }
                        });
                    try {
                      response = future.get(30, TimeUnit.SECONDS);
                    } catch (Exception e) {
                      throw new IOException(e);
                    }
                  }
                  return Tokens.of(response.body(), "r2");
                })
            .build();
    auth.signIn(Tokens.of("old", "r1"));
    OkHttpClient client =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .addInterceptor(auth.interceptor())
            .build();
    Retrofit retrofit =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build();
    holder.value = retrofit.create(Api.class);

    try {
      assertTimeoutPreemptively(
          Duration.ofSeconds(30),
          () -> {
            int calls = 20;
            CountDownLatch done = new CountDownLatch(calls);
            List<String> bodies = new CopyOnWriteArrayList<>();
            for (int i = 0; i < calls; i++) {
              holder
                  .value
                  .me()
                  .enqueue(
                      new Callback<String>() {
                        @Override
                        public void onResponse(Call<String> call, Response<String> response) {
                          bodies.add(response.body());
                          done.countDown();
                        }

                        @Override
                        public void onFailure(Call<String> call, Throwable t) {
                          bodies.add(t.toString());
                          done.countDown();
                        }
                      });
            }
            assertTrue(done.await(25, TimeUnit.SECONDS));
            assertEquals(calls, bodies.size());
            for (String body : bodies) assertEquals("ok /api/me", body);
            assertEquals(1, tokenRequests.get());
            Await.noDeadlock();
          });
    } finally {
      Await.noDeadlock();
      server.close();
      client.dispatcher().executorService().shutdown();
    }
  }

  static final class AtomicReferenceHolder<T> {
    volatile T value;
  }
}
