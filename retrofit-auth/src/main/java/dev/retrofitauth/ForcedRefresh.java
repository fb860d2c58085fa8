package dev.retrofitauth;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * A refresh the app asked for, waiting in the single flight like a call that got a 401: it joins
 * the running refresh or starts one, and hears the outcome as a {@link RefreshCallback}.
 */
final class ForcedRefresh extends Waiter {
  private final SingleFlight engine;
  private final RefreshCallback callback;

  ForcedRefresh(SingleFlight engine, RefreshCallback callback) {
    super(true, MethodPolicy.DEFAULT);
    this.engine = engine;
    this.callback = callback;
  }

  /** Refreshes and blocks until the refresh has ended; returns the new tokens. */
  static Tokens await(SingleFlight engine) throws IOException {
    Blocking blocking = new Blocking();
    ForcedRefresh waiter = new ForcedRefresh(engine, blocking);
    engine.refreshNow(waiter);
    waiter.awaitRelease(blocking.done, engine, () -> {});
    if (blocking.failure != null) throw blocking.failure;
    return blocking.tokens;
  }

  @Override
  void proceed(@Nullable RetryQueue slot) {
    if (slot != null) slot.retryFinished(); // There is no call to send.
    Tokens tokens = engine.session.tokens();
    if (tokens != null) {
      callback.onRefreshed(tokens);
    } else {
      callback.onFailure(new IOException("the refresh ended signed out"));
    }
  }

  @Override
  void passThrough() {
    callback.onFailure(
        new IOException(
            "the refresh ended without tokens: the server rejected it, the app signed out, or"
                + " there is no RefreshApi, TokenSource or refresh token to refresh with"));
  }

  @Override
  void fail(IOException e) {
    callback.onFailure(e);
  }

  /** Holds the outcome for a caller that blocks. */
  private static final class Blocking implements RefreshCallback {
    final CountDownLatch done = new CountDownLatch(1);
    @Nullable Tokens tokens;
    @Nullable IOException failure;

    @Override
    public void onRefreshed(Tokens tokens) {
      this.tokens = tokens;
      done.countDown();
    }

    @Override
    public void onFailure(IOException e) {
      failure = e;
      done.countDown();
    }
  }
}
