/**
 * Micrometer meters for retrofit-auth: refresh latency by outcome, retries, stale 401s and the
 * calls waiting on a {@link dev.retrofitauth.RefreshManager}, or on each credential of a {@link
 * dev.retrofitauth.SessionRegistry}.
 *
 * <p>Start with {@link dev.retrofitauth.micrometer.RetrofitAuthMetrics}.
 */
@NullMarked
package dev.retrofitauth.micrometer;

import org.jspecify.annotations.NullMarked;
