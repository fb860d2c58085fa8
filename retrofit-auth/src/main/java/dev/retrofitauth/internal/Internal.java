package dev.retrofitauth.internal;

import okhttp3.HttpUrl;

/** Not API: what the library's own packages share. It may change or disappear in any release. */
public final class Internal {
  private Internal() {}

  /**
   * Marks the interceptor and the authenticator of a {@code RefreshManager}, so that a helper that
   * derives a client for the token endpoint can remove them by type, which survives R8's renaming
   * and repackaging, instead of by package name.
   */
  public interface AuthComponent {}

  /**
   * Parses {@code url}, which a user configured.
   *
   * @throws IllegalArgumentException if it is not an http or https URL.
   */
  public static HttpUrl parseUrl(String url) {
    HttpUrl parsed = HttpUrl.parse(url);
    if (parsed == null) {
      throw new IllegalArgumentException("url is not an http or https URL: " + url);
    }
    return parsed;
  }

  /** True if {@code component} is a {@code RefreshManager}'s interceptor or authenticator. */
  public static boolean isAuthComponent(Object component) {
    return component instanceof AuthComponent;
  }

  /**
   * True if {@code url}'s host is loopback, the only host that may receive a token in clear text.
   * {@link HttpUrl} normalizes IPv6 literals, so {@code [0:0::1]} arrives here as {@code ::1}.
   */
  public static boolean isLoopback(HttpUrl url) {
    String host = url.host();
    return host.equals("localhost")
        || host.equals("::1")
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
}
