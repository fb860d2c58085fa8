package dev.retrofitauth;

import java.io.IOException;

/**
 * A {@link TokenSource} that can also fetch for a resource server's challenge: a token with the
 * challenge's {@linkplain TokenRequirements#claims() claims}, or with its {@linkplain
 * TokenRequirements#scope() scope} added to the configured one (scope step-up). {@code
 * OAuth2TokenSource} is one.
 */
public interface TokenSourceWithRequirements extends TokenSource {
  /** Fetches a token that meets {@code requirements}, as {@link #fetch()} does otherwise. */
  Tokens fetch(TokenRequirements requirements) throws IOException;

  /**
   * True if this source may ask for {@code requirements}: a resource server's challenge is not
   * trusted to widen the scope beyond what the app allows. A challenge it does not accept goes to
   * the caller as it is, and nothing is fetched.
   */
  boolean accepts(TokenRequirements requirements);
}
