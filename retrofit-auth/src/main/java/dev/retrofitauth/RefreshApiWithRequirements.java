package dev.retrofitauth;

import java.io.IOException;

/**
 * A {@link RefreshApi} that can also refresh for a resource server's claims challenge: the refresh
 * request carries the challenge's {@linkplain TokenRequirements#claims() claims}. A refresh cannot
 * widen the scope of a user's grant, so a scope challenge still goes to the caller. {@code
 * OAuth2RefreshApi} is one.
 */
public interface RefreshApiWithRequirements extends RefreshApi {
  /**
   * Refreshes {@code current} for a token that meets {@code requirements}, as {@link
   * #refresh(Tokens)} does otherwise.
   */
  Tokens refresh(Tokens current, TokenRequirements requirements) throws IOException;
}
