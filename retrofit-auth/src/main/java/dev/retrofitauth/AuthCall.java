package dev.retrofitauth;

import dev.retrofitauth.RequestTags.AuthMark;
import dev.retrofitauth.RequestTags.RuleMatch;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import okhttp3.Request;
import okio.Timeout;
import org.jspecify.annotations.Nullable;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Invocation;
import retrofit2.Response;

/**
 * Wraps a Retrofit call: waits for a running refresh before it is sent, and after a 401 waits for
 * the shared refresh and sends a clone of the call, once.
 */
final class AuthCall<T> implements Call<T> {
  private static final AtomicIntegerFieldUpdater<AuthCall<?>> DELIVERED = newUpdater();

  @SuppressWarnings({"unchecked", "rawtypes"}) // The updater's type cannot name AuthCall<?>.
  private static AtomicIntegerFieldUpdater<AuthCall<?>> newUpdater() {
    return (AtomicIntegerFieldUpdater)
        AtomicIntegerFieldUpdater.newUpdater(AuthCall.class, "delivered");
  }

  private final Engine engine;
  private final Unauthorized unauthorized;
  private final MethodPolicy.Cache policies;
  private final Call<T> delegate;
  private final MethodPolicy.Slot slot;

  private volatile Call<T> attempt;
  private volatile boolean canceled;
  private volatile @Nullable Waiter waiter;
  private volatile int delivered;
  private @Nullable Callback<T> callback;
  private boolean executed; // Guarded by this.

  AuthCall(
      Engine engine,
      Unauthorized unauthorized,
      MethodPolicy.Cache policies,
      Call<T> delegate,
      MethodPolicy.Slot slot) {
    this.engine = engine;
    this.unauthorized = unauthorized;
    this.policies = policies;
    this.delegate = delegate;
    this.slot = slot;
    this.attempt = delegate;
  }

  @Override
  public Response<T> execute() throws IOException {
    markExecuted();
    MethodPolicy policy = policy();
    if (policy == null) {
      return delegate.execute(); // The request can't be built: let Retrofit say why.
    }
    Response<T> response = null;
    if (!policy.noAuth && engine.mayWaitBeforeSend()) {
      BlockingWaiter beforeSend = new BlockingWaiter(false, policy);
      waiter = beforeSend;
      if (engine.awaitBeforeSend(beforeSend)) {
        cancelIfCanceled(beforeSend);
        beforeSend.await(); // Throws if the call fails; an unsent call is never passed through.
        response = beforeSend.response; // In queue mode, the queue has sent it.
      }
    }
    if (response == null) response = send(delegate);
    String sentHeader = unauthorized.tokenToRefresh(response.raw(), policy);
    if (sentHeader == null) return response;

    BlockingWaiter afterUnauthorized = new BlockingWaiter(true, policy);
    waiter = afterUnauthorized;
    engine.onUnauthorized(sentHeader, unauthorized.requirements(response.raw()), afterUnauthorized);
    cancelIfCanceled(afterUnauthorized);
    if (!afterUnauthorized.await()) return response;
    Response<T> retried = afterUnauthorized.response; // In queue mode, the queue has sent it.
    if (retried == null) {
      engine.countRetry();
      retried = send(delegate.clone());
    }
    reportRetry(retried);
    return retried;
  }

  private Response<T> send(Call<T> call) throws IOException {
    Response<T> response = use(call).execute();
    checkInterceptor(response);
    return response;
  }

