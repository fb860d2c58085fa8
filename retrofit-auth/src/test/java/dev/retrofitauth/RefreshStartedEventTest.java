package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link AuthListener#onRefreshStarted()}: once per refresh, before the event that ends it. */
final class RefreshStartedEventTest {
  @Test
  void fiftyCallersOfOneRefreshHearOneStartThenOneEnd() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    RefreshManager auth =
        RefreshManager.builder()
            .refreshApi(
                current -> {
                  entered.countDown();
                  try {
                    if (!release.await(30, TimeUnit.SECONDS)) throw new IOException("held");
                  } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                  }
                  return Tokens.of("access-2", "refresh-2");
                })
            .addListener(
                new AuthListener() {
                  @Override
                  public void onRefreshStarted() {
                    events.add("started");
                  }

                  @Override
                  public void onRefreshed() {
                    events.add("refreshed");
                  }

                  @Override
                  public void onRefreshFailed(IOException cause) {
                    events.add("failed");
                  }
                })
            .build();
    auth.signIn(Tokens.of("access-1", "refresh-1"));
    ExecutorService callers = Executors.newFixedThreadPool(50);
    try {
      List<Future<Tokens>> refreshes = new ArrayList<>();
      for (int i = 0; i < 50; i++) refreshes.add(callers.submit(() -> auth.refreshNow()));
      entered.await(30, TimeUnit.SECONDS);
      Await.until("every caller waits for the one refresh", () -> Await.waiting(auth) == 50);
      assertEquals(List.of("started"), events, "told before the refresh ends");
      release.countDown();
      for (Future<Tokens> refresh : refreshes) {
        assertEquals("access-2", refresh.get(30, TimeUnit.SECONDS).accessToken());
      }
    } finally {
      callers.shutdownNow();
    }
    assertEquals(List.of("started", "refreshed"), events);

    CompletableFuture<Tokens> again = new CompletableFuture<>();
    auth.refreshNow(
        new RefreshCallback() {
          @Override
          public void onRefreshed(Tokens tokens) {
            again.complete(tokens);
          }

          @Override
          public void onFailure(IOException e) {
            again.completeExceptionally(e);
          }
        });
    again.get(30, TimeUnit.SECONDS);
    assertEquals(List.of("started", "refreshed", "started", "refreshed"), events);
  }
}
