package dev.retrofitauth;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A RefreshApi that the test controls: it counts its calls, can be held open until the test
 * releases it, and returns or throws what the test says.
 */
final class GatedRefreshApi implements RefreshApi {
  interface Answer {
    Tokens answer(Tokens current) throws IOException;
  }

  final AtomicInteger calls = new AtomicInteger();
  final List<Tokens> presented = new CopyOnWriteArrayList<>();
  final List<String> threads = new CopyOnWriteArrayList<>();
  private final CountDownLatch entered = new CountDownLatch(1);
  private volatile CountDownLatch release = new CountDownLatch(0);
  private volatile Answer answer;

  GatedRefreshApi(Answer answer) {
    this.answer = answer;
  }

  static GatedRefreshApi returning(Tokens tokens) {
    return new GatedRefreshApi(current -> tokens);
  }

  static GatedRefreshApi throwing(IOException e) {
    return new GatedRefreshApi(
        current -> {
          throw e;
        });
  }

  /** Holds every refresh until {@link #release()}. */
  GatedRefreshApi hold() {
    release = new CountDownLatch(1);
    return this;
  }

  void release() {
    release.countDown();
  }

  void answer(Answer answer) {
    this.answer = answer;
  }

  /** Waits until the first refresh has started. */
  void awaitEntered() throws InterruptedException {
    if (!entered.await(30, TimeUnit.SECONDS)) throw new AssertionError("no refresh started");
  }

  @Override
  public Tokens refresh(Tokens current) throws IOException {
    calls.incrementAndGet();
    presented.add(current);
    threads.add(Thread.currentThread().getName());
    entered.countDown();
    try {
      if (!release.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
    } catch (InterruptedException e) {
      throw new java.io.InterruptedIOException();
    }
    return answer.answer(current);
  }
}
