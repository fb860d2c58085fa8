package dev.retrofitauth.micrometer;

import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A RefreshApi the test controls: it answers what the test says, and can be held open. */
final class ControlledRefreshApi implements RefreshApi {
  interface Answer {
    Tokens answer(Tokens current) throws IOException;
  }

  final AtomicInteger calls = new AtomicInteger();
  private final CountDownLatch entered = new CountDownLatch(1);
  private volatile CountDownLatch release = new CountDownLatch(0);
  private volatile Answer answer;

  ControlledRefreshApi(Answer answer) {
    this.answer = answer;
  }

  void answer(Answer answer) {
    this.answer = answer;
  }

  /** Holds every refresh until {@link #release()}. */
  void hold() {
    release = new CountDownLatch(1);
  }

  void release() {
    release.countDown();
  }

  /** Waits until the first refresh has started. */
  void awaitEntered() throws InterruptedException {
    if (!entered.await(30, TimeUnit.SECONDS)) throw new AssertionError("no refresh started");
  }

  @Override
  public Tokens refresh(Tokens current) throws IOException {
    calls.incrementAndGet();
    entered.countDown();
    try {
      if (!release.await(30, TimeUnit.SECONDS)) throw new AssertionError("never released");
    } catch (InterruptedException e) {
      throw new InterruptedIOException();
    }
    return answer.answer(current);
  }
}
