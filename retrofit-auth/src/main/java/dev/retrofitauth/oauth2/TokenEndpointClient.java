package dev.retrofitauth.oauth2;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import dev.retrofitauth.internal.Internal;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.Authenticator;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import org.jspecify.annotations.Nullable;

/**
 * The client that sends the helpers' requests (token, discovery, revocation): a copy of the app's
 * client, so that its TLS, proxy, DNS, connection pool, timeouts and interceptors apply (apps add a
 * User-Agent, a gateway key or a tracing header there), without retrofit-auth's interceptors and
 * authenticator, without redirects, and with a call timeout. An app's logging interceptor sees the
 * client secret and the tokens in these requests: the helpers' Javadoc and the README say so.
 * Immutable and thread-safe.
 */
final class TokenEndpointClient {
  /**
   * The most of a response body that is read. A token response is a few kilobytes, and it is held
   * in memory whole; a larger body is a broken or hostile server.
   */
  static final long MAX_BODY_BYTES = 1024 * 1024;

  /**
   * The longest a helper's call may take, start to end, unless the app's client sets a shorter call
   * timeout: OkHttp's read timeout alone never ends a body sent one byte at a time.
   */
  static final long CALL_TIMEOUT_SECONDS = 30;

  /** What messages call the endpoint that token requests go to. */
  static final String TOKEN_ENDPOINT = "the token endpoint";

  private final OkHttpClient client;

  TokenEndpointClient(OkHttpClient appClient) {
    this.client = derive(appClient);
  }

  /**
   * Returns a copy of {@code client} without retrofit-auth's interceptors and authenticator: the
   * refresh request must never carry the access token, nor wait for the refresh it is part of. It
   * does not follow redirects: the refresh token and the client secret go to the configured
   * endpoint and nowhere else.
   */
  /** The derived client, for tests. */
  OkHttpClient client() {
    return client;
  }

  private static OkHttpClient derive(OkHttpClient client) {
    OkHttpClient.Builder builder =
        client.newBuilder().followRedirects(false).followSslRedirects(false);
    removeAuth(builder.interceptors());
    removeAuth(builder.networkInterceptors());
    if (Internal.isAuthComponent(client.authenticator())) {
      builder.authenticator(Authenticator.NONE);
    }
    long appTimeout = client.callTimeoutMillis();
    long limit = TimeUnit.SECONDS.toMillis(CALL_TIMEOUT_SECONDS);
    builder.callTimeout(appTimeout > 0 && appTimeout < limit ? appTimeout : limit, MILLISECONDS);
    return builder.build();
  }

  private static void removeAuth(List<Interceptor> interceptors) {
    for (Iterator<Interceptor> i = interceptors.iterator(); i.hasNext(); ) {
      if (Internal.isAuthComponent(i.next())) i.remove();
    }
  }

  /**
   * Sends {@code request} to {@code endpoint} ("the token endpoint"), refusing a redirect, so that
   * {@code secrets} ("the client's credentials") go nowhere else. The caller closes the response.
   *
   * @throws IOException if the call failed, the HTTP client threw a {@link RuntimeException}, or
   *     the endpoint answered with a redirect.
   */
  Response execute(Request request, String endpoint, String secrets) throws IOException {
    return refuseRedirect(send(request, endpoint), endpoint, secrets);
  }

  /**
   * Returns {@code response}, or closes it and throws if it is a redirect: this client does not
   * follow one, so that {@code secrets} go only to {@code endpoint}.
   */
  static Response refuseRedirect(Response response, String endpoint, String secrets)
      throws IOException {
    int code = response.code();
    if (code >= 300 && code < 400) {
      response.close();
      throw new IOException(
          endpoint
              + " redirected (HTTP "
              + code
              + "): this helper does not follow redirects, so that "
              + secrets
              + " go only to the configured endpoint; configure the final URL");
    }
    return response;
  }

  /**
   * Sends {@code request} and returns whatever {@code endpoint} answered, a redirect included. The
   * caller closes the response.
   *
   * @throws IOException if the call failed, or the HTTP client threw a {@link RuntimeException}.
   */
  Response send(Request request, String endpoint) throws IOException {
    try {
      return client.newCall(request).execute();
    } catch (RuntimeException e) {
      // OkHttp itself throws NumberFormatException for a 503 whose Retry-After exceeds an int,
      // and an app's interceptor may throw anything. Either way the call failed, for now.
      throw new IOException(
          "the call to "
              + endpoint
              + " failed inside the HTTP client ("
              + e.getClass().getSimpleName()
              + ")",
          e);
    }
  }

  /**
   * Returns the whole body of {@code response}, or null if it is larger than {@link
   * #MAX_BODY_BYTES}. A larger body is not read to its end: at most {@code MAX_BODY_BYTES} and one
   * segment are. The thread's interrupt ends a read that waits for a slow body, with an {@link
   * java.io.InterruptedIOException}.
   */
  static @Nullable Buffer readBody(Response response) throws IOException {
    ResponseBody body = response.body();
    if (body == null) return new Buffer();
    if (body.contentLength() > MAX_BODY_BYTES) return null;
    BufferedSource source = body.source();
    if (source.request(MAX_BODY_BYTES + 1)) return null;
    return source.getBuffer();
  }
}
