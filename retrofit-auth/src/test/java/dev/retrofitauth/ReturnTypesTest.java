package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reactivex.rxjava3.core.Completable;
import io.reactivex.rxjava3.core.Observable;
import io.reactivex.rxjava3.core.Single;
import io.reactivex.rxjava3.disposables.Disposable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.adapter.rxjava3.RxJava3CallAdapterFactory;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/** The factory wraps every return type that the next adapter handles. */
final class ReturnTypesTest {
  interface Api {
    @GET("api/me")
    CompletableFuture<String> future();

    @GET("api/me")
    CompletableFuture<Response<String>> futureResponse();

    @GET("api/me")
    Single<String> single();

    @GET("api/me")
    Observable<String> observable();

    @GET("api/me")
    Completable completable();
  }

  private GatedRefreshApi refreshApi;
  private Fixture fixture;

  @BeforeEach
  void setUp() throws IOException {
    refreshApi =
        new GatedRefreshApi(
            current -> {
              fixture.server.acceptOnly("new");
              return Tokens.of("new", "r2");
            });
    fixture = Fixture.create(RefreshManager.builder().refreshApi(refreshApi));
    fixture.server.acceptOnly("other");
  }

  @AfterEach
  void tearDown() throws IOException {
    fixture.close();
  }

  private Api api(boolean synchronous) {
    return fixture
        .retrofit
        .newBuilder()
        .addCallAdapterFactory(
            synchronous
                ? RxJava3CallAdapterFactory.createSynchronous()
                : RxJava3CallAdapterFactory.create())
        .build()
        .create(Api.class);
  }

  @Test
  void completableFutureRefreshesAndRetries() throws Exception {
    assertEquals("ok /api/me", api(false).future().get(30, TimeUnit.SECONDS));
    assertEquals(1, refreshApi.calls.get());
    assertEquals(1, fixture.server.count("Bearer new"));
  }

  @Test
  void completableFutureOfResponseGetsFinal401WhenRejected() throws Exception {
    refreshApi.answer(
        current -> {
          throw new RefreshRejectedException("revoked");
        });

    Response<String> response = api(false).futureResponse().get(30, TimeUnit.SECONDS);

    assertEquals(401, response.code());
  }

  @ParameterizedTest(name = "synchronous={0}")
  @ValueSource(booleans = {false, true})
  void singleRefreshesAndRetries(boolean synchronous) {
    assertEquals(
        "ok /api/me", api(synchronous).single().timeout(30, TimeUnit.SECONDS).blockingGet());
    assertEquals(1, refreshApi.calls.get());
  }

  @ParameterizedTest(name = "synchronous={0}")
  @ValueSource(booleans = {false, true})
  void observableAndCompletableRefreshAndRetry(boolean synchronous) {
    Api api = api(synchronous);
    assertEquals("ok /api/me", api.observable().timeout(30, TimeUnit.SECONDS).blockingFirst());
    api.completable().timeout(30, TimeUnit.SECONDS).blockingAwait();
    assertEquals(1, refreshApi.calls.get());
    assertEquals(2, fixture.server.count("Bearer new"));
  }

  @ParameterizedTest(name = "synchronous={0}")
  @ValueSource(booleans = {false, true})
  void resubscribingClonesTheCall(boolean synchronous) {
    fixture.server.acceptOnly("old");
    Single<String> single = api(synchronous).single();

    single.timeout(30, TimeUnit.SECONDS).blockingGet();
    single.timeout(30, TimeUnit.SECONDS).blockingGet();

    assertEquals(2, fixture.server.count("Bearer old"));
  }

  @Test
  void disposingWaitingSingleCancelsOnlyItsWaiter() throws Exception {
    refreshApi.hold();
    Api api = api(false);
    List<Object> disposedResults = new ArrayList<>();
    Disposable disposed = api.single().subscribe(disposedResults::add, disposedResults::add);
    Single<String> other = api.single();
    CompletableFuture<String> otherResult = new CompletableFuture<>();
    other.subscribe(otherResult::complete, otherResult::completeExceptionally);
    Await.until("both wait", () -> Await.waiting(fixture.auth) == 2);

    disposed.dispose();

    Await.until("waiter removed", () -> Await.waiting(fixture.auth) == 1);
    refreshApi.release();
    assertEquals("ok /api/me", otherResult.get(30, TimeUnit.SECONDS));
    assertEquals(1, fixture.server.count("Bearer new"));
    assertTrue(disposedResults.isEmpty(), disposedResults.toString());
  }

  @Test
  void completableFutureCancelWhileWaitingCancelsOnlyItsWaiter() throws Exception {
    refreshApi.hold();
    Api api = api(false);
    CompletableFuture<String> canceled = api.future();
    CompletableFuture<String> other = api.future();
    Await.until("both wait", () -> Await.waiting(fixture.auth) == 2);

    canceled.cancel(true);

    Await.until("waiter removed", () -> Await.waiting(fixture.auth) == 1);
    refreshApi.release();
    assertEquals("ok /api/me", other.get(30, TimeUnit.SECONDS));
    assertEquals(Tokens.of("new", "r2"), fixture.auth.currentTokens());
    assertEquals(1, fixture.server.count("Bearer new"));
  }

  @Test
  void callbackExecutorGetsFinalResultOnceAndNoRefreshWork() throws Exception {
    java.util.concurrent.atomic.AtomicInteger executed =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.ExecutorService callbackThread =
        java.util.concurrent.Executors.newSingleThreadExecutor(r -> new Thread(r, "callbacks"));
    try {
      Services.Api api =
          fixture
              .retrofit
              .newBuilder()
              .callbackExecutor(
                  command -> {
                    executed.incrementAndGet();
                    callbackThread.execute(command);
                  })
              .build()
              .create(Services.Api.class);
      CompletableFuture<String> deliveredOn = new CompletableFuture<>();

      api.me()
          .enqueue(
              new retrofit2.Callback<String>() {
                @Override
                public void onResponse(retrofit2.Call<String> call, Response<String> response) {
                  deliveredOn.complete(Thread.currentThread().getName() + " " + response.body());
                }

                @Override
                public void onFailure(retrofit2.Call<String> call, Throwable t) {
                  deliveredOn.completeExceptionally(t);
                }
              });

      assertEquals("callbacks ok /api/me", deliveredOn.get(30, TimeUnit.SECONDS));
      assertEquals(1, executed.get()); // Only the final result went through the executor.
      assertTrue(refreshApi.threads.get(0).startsWith("retrofit-auth refresh"));
    } finally {
      callbackThread.shutdown();
    }
  }

  @Test
  void registeredAfterRxFailsWithFix() {
    Retrofit wrongOrder =
        new Retrofit.Builder()
            .baseUrl(fixture.server.url("/"))
            .client(fixture.client)
            .addCallAdapterFactory(RxJava3CallAdapterFactory.create())
            .addCallAdapterFactory(AuthCallAdapterFactory.create(fixture.auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build();

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> wrongOrder.create(Api.class).future());

    assertEquals(
        "AuthCallAdapterFactory must be added before RxJava3CallAdapterFactory: call "
            + "addCallAdapterFactory(AuthCallAdapterFactory.create(auth)) first, otherwise the "
            + "calls it adapts are never refreshed on 401.",
        rootCause(e).getMessage());
  }

  private static Throwable rootCause(Throwable t) {
    while (t.getCause() != null) t = t.getCause();
    return t;
  }
}
