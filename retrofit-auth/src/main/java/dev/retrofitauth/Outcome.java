package dev.retrofitauth;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * What became of the refresh that a call waited for, and so what the call does next. A call that
 * was already sent holds a 401 response; a call that waited before it was sent holds nothing yet.
 */
enum Outcome {
  /** New tokens are in place (or the call's 401 was stale): send the call (again). */
  SUCCEEDED(Action.PROCEED, Action.PROCEED),
  /**
   * The refresh token was refused and the tokens are cleared. A sent call gets its 401; an unsent
   * call goes without a token, so that its caller sees the server's real answer.
   */
  REJECTED(Action.PROCEED, Action.PASS_THROUGH),
  /** No refresh is possible, or the 401 came from inside a refresh: as {@link #REJECTED}. */
  UNREFRESHABLE(Action.PROCEED, Action.PASS_THROUGH),
  /** A transient failure or a timeout: the call fails with the refresh's failure as the cause. */
  FAILED(Action.FAIL, Action.FAIL),
  /**
   * A proactive refresh failed but the old token has not expired yet: an unsent call goes with it.
   */
  FAILED_OLD_TOKEN_VALID(Action.PROCEED, Action.FAIL),
  /** {@code signIn()} replaced the tokens while the refresh ran: send with the new tokens. */
  SUPERSEDED_BY_SIGN_IN(Action.PROCEED, Action.PROCEED),
  /**
   * {@code signOut()} ran meanwhile: a sent call gets its 401, an unsent one goes without token.
   */
  SUPERSEDED_BY_SIGN_OUT(Action.PROCEED, Action.PASS_THROUGH),
  /** Queue mode, {@code signOut()}: every queued call ends; one that was never sent fails. */
  SIGNED_OUT_WHILE_QUEUED(Action.FAIL, Action.PASS_THROUGH),
  /** Queue mode: {@code maxQueuedCalls} calls wait already. */
  QUEUE_FULL(Action.FAIL, Action.FAIL),
  /** The application canceled the queued calls of a group, or all of them. */
  CANCELED(Action.FAIL, Action.FAIL);

  /** The three things a waiting call can do once its refresh has ended. */
  enum Action {
    /** Send the call, or send it again. */
    PROCEED,
    /** Hand the 401 the call already has to its caller. */
    PASS_THROUGH,
    /** Fail the call with an {@link IOException}. */
    FAIL
  }

  private final Action unsent;
  private final Action sent;

  Outcome(Action unsent, Action sent) {
    this.unsent = unsent;
    this.sent = sent;
  }

  /** What a call does after this outcome; {@code sent} is true if it already holds a 401. */
  Action action(boolean sent) {
    return sent ? this.sent : unsent;
  }

  /**
   * Returns the exception for one call that fails with this outcome. For {@link #FAILED} {@code
   * cause} is the refresh's failure; for {@link #QUEUE_FULL} and {@link #CANCELED} it carries the
   * message to repeat. Each call gets its own instance: exceptions are mutable.
   */
  IOException exception(@Nullable IOException cause) {
    switch (this) {
      case FAILED:
      case FAILED_OLD_TOKEN_VALID:
        if (cause instanceof RefreshFailedException
            && ((RefreshFailedException) cause).isPermanent()) {
          // Calls fail like this until signOut(): name the error, not only in the cause.
          return new IOException("Token refresh failed for good: " + cause.getMessage(), cause);
        }
        return new IOException("Token refresh failed", cause);
      case SIGNED_OUT_WHILE_QUEUED:
        return new IOException("Canceled: signed out while waiting for a token refresh");
      case QUEUE_FULL:
      case CANCELED:
        return new IOException(cause != null ? cause.getMessage() : "Canceled");
      default:
        throw new AssertionError(this + " does not fail calls");
    }
  }
}
