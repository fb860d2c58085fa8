package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Callback;
import retrofit2.Response;

/**
 * {@code auth.authenticator()} with a refresh that needs the OkHttp dispatcher slot that the
 * waiting request holds: no deadlock, and a failure that says why.
 */
final class AuthenticatorDispatcherTest {
  private @Nullable Fixture fixture;

  @AfterEach
  void close() throws IOException {
    if (fixture != null) fixture.close();
  }

  /**
   * auth.authenticator() with a RefreshApi that enqueue()s a call through the same client and one
   * request per host: the refresh waited for the dispatcher slot that the waiting request held,
   * until refreshTimeout. A call that the RefreshApi enqueues through the factory now runs on the
   * refresh thread.
   */
  @Test
  void authenticatorWithEnqueueingRefreshApiAndOneSlotPerHost() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(15),
        () -> {
          AtomicReference<Api> tokenApi = new AtomicReference<>();
          RefreshApi refreshApi =
              current -> {
                CountDownLatch answered = new CountDownLatch(1);
                tokenApi
                    .get()
                    .open()
                    .enqueue(
                        new Callback<String>() {
                          @Override
                          public void onResponse(
                              retrofit2.Call<String> call, Response<String> response) {
                            answered.countDown();
                          }

                          @Override
                          public void onFailure(retrofit2.Call<String> call, Throwable t) {
                            answered.countDown();
                          }
                        });
                try {
                  if (!answered.await(60, TimeUnit.SECONDS)) throw new IOException("no answer");
                } catch (InterruptedException e) {
                  throw new InterruptedIOException();
                }
                return Tokens.of("new", "r2");
              };
          Dispatcher dispatcher = new Dispatcher();
          dispatcher.setMaxRequestsPerHost(1);
          fixture =
              Fixture.create(
                  RefreshManager.builder().refreshApi(refreshApi),
                  new OkHttpClient.Builder().dispatcher(dispatcher));
          OkHttpClient client =
              fixture.client.newBuilder().authenticator(fixture.auth.authenticator()).build();
          // The same Retrofit, on the client with the authenticator; it validates its methods
          // eagerly, so the factory allows its origin before the first call.
          tokenApi.set(
              fixture
                  .retrofit
                  .newBuilder()
                  .client(client)
                  .validateEagerly(true)
                  .build()
                  .create(Api.class));
          fixture.server.acceptOnly("new");

          java.util.concurrent.CompletableFuture<Integer> code =
              new java.util.concurrent.CompletableFuture<>();
          client
              .newCall(new Request.Builder().url(fixture.server.url("/img")).build())
              .enqueue(
                  new okhttp3.Callback() {
                    @Override
                    public void onFailure(okhttp3.Call call, IOException e) {
                      code.completeExceptionally(e);
                    }

                    @Override
                    public void onResponse(okhttp3.Call call, okhttp3.Response response) {
                      code.complete(response.code());
                      response.close();
                    }
                  });
          assertEquals(200, code.get(10, TimeUnit.SECONDS));
        });
  }

  /**
   * The same stall with a RefreshApi that enqueues a plain OkHttp call, which no factory can run
   * elsewhere: the request fails at refreshTimeout with a message that names the cause and the fix.
   */
  @Test
  void authenticatorStallOnPlainEnqueueSaysWhy() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(15),
        () -> {
          AtomicReference<OkHttpClient> shared = new AtomicReference<>();
          AtomicReference<ApiServer> server = new AtomicReference<>();
          RefreshApi refreshApi =
              current -> {
                CountDownLatch answered = new CountDownLatch(1);
                shared
                    .get()
                    .newCall(new Request.Builder().url(server.get().url("/token")).build())
                    .enqueue(
                        new okhttp3.Callback() {
                          @Override
                          public void onFailure(okhttp3.Call call, IOException e) {
                            answered.countDown();
                          }

                          @Override
                          public void onResponse(okhttp3.Call call, okhttp3.Response response) {
                            response.close();
                            answered.countDown();
                          }
                        });
                try {
                  if (!answered.await(60, TimeUnit.SECONDS)) throw new IOException("no answer");
                } catch (InterruptedException e) {
                  throw new InterruptedIOException();
                }
                return Tokens.of("new", "r2");
              };
          Dispatcher dispatcher = new Dispatcher();
          dispatcher.setMaxRequestsPerHost(1);
          fixture =
              Fixture.create(
                  RefreshManager.builder()
                      .refreshApi(refreshApi)
                      .refreshTimeout(300, TimeUnit.MILLISECONDS),
                  new OkHttpClient.Builder().dispatcher(dispatcher));
          server.set(fixture.server);
          OkHttpClient client =
              fixture.client.newBuilder().authenticator(fixture.auth.authenticator()).build();
          shared.set(client);
          fixture.auth.servedBy(fixture.server.server.url("/"));
          fixture.server.acceptOnly("new");

          java.util.concurrent.CompletableFuture<IOException> failure =
              new java.util.concurrent.CompletableFuture<>();
          client
              .newCall(new Request.Builder().url(fixture.server.url("/img")).build())
              .enqueue(
                  new okhttp3.Callback() {
                    @Override
                    public void onFailure(okhttp3.Call call, IOException e) {
                      failure.complete(e);
                    }

                    @Override
                    public void onResponse(okhttp3.Call call, okhttp3.Response response) {
                      response.close();
                      failure.completeExceptionally(new AssertionError("not stalled"));
                    }
                  });
          IOException e = failure.get(10, TimeUnit.SECONDS);
          assertEquals(
              "Token refresh failed: it did not end within refreshTimeout while"
                  + " auth.authenticator() held this request's OkHttp dispatcher thread. A"
                  + " RefreshApi that enqueue()s on the same OkHttpClient waits for that"
                  + " thread's slot: call execute() in it, or go through a Retrofit with"
                  + " AuthCallAdapterFactory.",
              e.getMessage());
        });
  }
}
