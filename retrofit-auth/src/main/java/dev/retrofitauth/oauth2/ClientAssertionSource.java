package dev.retrofitauth.oauth2;

import java.io.File;
import java.io.IOException;
import java.util.Objects;

/**
 * A client assertion (RFC 7523) that something else signs: the platform's workload identity token
 * (Kubernetes service account tokens, Azure workload identity, GitHub Actions), which it writes to
 * a file and rotates, or one an app gets from its own signing service. The OAuth 2 helpers send it
 * as {@code client_assertion} ({@code clientAssertion(source)}), or as the JWT bearer grant's
 * {@code assertion} ({@link OAuth2TokenSource.JwtBearerBuilder#assertion}).
 *
 * <p>It is asked once per token request, on the manager's refresh thread. An {@link IOException}
 * fails that token request before anything is sent, as a transient failure: the manager tries again
 * with its backoff.
 */
public interface ClientAssertionSource {
  /** Returns the assertion to send now: a JWT that has not expired. */
  String assertion() throws IOException;

  /**
   * The assertion in {@code file}, read again for each token request so that a rotated file is used
   * at once. Its text, trimmed, must be a JWT whose {@code exp} is at least 30 s away: one that has
   * expired, or is about to, is never sent. A missing, unreadable, empty or expired file fails the
   * token request with an {@link IOException} that names the file (never its content), and no
   * request is sent.
   */
  static ClientAssertionSource fromFile(File file) {
    Objects.requireNonNull(file, "file == null");
    return new FileClientAssertion(file, System::currentTimeMillis);
  }
}
