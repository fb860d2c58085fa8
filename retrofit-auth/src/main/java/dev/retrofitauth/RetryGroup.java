package dev.retrofitauth;

import static java.lang.annotation.ElementType.METHOD;
import static java.lang.annotation.ElementType.TYPE;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import java.lang.annotation.Documented;
import java.lang.annotation.Retention;
import java.lang.annotation.Target;

/**
 * In {@linkplain RefreshManager.Builder#queueMode(boolean) queue mode}, puts a method's calls in a
 * named group, so that {@link RefreshManager#cancelQueued(String)} can drop them all at once, for
 * example when the screen that made them closes. On a service interface it applies to every method
 * that does not have its own.
 *
 * <pre>{@code
 * @RetryGroup("feed") @GET("feed") Call<Feed> feed();
 * }</pre>
 */
@Documented
@Target({METHOD, TYPE})
@Retention(RUNTIME)
public @interface RetryGroup {
  String value();
}
