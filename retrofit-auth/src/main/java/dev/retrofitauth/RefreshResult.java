package dev.retrofitauth;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * How one refresh ended, as the {@link Refresher} hands it back: new tokens, a rejection, or a
 * failure. What that means for the waiting calls is {@link SingleFlight}'s to decide.
 */
final class RefreshResult {
  enum Status {
    /** New tokens: {@link #tokens} is set. */
    SUCCEEDED,
    /** The refresh token was refused, or another process signed out: the session ends. */
    REJECTED,
    /** A transient failure, a bug in user code, or a store that could not be read. */
    FAILED
  }

  final Status status;
  final @Nullable Tokens tokens;
  final @Nullable IOException failure;

  /** True if a shared store's lease saved it already: the manager writes it no more. */
  final boolean saved;

  /** True if a shared store held no tokens: another process signed out. */
  final boolean signedOutElsewhere;

  private RefreshResult(
      Status status,
      @Nullable Tokens tokens,
      @Nullable IOException failure,
      boolean saved,
      boolean signedOutElsewhere) {
    this.status = status;
    this.tokens = tokens;
    this.failure = failure;
    this.saved = saved;
    this.signedOutElsewhere = signedOutElsewhere;
  }

  static RefreshResult succeeded(Tokens tokens) {
    return new RefreshResult(Status.SUCCEEDED, tokens, null, false, false);
  }

  static RefreshResult rejected(RefreshRejectedException failure) {
    return new RefreshResult(Status.REJECTED, null, failure, false, false);
  }

  static RefreshResult failed(IOException failure) {
    return new RefreshResult(Status.FAILED, null, failure, false, false);
  }

  static RefreshResult signedOutElsewhere(SharedTokenStore store) {
    IOException failure = new RefreshRejectedException("another process signed out of " + store);
    return new RefreshResult(Status.REJECTED, null, failure, true, true);
  }

  /** This result, saved by a shared store's lease. */
  RefreshResult saved() {
    return new RefreshResult(status, tokens, failure, true, signedOutElsewhere);
  }

  AuthListener.SignOutReason signOutReason() {
    return signedOutElsewhere
        ? AuthListener.SignOutReason.SIGNED_OUT_ELSEWHERE
        : AuthListener.SignOutReason.REFRESH_REJECTED;
  }
}
