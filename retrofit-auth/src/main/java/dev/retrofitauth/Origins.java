package dev.retrofitauth;

import java.util.Arrays;
import okhttp3.HttpUrl;

/**
 * The origins (scheme, host and port) that may receive the access token. Reads take no lock and
 * allocate nothing; additions copy the small array.
 */
final class Origins {
  private volatile HttpUrl[] origins = new HttpUrl[0];

  /** Adds the origin of {@code url}. Returns false if it was there already. */
  synchronized boolean add(HttpUrl url) {
    if (contains(url)) return false;
    HttpUrl[] copy = Arrays.copyOf(origins, origins.length + 1);
    copy[origins.length] = url;
    origins = copy;
    return true;
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

  /** True if the token may go to {@code url} in clear text: only loopback qualifies. */
  static boolean isLoopback(HttpUrl url) {
    String host = url.host();
    return host.equals("localhost")
        || host.equals("::1")
        || host.equals("0:0:0:0:0:0:0:1")
        || (host.startsWith("127.") && isIpv4Literal(host));
  }

  private static boolean isIpv4Literal(String host) {
    int dots = 0;
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (c == '.') {
        dots++;
      } else if (c < '0' || c > '9') {
        return false;
      }
    }
    return dots == 3;
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
