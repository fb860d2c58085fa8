package dev.retrofitauth;

import static java.lang.annotation.ElementType.METHOD;
import static java.lang.annotation.ElementType.TYPE;
import static java.lang.annotation.RetentionPolicy.RUNTIME;

import java.lang.annotation.Documented;
import java.lang.annotation.Retention;
import java.lang.annotation.Target;

/**
 * Picks the credential of a {@link SessionRegistry} whose token a service method's requests carry.
 * On a service interface it applies to every method that has none of its own; a method with none at
 * all uses the registry's default credential.
 *
 * <pre>{@code
 * interface Api {
 *   @GET("me") Call<User> me();                                   // the default credential
 *   @Credential("partner") @GET("https://partner.example/v1/rates") Call<Rates> rates();
 *   @Credential("user") @GET("inbox") Call<Inbox> inbox(@Tag UserId user);   // one session per user
 *   @Credential(value = "reports", scope = "reports.read") @GET("reports") Call<List<Report>> reports();
 * }
 * }</pre>
 *
 * <p>A plain OkHttp request picks one with a tag: {@code new
 * Request.Builder().tag(Credential.class, SessionRegistry.credential("partner"))}.
 */
@Documented
@Target({METHOD, TYPE})
@Retention(RUNTIME)
public @interface Credential {
  /** The name the credential was registered under in the {@link SessionRegistry}. */
  String value();

  /**
   * For a credential registered with {@link SessionRegistry.Builder#addPerScope}: the scopes the
   * token must have, separated by spaces. Each distinct set has its own token and its own single
   * flight; order and repetition do not matter. Empty by default.
   */
  String scope() default "";
}
