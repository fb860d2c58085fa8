package dev.retrofitauth;

import dev.retrofitauth.internal.Internal;
import java.util.Arrays;
import java.util.List;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * The origins (scheme, host and port) that may receive the access token. Reads take no lock and
 * allocate nothing; additions copy the small array.
 */
final class Origins {
  private final boolean allowCleartext;
  private volatile HttpUrl[] origins = new HttpUrl[0];
  // Set once: a factory adapted a call, and the authenticator was handed out.
  private volatile boolean factoryInUse;
  private volatile boolean authenticatorInUse;

  Origins(List<HttpUrl> configured, boolean allowCleartext) {
    this.allowCleartext = allowCleartext;
    for (HttpUrl url : configured) add(url);
  }

  /** An {@link AuthCallAdapterFactory} serves a Retrofit with {@code baseUrl}: allow its origin. */
  void factoryServes(HttpUrl baseUrl) {
    factoryInUse = true;
    add(baseUrl);
  }

  void authenticatorInUse() {
    authenticatorInUse = true;
  }

  /** True if an {@link AuthCallAdapterFactory} has adapted a call of this manager. */
  boolean factoryInUse() {
    return factoryInUse;
  }

  /** True if the app took {@code auth.authenticator()}, which refreshes calls no factory wraps. */
  boolean authenticatorTaken() {
    return authenticatorInUse;
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

  /**
   * Returns why the token, meant for {@code url}, may not go there, with the fix; or null if it
   * may, or if {@code url} is simply another origin (such as an {@code @Url} to a CDN).
   */
  @Nullable String withheldReason(HttpUrl url) {
    HttpUrl[] allowed = origins;
    if (allowed.length == 0) {
      return "auth.interceptor() withheld the token from "
          + origin(url)
          + ": no origin may receive it yet. Add AuthCallAdapterFactory.create(auth) to the"
          + " Retrofit.Builder, before any other call adapter factory (the Retrofit's base URL is"
          + " then allowed), or RefreshManager.Builder.addAllowedOrigin(url) for plain OkHttp"
          + " calls.";
    }
    if (contains(url) && !mayReceiveToken(url)) {
      return "auth.interceptor() withheld the token from "
          + origin(url)
          + ": tokens never go over cleartext HTTP except to loopback. Use https, or"
          + " RefreshManager.Builder.allowCleartext(true) on a trusted network (for example an"
          + " emulator's host during development).";
    }
    return null;
  }

  private static String origin(HttpUrl url) {
    return url.scheme() + "://" + url.host() + ":" + url.port();
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