  @Override
  public void enqueue(Callback<T> callback) {
    if (callback == null) throw new NullPointerException("callback == null");
    markExecuted();
    this.callback = callback;
    MethodPolicy policy = policy();
    if (policy == null) {
      // The request can't be built: let Retrofit say why.
      start(delegate, MethodPolicy.DEFAULT, false, null);
      return;
    }
    if (engine.onRefreshThread()) {
      // The RefreshApi enqueued this call. Run it here: the refresh thread may block, while on
      // OkHttp's dispatcher it could wait forever for a slot that calls waiting for this very
      // refresh hold (auth.authenticator() parks them there).
      Response<T> response;
      try {
        response = send(delegate);
      } catch (IOException | RuntimeException e) {
        deliverFailure(e);
        return;
      }
      deliverResponse(response);
      return;
    }
    if (!policy.noAuth && engine.mayWaitBeforeSend()) {
      AsyncWaiter beforeSend = new AsyncWaiter(false, policy, null);
      waiter = beforeSend;
      if (engine.awaitBeforeSend(beforeSend)) {
        cancelIfCanceled(beforeSend);
        return;
      }
    }
    start(delegate, policy, true, null);
  }

  /**
   * Sends {@code call} on OkHttp's dispatcher. {@code first} is true for the call's first attempt,
   * which may still be refreshed and retried; in queue mode it holds a retry slot, and {@code
   * retryEnded} gives it back.
   */
  private void start(
      Call<T> call, MethodPolicy policy, boolean first, @Nullable Runnable retryEnded) {
    use(call)
        .enqueue(
            new Callback<T>() {
              @Override
              public void onResponse(Call<T> call, Response<T> response) {
                if (retryEnded != null) retryEnded.run();
                try {
                  checkInterceptor(response);
                } catch (IllegalStateException e) {
                  deliverFailure(e);
                  return;
                }
                if (!first) reportRetry(response);
                String sentHeader =
                    first ? unauthorized.tokenToRefresh(response.raw(), policy) : null;
                if (sentHeader == null) {
                  deliverResponse(response);
                  return;
                }
                AsyncWaiter afterUnauthorized = new AsyncWaiter(true, policy, response);
                waiter = afterUnauthorized;
                engine.onUnauthorized(
                    sentHeader, unauthorized.requirements(response.raw()), afterUnauthorized);
                cancelIfCanceled(afterUnauthorized);
              }

              @Override
              public void onFailure(Call<T> call, Throwable t) {
                if (retryEnded != null) retryEnded.run();
                deliverFailure(t);
              }
            });
  }

  /**
   * Tells the engine how the retry after a refresh was answered: with a 401 again (or what the
   * {@link RefreshRule} names), or not. A refresh that never fixes the 401 then stops being tried.
   */
  private void reportRetry(Response<T> response) {
    okhttp3.Response network = response.raw().networkResponse();
    if (network == null || network.request().tag(AuthMark.class) != AuthMark.ATTACHED) return;
    String sentHeader = network.request().header(RequestTags.AUTHORIZATION);
    if (sentHeader == null) return;
    boolean again = response.code() == 401 || response.raw().request().tag(RuleMatch.class) != null;
    engine.retryAnswered(sentHeader, again);
  }

  /** Makes {@code call} the current attempt, canceled at once if this call was. */
  private Call<T> use(Call<T> call) {
    attempt = call;
    if (canceled) call.cancel();
    return call;
  }

  private void deliverResponse(Response<T> response) {
    if (!DELIVERED.compareAndSet(this, 0, 1)) return; // Do not signal the callback twice!
    callback.onResponse(this, response);
  }

  private void deliverFailure(Throwable t) {
    if (!DELIVERED.compareAndSet(this, 0, 1)) return; // Do not signal the callback twice!
    callback.onFailure(this, t);
  }

  /** Returns the policy of the service method, or null if the request cannot be built. */
  private @Nullable MethodPolicy policy() {
    MethodPolicy known = slot.policy;
    if (known != null) return known; // A waiting call then holds no request it did not build.
    Request request;
    try {
      request = delegate.request();
    } catch (RuntimeException e) {
      return null;
    }
    MethodPolicy policy = policies.get(request.tag(Invocation.class));
    policy.wrapped = true;
    slot.policy = policy;
    return policy;
  }

