package dev.retrofitauth;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * The one way a session gets new tokens: the app's {@link RefreshApi} for a refresh token, or its
 * {@link TokenSource} for machine tokens. Maps whatever the user code does (tokens, a rejection, a
 * failure, a bug) to one {@link RefreshResult}. Holds no state.
 */
final class Grant {
  private final @Nullable RefreshApi refreshApi;
  private final @Nullable TokenSource source;

  Grant(@Nullable RefreshApi refreshApi, @Nullable TokenSource source) {
    this.refreshApi = refreshApi;
    this.source = source;
  }

  /** True if tokens come from a {@link TokenSource}: calls without tokens wait for them. */
  boolean acquires() {
    return source != null;
  }

  /** True if a RefreshApi or a TokenSource is configured. */
  boolean refreshes() {
    return refreshApi != null || source != null;
  }

  /** True if a claims challenge can be answered: the RefreshApi or TokenSource takes claims. */
  static boolean answersClaims(@Nullable RefreshApi refreshApi, @Nullable TokenSource source) {
    return refreshApi instanceof RefreshApiWithRequirements
        || source instanceof TokenSourceWithRequirements;
  }

  /** True if {@code current} can be refreshed: by a source, or by a RefreshApi with a token. */
  boolean canRefresh(@Nullable Tokens current) {
    return source != null
        || (refreshApi != null && current != null && current.refreshToken() != null);
  }

  /**
   * Gets new tokens from the source, or from the RefreshApi for {@code current}, meeting {@code
   * requirements} if a challenge set them. Blocks.
   */
  RefreshResult call(@Nullable Tokens current, @Nullable TokenRequirements requirements) {
    String spi = source != null ? "TokenSource" : "RefreshApi";
    try {
      Tokens fresh;
      if (source != null) {
        fresh =
            requirements != null && source instanceof TokenSourceWithRequirements
                ? ((TokenSourceWithRequirements) source).fetch(requirements)
                : source.fetch();
        if (fresh == null) throw new IOException("TokenSource.fetch() returned null");
        return RefreshResult.succeeded(fresh);
      }
      if (refreshApi == null || current == null) {
        throw new IllegalStateException("nothing to refresh with"); // canRefresh() said no.
      }
      fresh =
          requirements != null && refreshApi instanceof RefreshApiWithRequirements
              ? ((RefreshApiWithRequirements) refreshApi).refresh(current, requirements)
              : refreshApi.refresh(current);
      if (fresh == null) throw new IOException("RefreshApi.refresh() returned null");
      String refreshToken = current.refreshToken();
      if (fresh.refreshToken() == null && refreshToken != null) {
        fresh = fresh.withRefreshToken(refreshToken); // Not rotated: keep the one we have.
      }
      return RefreshResult.succeeded(fresh);
    } catch (RefreshRejectedException e) {
      return RefreshResult.rejected(e);
    } catch (IOException e) {
      return RefreshResult.failed(e);
    } catch (RuntimeException e) {
      // A bug in user code: report it as a transient failure so that no waiter hangs.
      String message = e.getMessage();
      return RefreshResult.failed(
          new IOException(
              spi + " threw " + e.getClass().getName() + (message != null ? ": " + message : ""),
              e));
    }
  }
}
