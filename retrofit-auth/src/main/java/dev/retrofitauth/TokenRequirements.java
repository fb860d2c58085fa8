package dev.retrofitauth;

import java.util.LinkedHashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a resource server's 401 says the next token must have, read from its {@code
 * WWW-Authenticate} challenge: the claims of a claims challenge ({@code
 * error="insufficient_claims"} with {@code claims}, as in Continuous Access Evaluation), or the
 * scope of a scope challenge ({@code error="insufficient_scope"} with {@code scope}, RFC 6750
 * §3.1).
 *
 * <p>The manager hands it to a {@link RefreshApiWithRequirements} or {@link
 * TokenSourceWithRequirements}, which asks the token endpoint for a token that meets it; the call
 * that got the 401 is sent again once with that token. A second challenge on the same call goes to
 * the caller as it is. Immutable.
 */
public final class TokenRequirements {
  private final @Nullable String claims;
  private final @Nullable String scope;

  private TokenRequirements(@Nullable String claims, @Nullable String scope) {
    this.claims = claims;
    this.scope = scope;
  }

  static TokenRequirements claims(String claims) {
    return new TokenRequirements(claims, null);
  }

  static TokenRequirements scope(String scope) {
    return new TokenRequirements(null, scope);
  }

  /**
   * The claims the token must carry, as the JSON to send as the token request's {@code claims}
   * parameter (OpenID Connect Core §5.5), decoded from the challenge's base64 when it was encoded;
   * null if the challenge asked for none.
   */
  public @Nullable String claims() {
    return claims;
  }

  /** The scope the resource needs, space-separated as the challenge wrote it; null for none. */
  public @Nullable String scope() {
    return scope;
  }

  /**
   * The union of {@code configured} and this challenge's scope, each scope once and in order: what
   * a token source asks for next. Null if both are null.
   */
  public @Nullable String scopeWith(@Nullable String configured) {
    if (scope == null) return configured;
    Set<String> union = new LinkedHashSet<>();
    if (configured != null) addScopes(union, configured);
    addScopes(union, scope);
    StringBuilder joined = new StringBuilder();
    for (String each : union) {
      if (joined.length() > 0) joined.append(' ');
      joined.append(each);
    }
    return joined.toString();
  }

  private static void addScopes(Set<String> into, String scopes) {
    for (String each : scopes.split(" ")) {
      if (!each.isEmpty()) into.add(each);
    }
  }

  @Override
  public boolean equals(@Nullable Object other) {
    if (!(other instanceof TokenRequirements)) return false;
    TokenRequirements that = (TokenRequirements) other;
    return eq(claims, that.claims) && eq(scope, that.scope);
  }

  private static boolean eq(@Nullable String a, @Nullable String b) {
    return a == null ? b == null : a.equals(b);
  }

  @Override
  public int hashCode() {
    return 31 * (claims != null ? claims.hashCode() : 0) + (scope != null ? scope.hashCode() : 0);
  }

  @Override
  public String toString() {
    return "TokenRequirements{"
        + (claims != null ? "claims=" + claims : "")
        + (claims != null && scope != null ? ", " : "")
        + (scope != null ? "scope=" + scope : "")
        + "}";
  }
}