  private void checkInterceptor(Response<T> response) {
    okhttp3.Response network = response.raw().networkResponse();
    if (network != null
        && network.request().tag(AuthMark.class) == null
        && engine.header() != null) {
      throw new IllegalStateException(
          "The request was sent without passing through auth.interceptor(). Add it to the "
              + "OkHttpClient that Retrofit uses: new OkHttpClient.Builder()"
              + ".addInterceptor(auth.interceptor())");
    }
  }

  private void cancelIfCanceled(Waiter waiter) {
    if (canceled) engine.cancel(waiter, new IOException("Canceled"));
  }

  private synchronized void markExecuted() {
    if (executed) throw new IllegalStateException("Already executed.");
    executed = true;
  }

  @Override
  public synchronized boolean isExecuted() {
    return executed;
  }

  @Override
  public void cancel() {
    canceled = true;
    attempt.cancel();
    Waiter waiting = waiter;
    if (waiting != null) cancelIfCanceled(waiting);
  }

  @Override
  public boolean isCanceled() {
    return canceled || attempt.isCanceled();
  }

  @Override
  public AuthCall<T> clone() {
    return new AuthCall<>(engine, unauthorized, policies, delegate.clone(), slot);
  }

  @Override
  public Request request() {
    return attempt.request();
  }

  @Override
  public Timeout timeout() {
    return attempt.timeout();
  }

  @Override
  public String toString() {
    return "AuthCall{" + delegate + "}";
  }

  /** Parks the thread of a synchronous call until the refresh it waits for has ended. */
  private final class BlockingWaiter extends Waiter {
    private final CountDownLatch done = new CountDownLatch(1);
    private boolean retry;
    private @Nullable Throwable failure;

    /** In queue mode, the response of the attempt that the queue sent. */
    @Nullable Response<T> response;

    BlockingWaiter(boolean sent, MethodPolicy policy) {
      super(sent, policy);
    }

    @Override
    void proceed(@Nullable Runnable retryEnded) {
      if (retryEnded == null) {
        retry = true;
        done.countDown();
        return;
      }
      // Queue mode: the queue sends the call, on OkHttp's dispatcher, and the caller waits for it.
      Call<T> call = delegate;
      if (sent) {
        engine.countRetry();
        call = delegate.clone();
      }
      use(call)
          .enqueue(
              new Callback<T>() {
                @Override
                public void onResponse(Call<T> call, Response<T> r) {
                  retryEnded.run();
                  response = r;
                  retry = true;
                  done.countDown();
                }

                @Override
                public void onFailure(Call<T> call, Throwable t) {
                  retryEnded.run();
                  failure = t;
                  done.countDown();
                }
              });
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

    /**
     * Returns true to send the call (again), or to return {@link #response} if the queue sent it;
     * false to return the response the caller already has.
     */
    boolean await() throws IOException {
      engine.awaitRelease(this, done, AuthCall.this::cancel);
      // The latch's happens-before edge makes the fields written before countDown() visible.
      Throwable t = failure;
      if (t instanceof IOException) throw (IOException) t;
      if (t instanceof RuntimeException) throw (RuntimeException) t;
      if (t instanceof Error) throw (Error) t;
      if (t != null) throw new IOException(t);
      Response<T> queued = response;
      if (queued != null) checkInterceptor(queued);
      return retry;
    }
  }

  /** Continues an asynchronous call when the refresh it waits for has ended. */
  private final class AsyncWaiter extends Waiter {
    private final @Nullable Response<T> unauthorized;

    AsyncWaiter(boolean sent, MethodPolicy policy, @Nullable Response<T> unauthorized) {
      super(sent, policy);
      this.unauthorized = unauthorized;
    }

    @Override
    void proceed(@Nullable Runnable retryEnded) {
      if (sent) {
        engine.countRetry();
        start(delegate.clone(), policy, false, retryEnded);
      } else {
        start(delegate, policy, true, retryEnded);
      }
    }

    @Override
    void passThrough() {
      deliverResponse(unauthorized);
    }

    @Override
    void fail(IOException e) {
      deliverFailure(e);
    }
  }
}
