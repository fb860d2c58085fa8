package dev.retrofitauth;

import static java.lang.annotation.ElementType.METHOD;
import static java.lang.annotation.ElementType.TYPE;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import java.lang.annotation.Documented;
import java.lang.annotation.Retention;
import java.lang.annotation.Target;

/**
 * In {@linkplain RefreshManager.Builder#queueMode(boolean) queue mode}, moves a method's calls
 * ahead of others in the retry queue: higher values are retried first, and calls of equal priority
 * keep their order of arrival. Calls of methods without it have priority 0. On a service interface
 * it applies to every method that does not have its own.
 *
 * <pre>{@code
 * @RetryPriority(10) @GET("checkout") Call<Order> checkout();
 * }</pre>
 */
@Documented
@Target({METHOD, TYPE})
@Retention(RUNTIME)
public @interface RetryPriority {
  int value();
}
