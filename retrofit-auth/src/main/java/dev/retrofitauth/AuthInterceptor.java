package dev.retrofitauth;

import dev.retrofitauth.internal.Internal.AuthComponent;
import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import retrofit2.Invocation;

/**
 * Adds {@code Authorization: Bearer <access token>} to requests for allowed origins, and marks
 * every request it handles so that {@link AuthCall} can tell a withheld token from a missing
 * interceptor.
 */
final class AuthInterceptor implements Interceptor, AuthComponent {
  static final String AUTHORIZATION = "Authorization";

  private final RefreshManager manager;

  AuthInterceptor(RefreshManager manager) {
    this.manager = manager;
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    if (chain.connection() != null) {
      // As a network interceptor it would add the token again after OkHttp removed it from a
      // redirect to another host.
      throw new IllegalStateException(
          "auth.interceptor() was added as a network interceptor. Add it with "
              + "OkHttpClient.Builder.addInterceptor(auth.interceptor()) instead of "
              + "addNetworkInterceptor(...).");
    }
    Request request = chain.request();
    String header = headerFor(request);
    Request.Builder builder = request.newBuilder();
    if (header != null) {
      builder.header(AUTHORIZATION, header).tag(AuthMark.class, AuthMark.ATTACHED);
    } else {
      builder.tag(AuthMark.class, AuthMark.WITHHELD);
    }
    return chain.proceed(builder.build());
  }

  /**
   * Returns the header value to send with {@code request}, or null to send none. Throws when the
   * request was meant to carry the token but may not, so that the caller learns why and how to fix
   * it instead of seeing a bare 401.
   */
  private @Nullable String headerFor(Request request) throws IOException {
    if (request.header(AUTHORIZATION) != null) return null; // The caller set its own.
    Invocation invocation = request.tag(Invocation.class);
    MethodPolicy policy = manager.policies.get(invocation);
    if (policy.noAuth) return null;
    String header = manager.engine.session.header();
    if (header == null) return null; // Signed out.
    String withheld = manager.origins.withheldReason(request.url());
    if (withheld != null) throw new IOException(withheld);
    if (!manager.origins.mayReceiveToken(request.url())) return null; // Another origin, on purpose.
    if (invocation != null
        && !policy.wrapped
        && !policy.noRetry
        && manager.origins.expectsWrappedCalls()) {
      throw new IOException(
          AuthCallAdapterFactory.orderMessage("any other call adapter factory")
              + " The call to "
              + policy.methodName()
              + "() reached auth.interceptor() without it (mark the method @NoAuth if it must not"
              + " carry the token).");
    }
    return header;
  }

  @Override
  public String toString() {
    return "RefreshManager.interceptor()";
  }

  /** The request tag that says the interceptor handled a request, and what it did. */
  enum AuthMark {
    ATTACHED,
    WITHHELD
  }
}
