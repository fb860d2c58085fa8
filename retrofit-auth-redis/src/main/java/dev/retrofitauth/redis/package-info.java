/**
 * A {@link dev.retrofitauth.SharedTokenStore} on Redis, for a fleet of processes that share one
 * session's tokens: one refresh per expiry across all of them, with a lease, a versioned save and
 * optional AES-GCM encryption.
 *
 * <p>Start with {@link dev.retrofitauth.redis.RedisTokenStore}.
 */
@NullMarked
package dev.retrofitauth.redis;

import org.jspecify.annotations.NullMarked;
