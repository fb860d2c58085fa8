package dev.retrofitauth.internal;

import dev.retrofitauth.DPoP;
import org.jspecify.annotations.Nullable;

/**
 * Not API: a {@code RefreshApi} or {@code TokenSource} of the library's that signs DPoP proofs for
 * its token requests, so that a manager can check its key against its own, or adopt it: one DPoP
 * configuration for both. It may change or disappear in any release.
 */
public interface UsesDPoP {
  /** The key this helper proves its token requests with, or null for none. */
  @Nullable DPoP dpop();
}
