package dev.retrofitauth;

import static java.lang.annotation.ElementType.METHOD;
import static java.lang.annotation.ElementType.TYPE;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import java.lang.annotation.Documented;
import java.lang.annotation.Retention;
import java.lang.annotation.Target;

/**
 * Sends a service method's requests without an access token, and hands its 401 responses to the
 * caller unchanged.
 *
 * <p>Use it on login and token endpoints, and on the method a {@link RefreshApi} calls. On a
 * service interface it applies to every method of that interface.
 *
 * <pre>{@code
 * interface AuthService {
 *   @NoAuth @POST("login") Call<TokenJson> login(@Body Credentials credentials);
 * }
 * }</pre>
 */
@Documented
@Target({METHOD, TYPE})
@Retention(RUNTIME)
public @interface NoAuth {}
