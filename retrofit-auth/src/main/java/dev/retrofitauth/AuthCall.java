package dev.retrofitauth;

import dev.retrofitauth.AuthInterceptor.AuthMark;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import okhttp3.Request;
import okhttp3.RequestBody;
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

  private final RefreshManager manager;
  private final Call<T> delegate;
  private final MethodPolicy.Slot slot;

  private volatile Call<T> attempt;
  private volatile boolean canceled;
  private volatile @Nullable Waiter waiter;
  private volatile int delivered;
  private @Nullable Callback<T> callback;
  private boolean executed; // Guarded by this.

  AuthCall(RefreshManager manager, Call<T> delegate, MethodPolicy.Slot slot) {
    this.manager = manager;
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
    if (!policy.noAuth && manager.mayWaitBeforeSend()) {
      BlockingWaiter beforeSend = new BlockingWaiter(false, policy);
      waiter = beforeSend;
      if (manager.awaitBeforeSend(beforeSend)) {
        cancelIfCanceled(beforeSend);
        beforeSend.await();
        response = beforeSend.response; // In queue mode, the queue has sent it.
      }
    }
    if (response == null) response = send(delegate);
    String sentHeader = refreshableHeader(policy, response);
    if (sentHeader == null) return response;

    BlockingWaiter afterUnauthorized = new BlockingWaiter(true, policy);
    waiter = afterUnauthorized;
    manager.onUnauthorized(sentHeader, afterUnauthorized);
    cancelIfCanceled(afterUnauthorized);
    if (!afterUnauthorized.await()) return response;
    if (afterUnauthorized.response != null) return afterUnauthorized.response;
    manager.countRetry();
    return send(delegate.clone());
  }

  private Response<T> send(Call<T> call) throws IOException {
    attempt = call;
    if (canceled) call.cancel();
    Response<T> response = call.execute();
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
      start(delegate, MethodPolicy.DEFAULT, false, false);
      return;
    }
    if (!policy.noAuth && manager.mayWaitBeforeSend()) {
      AsyncWaiter beforeSend = new AsyncWaiter(false, policy, null);
      waiter = beforeSend;
      if (manager.awaitBeforeSend(beforeSend)) {
        cancelIfCanceled(beforeSend);
        return;
      }
    }
    start(delegate, policy, true, false);
  }

  /**
   * Sends {@code call}. {@code first} is true for the call's first attempt, which may still be
   * refreshed and retried; {@code queued} is true if the retry queue started it and waits to hear
   * that it has finished.
   */
  private void start(Call<T> call, MethodPolicy policy, boolean first, boolean queued) {
    attempt = call;
    if (canceled) call.cancel();
    call.enqueue(
        new Callback<T>() {
          @Override
          public void onResponse(Call<T> call, Response<T> response) {
            if (queued) manager.retryFinished();
            try {
              checkInterceptor(response);
            } catch (IllegalStateException e) {
              deliverFailure(e);
              return;
            }
            String sentHeader = first ? refreshableHeader(policy, response) : null;
            if (sentHeader == null) {
              deliverResponse(response);
              return;
            }
            AsyncWaiter afterUnauthorized = new AsyncWaiter(true, policy, response);
            waiter = afterUnauthorized;
            manager.onUnauthorized(sentHeader, afterUnauthorized);
            cancelIfCanceled(afterUnauthorized);
          }

          @Override
          public void onFailure(Call<T> call, Throwable t) {
            if (queued) manager.retryFinished();
            deliverFailure(t);
          }
        });
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
    MethodPolicy policy = manager.policies.get(request.tag(Invocation.class));
    slot.policy = policy;
    return policy;
  }

  /**
   * Returns the {@code Authorization} header that {@code response}'s request carried if the
   * response is a 401 that a refresh may fix, or null to hand the response over as it is.
   */
  private @Nullable String refreshableHeader(MethodPolicy policy, Response<T> response) {
    if (response.code() != 401 || policy.noAuth || policy.noRetry) return null;
    for (okhttp3.Response prior = response.raw().priorResponse();
        prior != null;
        prior = prior.priorResponse()) {
      if (prior.code() == 401) return null; // auth.authenticator() already retried it once.
    }
    okhttp3.Response network = response.raw().networkResponse();
    if (network == null) return null; // From the cache.
    Request sent = network.request();
    // Withheld on purpose (another origin, cleartext, the caller's own header): not ours to fix.
    if (sent.tag(AuthMark.class) != AuthMark.ATTACHED) return null;
    String header = sent.header(AuthInterceptor.AUTHORIZATION);
    if (header == null) return null; // OkHttp removed it on a redirect to another host.
    RequestBody body = sent.body();
    if (body != null && body.isOneShot()) return null; // It cannot be sent again.
    return header;
  }

  private void checkInterceptor(Response<T> response) {
    okhttp3.Response network = response.raw().networkResponse();
    if (network != null
        && network.request().tag(AuthMark.class) == null
        && manager.currentHeader() != null) {
      throw new IllegalStateException(
          "The request was sent without passing through auth.interceptor(). Add it to the "
              + "OkHttpClient that Retrofit uses: new OkHttpClient.Builder()"
              + ".addInterceptor(auth.interceptor())");
    }
  }

  private void cancelIfCanceled(Waiter waiter) {
    if (canceled && manager.cancel(waiter)) waiter.fail(new IOException("Canceled"));
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
    return new AuthCall<>(manager, delegate.clone(), slot);
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
    void proceed() {
      if (!manager.queueMode) {
        retry = true;
        done.countDown();
        return;
      }
      // Queue mode: the queue sends the call, on OkHttp's dispatcher, and the caller waits for it.
      Call<T> call = delegate;
      if (sent) {
        manager.countRetry();
        call = delegate.clone();
      }
      attempt = call;
      if (canceled) call.cancel();
      call.enqueue(
          new Callback<T>() {
            @Override
            public void onResponse(Call<T> call, Response<T> r) {
              manager.retryFinished();
              response = r;
              retry = true;
              done.countDown();
            }

            @Override
            public void onFailure(Call<T> call, Throwable t) {
              manager.retryFinished();
              failure = t;
              done.countDown();
            }
          });
    }

    @Override
    void passThrough() {
      retry = false;
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
      awaitRelease(done, manager, AuthCall.this::cancel);
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
    void proceed() {
      if (sent) {
        manager.countRetry();
        start(delegate.clone(), policy, false, manager.queueMode);
      } else {
        start(delegate, policy, true, manager.queueMode);
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
