/**
 * Ready helpers for standard OAuth 2 servers: a {@link dev.retrofitauth.RefreshApi} for the refresh
 * token grant (RFC 6749 §6), {@link dev.retrofitauth.TokenSource}s for the {@code
 * client_credentials} and JWT bearer grants (RFC 6749 §4.4, RFC 7523) and for token exchange (RFC
 * 8693), a {@link dev.retrofitauth.TokenRevoker} for RFC 7009, and a helper that reads the expiry
 * of a JWT access token. Each finds its endpoints from a configured URL or from the server's
 * metadata (RFC 8414), whose issuer may come from the API's protected resource metadata (RFC 9728,
 * {@link ProtectedResourceMetadata}), and authenticates the client with a secret, a private key
 * ({@code private_key_jwt}) or an assertion from the platform.
 */
@NullMarked
package dev.retrofitauth.oauth2;

import org.jspecify.annotations.NullMarked;
