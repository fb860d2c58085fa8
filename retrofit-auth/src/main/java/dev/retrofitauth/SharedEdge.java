package dev.retrofitauth;

import java.util.Arrays;
import okhttp3.HttpUrl;

/**
 * What the edge of a {@link SessionRegistry} learns once and every session of it must know: the
 * origins its factories serve, whether its authenticator was handed out, and the rules of the
 * service methods, read once for all sessions. A keyed session built later gets them too.
 */
final class SharedEdge {
  final MethodPolicy.Cache policies = new MethodPolicy.Cache();
  private volatile HttpUrl[] served = new HttpUrl[0];
  private volatile boolean authenticatorInUse;

  /**
   * Records that a factory serves {@code baseUrl}; returns false if its origin was known, else the
   * caller tells the sessions that exist.
   */
  synchronized boolean servedBy(HttpUrl baseUrl) {
    for (HttpUrl known : served) {
      if (known.scheme().equals(baseUrl.scheme())
          && known.host().equals(baseUrl.host())
          && known.port() == baseUrl.port()) {
        return false;
      }
    }
    HttpUrl[] copy = Arrays.copyOf(served, served.length + 1);
    copy[served.length] = baseUrl;
    served = copy;
    return true;
  }

  /** Records that the authenticator was handed out; the caller tells the sessions that exist. */
  void authenticatorInUse() {
    authenticatorInUse = true;
  }

  /**
   * Tells a session built just now what the edge learned so far. A fact learned meanwhile reaches
   * it either here or through the caller of {@link #servedBy}, which sees it once it is published.
   */
  void apply(RefreshManager session) {
    for (HttpUrl baseUrl : served) session.servedBy(baseUrl);
    if (authenticatorInUse) session.authenticator();
  }
}
