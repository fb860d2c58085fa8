package dev.retrofitauth;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * The waiter of {@code refreshNow()}: waits in the single flight like a call that got a 401 (it
 * joins the running refresh or starts one), and tells the outcome to a {@link RefreshCallback}.
 */
final class RefreshNowWaiter extends Waiter {
  private final Engine engine;
  private final RefreshCallback callback;

  RefreshNowWaiter(Engine engine, RefreshCallback callback) {
    super(true, MethodPolicy.DEFAULT);
    this.engine = engine;
    this.callback = callback;
  }

  @Override
  void proceed(@Nullable Runnable retryEnded) {
    if (retryEnded != null) retryEnded.run(); // There is no call to send.
    Tokens tokens = engine.tokens();
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

  /** A callback for a caller that blocks until the refresh has ended. */
  static final class Blocking implements RefreshCallback {
    final CountDownLatch done = new CountDownLatch(1);
    private @Nullable Tokens tokens;
    private @Nullable IOException failure;

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

    /** After {@link #done} opened: the new tokens, or the failure thrown. */
    Tokens result() throws IOException {
      if (failure != null) throw failure;
      if (tokens == null) throw new AssertionError("refreshNow() ended with neither");
      return tokens;
    }
  }
}
