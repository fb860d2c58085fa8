package dev.retrofitauth;

import dev.retrofitauth.internal.Internal.AuthComponent;
import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;
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

  /** Returns the header value to send with {@code request}, or null to send none. */
  private @org.jspecify.annotations.Nullable String headerFor(Request request) {
    if (request.header(AUTHORIZATION) != null) return null; // The caller set its own.
    if (manager.policies.get(request.tag(Invocation.class)).noAuth) return null;
    if (!manager.mayReceiveToken(request.url())) return null;
    return manager.engine.session.header();
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
