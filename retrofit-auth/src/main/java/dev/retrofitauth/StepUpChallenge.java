package dev.retrofitauth;

import org.jspecify.annotations.Nullable;

/**
 * A resource server's 401 with {@code error="insufficient_user_authentication"} (RFC 9470): the
 * user must sign in again with a stronger method, and no refresh can help. Told to {@link
 * AuthListener#onStepUpRequired}; the 401 itself goes to the caller.
 */
public final class StepUpChallenge {
  private final @Nullable String acrValues;
  private final long maxAgeSeconds;

  StepUpChallenge(@Nullable String acrValues, long maxAgeSeconds) {
    this.acrValues = acrValues;
    this.maxAgeSeconds = maxAgeSeconds;
  }

  /** The authentication context classes the server asks for, space-separated, or null. */
  public @Nullable String acrValues() {
    return acrValues;
  }

  /**
   * How long ago, in seconds, the user may have authenticated at most, or -1 if the server did not
   * say.
   */
  public long maxAgeSeconds() {
    return maxAgeSeconds;
  }

  @Override
  public String toString() {
    return "StepUpChallenge{acrValues=" + acrValues + ", maxAgeSeconds=" + maxAgeSeconds + "}";
  }
}
