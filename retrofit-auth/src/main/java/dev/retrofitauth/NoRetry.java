package dev.retrofitauth;

import static java.lang.annotation.ElementType.METHOD;
import static java.lang.annotation.ElementType.TYPE;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import java.lang.annotation.Documented;
import java.lang.annotation.Retention;
import java.lang.annotation.Target;

/**
 * Sends a service method's requests with the access token, but hands a 401 response to the caller
 * as it came: no refresh is started for it and the call is not retried.
 *
 * <p>Use it for polling or for requests that are not safe to send twice. On a service interface it
 * applies to every method of that interface.
 */
@Documented
@Target({METHOD, TYPE})
@Retention(RUNTIME)
public @interface NoRetry {}
