package dev.retrofitauth;

import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import retrofit2.Call;
import retrofit2.CallAdapter;
import retrofit2.Retrofit;

/**
 * A call adapter factory that gives every service method of a Retrofit instance a refresh on 401
 * and one retry, whatever its return type: {@code Call}, {@code CompletableFuture}, RxJava, Kotlin
 * {@code suspend} functions and any other adapter.
 *
 * <pre>{@code
 * Retrofit retrofit = new Retrofit.Builder()
 *     .baseUrl("https://api.example.com/")
 *     .client(client) // with auth.interceptor()
 *     .addCallAdapterFactory(AuthCallAdapterFactory.create(auth)) // first
 *     .addCallAdapterFactory(RxJava3CallAdapterFactory.create())
 *     .build();
 * }</pre>
 *
 * <p>It wraps the {@link Call} that the next adapter receives, so it must be added before any other
 * call adapter factory. It also allows the origin of the Retrofit instance's base URL to receive
 * the access token.
 */
public final class AuthCallAdapterFactory extends CallAdapter.Factory {
  private final CallWrapper wrapper;

  private AuthCallAdapterFactory(CallWrapper wrapper) {
    this.wrapper = wrapper;
  }

  /** Returns a factory whose calls refresh through {@code manager}. */
  public static AuthCallAdapterFactory create(RefreshManager manager) {
    return new AuthCallAdapterFactory(Objects.requireNonNull(manager, "manager == null").wrapper());
  }

  /**
   * Returns a factory whose calls each use the session that {@code registry} picks for them: by the
   * method's {@link Credential}, and for a keyed credential by the call's key.
   */
  public static AuthCallAdapterFactory create(SessionRegistry registry) {
    return new AuthCallAdapterFactory(
        Objects.requireNonNull(registry, "registry == null").wrapper());
  }

  @Override
  public @Nullable CallAdapter<?, ?> get(
      Type returnType, Annotation[] annotations, Retrofit retrofit) {
    checkOrder(retrofit);
    wrapper.servedBy(retrofit.baseUrl());
    CallAdapter<?, ?> next;
    try {
      next = retrofit.nextCallAdapter(this, returnType, annotations);
    } catch (IllegalArgumentException e) {
      return null; // No one handles this type: Retrofit reports it with the full list of factories.
    }
    return new AuthCallAdapter<>(wrapper, next);
  }

  /**
   * Fails if an adapter factory that never delegates, such as RxJava's, comes before this one: it
   * would take its return types and the calls would never be wrapped.
   */
  private void checkOrder(Retrofit retrofit) {
    List<CallAdapter.Factory> factories = retrofit.callAdapterFactories();
    for (CallAdapter.Factory factory : factories) {
      if (factory == this) return;
      String name = factory.getClass().getName();
      if (name.startsWith("retrofit2.adapter.")) {
        throw new IllegalStateException(
            MethodPolicy.notWrappedMessage(factory.getClass().getSimpleName()));
      }
    }
  }

  @Override
  public String toString() {
    return "AuthCallAdapterFactory";
  }

  private static final class AuthCallAdapter<R, T> implements CallAdapter<R, T> {
    private final CallWrapper wrapper;
    private final CallAdapter<R, T> next;
    // Retrofit asks for one adapter per service method.
    private final MethodPolicy.Slot slot = new MethodPolicy.Slot();

    @SuppressWarnings("unchecked") // The next adapter was found for the same return type.
    AuthCallAdapter(CallWrapper wrapper, CallAdapter<?, ?> next) {
      this.wrapper = wrapper;
      this.next = (CallAdapter<R, T>) next;
    }

    @Override
    public Type responseType() {
      return next.responseType();
    }

    @Override
    public T adapt(Call<R> call) {
      return next.adapt(wrapper.wrap(call, slot));
    }
  }
}
