package dev.retrofitauth;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Request;
import okio.Timeout;
import org.jspecify.annotations.Nullable;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Invocation;
import retrofit2.Response;

/**
 * A call of a {@link SessionRegistry}: when it is executed it picks its session from its request,
 * keeps the session pinned until the call ends, and runs as that session's {@link AuthCall}.
 */
final class RoutedCall<T> implements Call<T> {
  private final Router router;
  private final Call<T> delegate;
  private final MethodPolicy.Slot slot;

  private final AtomicBoolean released = new AtomicBoolean();
  private volatile @Nullable Call<T> routed;
  private volatile boolean canceled;
  private boolean executed; // Guarded by this.

  RoutedCall(Router router, Call<T> delegate, MethodPolicy.Slot slot) {
    this.router = router;
    this.delegate = delegate;
    this.slot = slot;
  }

  @Override
  public Response<T> execute() throws IOException {
    markExecuted();
    Request request = requestOrNull();
    if (request == null) return use(delegate).execute(); // Let Retrofit say why.
    SessionEntry entry = router.route(request, policy(request));
    if (entry == null) return use(delegate).execute();
    try {
      return use(entry.manager().wrap(delegate, slot)).execute();
    } finally {
      entry.unpin();
    }
  }

  @Override
  public void enqueue(Callback<T> callback) {
    if (callback == null) throw new NullPointerException("callback == null");
    markExecuted();
    Request request = requestOrNull();
    SessionEntry entry;
    try {
      entry = request != null ? router.route(request, policy(request)) : null;
    } catch (IOException | RuntimeException e) {
      callback.onFailure(this, e); // As Retrofit reports a request it cannot build.
      return;
    }
    if (entry == null) {
      use(delegate).enqueue(new Forward(callback, null));
      return;
    }
    try {
      use(entry.manager().wrap(delegate, slot)).enqueue(new Forward(callback, entry));
    } catch (RuntimeException | Error e) {
      release(entry);
      throw e;
    }
  }

  /** The method's policy: read once per method into its slot, and marked as routed. */
  private MethodPolicy policy(Request request) {
    MethodPolicy policy = slot.routed;
    Invocation invocation = request.tag(Invocation.class);
    if (policy == null
        || invocation == null
        || invocation.service() != invocation.method().getDeclaringClass()) {
      policy = router.policyOf(request); // Checks what an inherited method may not have.
      policy.routed = true;
      slot.routed = policy;
    }
    return policy;
  }

  private @Nullable Request requestOrNull() {
    try {
      return delegate.request();
    } catch (RuntimeException e) {
      return null; // The request can't be built: executing the call reports why.
    }
  }

  private synchronized void markExecuted() {
    if (executed) throw new IllegalStateException("Already executed.");
    executed = true;
  }

  /** Makes {@code call} the one this call runs as, canceled at once if this call was. */
  private Call<T> use(Call<T> call) {
    routed = call;
    if (canceled) call.cancel();
    return call;
  }

  @Override
  public synchronized boolean isExecuted() {
    return executed;
  }

  @Override
  public void cancel() {
    canceled = true;
    Call<T> call = routed;
    if (call != null) {
      call.cancel();
    } else {
      delegate.cancel();
    }
  }

  @Override
  public boolean isCanceled() {
    if (canceled) return true;
    Call<T> call = routed;
    return call != null && call.isCanceled();
  }

  @Override
  public Call<T> clone() {
    return new RoutedCall<>(router, delegate.clone(), slot);
  }

  @Override
  public Request request() {
    return delegate.request();
  }

  @Override
  public Timeout timeout() {
    return delegate.timeout();
  }

  /** Unpins {@code entry} once, however many ways the call ends. */
  private void release(@Nullable SessionEntry entry) {
    if (entry != null && released.compareAndSet(false, true)) entry.unpin();
  }

  /** Hands the outcome to the app's callback as this call's, after unpinning the session. */
  private final class Forward implements Callback<T> {
    private final Callback<T> callback;
    private final @Nullable SessionEntry entry;

    Forward(Callback<T> callback, @Nullable SessionEntry entry) {
      this.callback = callback;
      this.entry = entry;
    }

    @Override
    public void onResponse(Call<T> call, Response<T> response) {
      release(entry);
      callback.onResponse(RoutedCall.this, response);
    }

    @Override
    public void onFailure(Call<T> call, Throwable t) {
      release(entry);
      callback.onFailure(RoutedCall.this, t);
    }
  }
}
