package dev.retrofitauth;

import java.io.IOException;
import okhttp3.Response;

/**
 * Recognizes an expired access token in a response that is not a 401, for APIs that say so another
 * way: a 403 with an error code in its body, a 498 or 440, or a GraphQL error in a 200. Install it
 * with {@link RefreshManager.Builder#refreshWhen}; a response it names is then refreshed and
 * retried once, exactly like a 401. 401s are refreshed whatever it says.
 *
 * <pre>{@code
 * RefreshRule rule = response -> response.code() == 403
 *     && response.body().string().contains("\"code\":\"token_expired\"");
 * }</pre>
 */
public interface RefreshRule {
  /**
   * Returns true if {@code response} means that the access token it was sent with has expired. Its
   * status and headers are the real ones; its body is a copy of at most the first 8 KiB, which the
   * rule may read: the caller still gets the whole body.
   */
  boolean tokenExpired(Response response) throws IOException;
}
