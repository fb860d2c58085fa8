/**
 * A ready {@link dev.retrofitauth.RefreshApi} for OAuth 2 token endpoints (RFC 6749 §6), and a
 * helper that reads the expiry of a JWT access token.
 */
@NullMarked
package dev.retrofitauth.oauth2;

import org.jspecify.annotations.NullMarked;
