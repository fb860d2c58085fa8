package dev.retrofitauth;

import dev.retrofitauth.internal.Internal.AuthComponent;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CountDownLatch;
import okhttp3.Authenticator;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.Route;
import org.jspecify.annotations.Nullable;
import retrofit2.Invocation;

/**
 * Answers a 401 inside OkHttp with the manager's shared refresh, for calls that no {@link AuthCall}
 * wraps: plain OkHttp calls such as an image loader's. OkHttp's authenticator API is synchronous,
 * so the calling thread waits for the refresh.
 */
final class AuthAuthenticator implements Authenticator, AuthComponent {
  private final Engine engine;
  private final Unauthorized unauthorized;
  private final MethodPolicy.Cache policies;
  private final boolean hasDpopKey;

  AuthAuthenticator(
      Engine engine, Unauthorized unauthorized, MethodPolicy.Cache policies, boolean hasDpopKey) {
    this.engine = engine;
    this.unauthorized = unauthorized;
    this.policies = policies;
    this.hasDpopKey = hasDpopKey;
  }

  @Override
  public @Nullable Request authenticate(@Nullable Route route, Response response)
      throws IOException {
    Request sent = response.request();
    Response prior = response.priorResponse();
    String retriedWith = sent.header(RequestTags.AUTHORIZATION);
    if (prior != null && prior.code() == 401 && retriedWith != null) {
      engine.retryAnswered(retriedWith, true); // Our retry after a refresh got a 401 again.
    }
    MethodPolicy policy = policies.get(sent.tag(Invocation.class));
    String sentHeader = unauthorized.tokenToRefresh(response, policy);
    if (sentHeader == null) return null;

    Latch waiter = new Latch(policy);
    engine.onUnauthorized(sentHeader, unauthorized.requirements(response), waiter);
    if (!waiter.await()) return null;
    String header = engine.header();
    if (header == null) return null;
    AuthInterceptor.checkProvable(header, hasDpopKey);
    engine.countRetry();
    return sent.newBuilder().header(RequestTags.AUTHORIZATION, header).build();
  }

  @Override
  public String toString() {
    return "RefreshManager.authenticator()";
  }

  /** Blocks OkHttp's thread until the refresh has ended. */
  private final class Latch extends Waiter {
    private final CountDownLatch done = new CountDownLatch(1);
    private boolean retry;
    private @Nullable IOException failure;

    Latch(MethodPolicy policy) {
      super(true, policy);
    }

    @Override
    void proceed(@Nullable Runnable retryEnded) {
      // OkHttp sends the retry itself, out of the queue's sight: give its slot back at once.
      if (retryEnded != null) retryEnded.run();
      retry = true;
      done.countDown();
    }

    @Override
    void passThrough() {
      done.countDown();
    }

    @Override
    void fail(IOException e) {
      failure = e;
      done.countDown();
    }

    boolean await() throws IOException {
      // OkHttp sends the retry itself, after we return: nothing to end after a release.
      engine.awaitRelease(this, done, () -> {});
      IOException e = failure;
      if (e != null && e.getCause() instanceof InterruptedIOException && onOkHttpThread()) {
        // The likeliest reason, named: the refresh waits for the dispatcher slot we hold.
        throw new IOException(
            "Token refresh failed: it did not end within refreshTimeout while"
                + " auth.authenticator() held this request's OkHttp dispatcher thread. A RefreshApi"
                + " that enqueue()s on the same OkHttpClient waits for that thread's slot: call"
                + " execute() in it, or go through a Retrofit with AuthCallAdapterFactory.",
            e.getCause());
      }
      if (e != null) throw e;
      return retry;
    }

    /** True on a thread that runs an asynchronous OkHttp call, which OkHttp names so. */
    private boolean onOkHttpThread() {
      return Thread.currentThread().getName().startsWith("OkHttp ");
    }
  }
}
