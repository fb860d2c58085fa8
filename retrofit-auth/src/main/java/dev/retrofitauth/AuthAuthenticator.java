package dev.retrofitauth;

import dev.retrofitauth.AuthInterceptor.AuthMark;
import dev.retrofitauth.internal.Internal.AuthComponent;
import java.io.IOException;
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
  private final RefreshManager manager;

  AuthAuthenticator(RefreshManager manager) {
    this.manager = manager;
  }

  @Override
  public @Nullable Request authenticate(@Nullable Route route, Response response)
      throws IOException {
    if (response.code() != 401) return null; // A proxy's 407 is not ours.
    for (Response prior = response.priorResponse(); prior != null; prior = prior.priorResponse()) {
      if (prior.code() == 401) return null; // One retry per call.
    }
    Request sent = response.request();
    if (sent.tag(AuthMark.class) != AuthMark.ATTACHED) return null; // Not sent with our token.
    String sentHeader = sent.header(AuthInterceptor.AUTHORIZATION);
    if (sentHeader == null || !manager.mayReceiveToken(sent.url())) return null;
    MethodPolicy policy = manager.policies.get(sent.tag(Invocation.class));
    if (policy.noAuth || policy.noRetry) return null;

    Latch waiter = new Latch(policy);
    manager.onUnauthorized(sentHeader, waiter);
    if (!waiter.await()) return null;
    String header = manager.currentHeader();
    if (header == null) return null;
    manager.countRetry();
    return sent.newBuilder().header(AuthInterceptor.AUTHORIZATION, header).build();
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
    void proceed() {
      // OkHttp sends the retry itself, out of the queue's sight: give its slot back at once.
      if (manager.queueMode) manager.retryFinished();
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
      awaitRelease(done, manager, () -> {}); // OkHttp sends the retry itself, after we return.
      if (failure != null) throw failure;
      return retry;
    }
  }
}
