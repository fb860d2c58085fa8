package dev.retrofitauth;

import dev.retrofitauth.internal.Internal;
import java.util.Arrays;
import java.util.List;
import okhttp3.HttpUrl;

/**
 * The origins (scheme, host and port) that may receive the access token. Reads take no lock and
 * allocate nothing; additions copy the small array.
 */
final class Origins {
  private final boolean allowCleartext;
  private volatile HttpUrl[] origins = new HttpUrl[0];

  Origins(List<HttpUrl> configured, boolean allowCleartext) {
    this.allowCleartext = allowCleartext;
    for (HttpUrl url : configured) add(url);
  }

  /** True if the token may go to {@code url}: an allowed origin, and not in clear text. */
  boolean mayReceiveToken(HttpUrl url) {
    return contains(url) && (url.isHttps() || allowCleartext || Internal.isLoopback(url));
  }

  /** Adds the origin of {@code url}, unless it is there already. */
  synchronized void add(HttpUrl url) {
    if (contains(url)) return;
    HttpUrl[] copy = Arrays.copyOf(origins, origins.length + 1);
    copy[origins.length] = url;
    origins = copy;
  }

  boolean contains(HttpUrl url) {
    for (HttpUrl origin : origins) {
      if (origin.port() == url.port()
          && origin.host().equals(url.host())
          && origin.scheme().equals(url.scheme())) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    StringBuilder result = new StringBuilder("[");
    for (HttpUrl origin : origins) {
      if (result.length() > 1) result.append(", ");
      result
          .append(origin.scheme())
          .append("://")
          .append(origin.host())
          .append(':')
          .append(origin.port());
    }
    return result.append(']').toString();
  }
}
