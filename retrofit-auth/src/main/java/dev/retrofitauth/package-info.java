/**
 * Bearer-token authentication for Retrofit: attach the access token, share one refresh between
 * every call that got a 401, and retry each call once.
 *
 * <p>Start with {@link dev.retrofitauth.RefreshManager}.
 */
@NullMarked
package dev.retrofitauth;

import org.jspecify.annotations.NullMarked;
