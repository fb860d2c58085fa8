package dev.retrofitauth;

import java.time.Instant;
import java.util.Objects;
import org.codehaus.mojo.animal_sniffer.IgnoreJRERequirement;
import org.jspecify.annotations.Nullable;

/**
 * An access token, an optional refresh token, and the access token's optional expiry.
 *
 * <pre>{@code
 * // From a token response: expires_in is relative, so turn it into a time now.
 * Tokens tokens = Tokens.of(
 *     body.accessToken,
 *     body.refreshToken,                                   // null if the server sent none
 *     System.currentTimeMillis() + body.expiresIn * 1000L); // or Tokens.NO_EXPIRY
 * auth.signIn(tokens);
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe. {@link #toString()} never shows a token, so a {@code
 * Tokens} can be logged safely.
 */
public final class Tokens {
  /** The value of {@link #expiresAtMillis()} when the expiry is not known. */
  public static final long NO_EXPIRY = -1L;

  /** The usual token type: the token goes as {@code Authorization: Bearer <token>}. */
  public static final String BEARER = "Bearer";

  /** A token bound to a {@link DPoP} key (RFC 9449): {@code Authorization: DPoP <token>}. */
  public static final String DPOP = "DPoP";

  private final String accessToken;
  private final @Nullable String refreshToken;
  private final long expiresAtMillis;
  private final String tokenType;

  private Tokens(
      String accessToken, @Nullable String refreshToken, long expiresAtMillis, String tokenType) {
    this.accessToken = accessToken;
    this.refreshToken = refreshToken;
    this.expiresAtMillis = expiresAtMillis;
    this.tokenType = tokenType;
  }

  /** Returns tokens with an access token only: no refresh token, no known expiry. */
  public static Tokens of(String accessToken) {
    return of(accessToken, null, NO_EXPIRY);
  }

  /** Returns tokens with no known expiry. {@code refreshToken} may be null. */
  public static Tokens of(String accessToken, @Nullable String refreshToken) {
    return of(accessToken, refreshToken, NO_EXPIRY);
  }

  /**
   * Returns tokens whose access token expires at {@code expiresAtMillis}, in milliseconds since the
   * epoch, or never expires as far as the client knows when it is {@link #NO_EXPIRY}.
   *
   * @throws IllegalArgumentException if a token is empty or holds a character that cannot go in an
   *     HTTP header, or if {@code expiresAtMillis} is negative and not {@link #NO_EXPIRY}.
   */
  public static Tokens of(String accessToken, @Nullable String refreshToken, long expiresAtMillis) {
    checkToken(accessToken, "accessToken");
    if (refreshToken != null) checkToken(refreshToken, "refreshToken");
    if (expiresAtMillis < 0 && expiresAtMillis != NO_EXPIRY) {
      throw new IllegalArgumentException(
          "expiresAtMillis < 0: " + expiresAtMillis + " (use Tokens.NO_EXPIRY when unknown)");
    }
    return new Tokens(accessToken, refreshToken, expiresAtMillis, BEARER);
  }

  /**
   * Like {@link #of(String, String, long)}, for callers with {@code java.time}; a null {@code
   * expiresAt} means the expiry is not known.
   */
  @IgnoreJRERequirement
  public static Tokens of(
      String accessToken, @Nullable String refreshToken, @Nullable Instant expiresAt) {
    return of(accessToken, refreshToken, expiresAt != null ? expiresAt.toEpochMilli() : NO_EXPIRY);
  }

  // Checked here, not when the header is built, so a bad token fails where it entered. The
  // message names the rule and the position, never the token.
  private static void checkToken(String token, String name) {
    Objects.requireNonNull(token, name + " == null");
    if (token.isEmpty()) {
      throw new IllegalArgumentException(
          name
              + " is empty"
              + (name.equals("refreshToken") ? " (pass null when there is none)" : ""));
    }
    for (int i = 0, length = token.length(); i < length; i++) {
      char c = token.charAt(i);
      if (c <= ' ' || c >= '\u007f') {
        throw new IllegalArgumentException(
            name + " has a character that is not printable ASCII at index " + i);
      }
    }
  }

  /** The access token, sent as {@code Authorization: Bearer <accessToken>}. */
  public String accessToken() {
    return accessToken;
  }

  /** The refresh token, or null if there is none. Without one, a 401 cannot be refreshed. */
  public @Nullable String refreshToken() {
    return refreshToken;
  }

  /**
   * When the access token expires, in milliseconds since the epoch, or {@link #NO_EXPIRY} if that
   * is not known.
   */
  public long expiresAtMillis() {
    return expiresAtMillis;
  }

  /** True if {@link #expiresAtMillis()} is known. */
  public boolean hasExpiry() {
    return expiresAtMillis != NO_EXPIRY;
  }

  /**
   * The access token's type, as the token endpoint's {@code token_type} said: {@link #BEARER} (the
   * default) or {@link #DPOP}. It names the {@code Authorization} scheme the token goes with.
   */
  public String tokenType() {
    return tokenType;
  }

  /** Returns a copy of these tokens with the expiry replaced. */
  public Tokens withExpiresAtMillis(long expiresAtMillis) {
    return of(accessToken, refreshToken, expiresAtMillis).withTokenType(tokenType);
  }

  /**
   * Returns a copy of these tokens with the refresh token replaced. {@code refreshToken} may be
   * null.
   */
  public Tokens withRefreshToken(@Nullable String refreshToken) {
    return of(accessToken, refreshToken, expiresAtMillis).withTokenType(tokenType);
  }

  /**
   * Returns a copy of these tokens of {@code tokenType}: {@link #BEARER} or {@link #DPOP}, in any
   * case, as a token endpoint sends it.
   *
   * @throws IllegalArgumentException for any other type.
   */
  public Tokens withTokenType(String tokenType) {
    Objects.requireNonNull(tokenType, "tokenType == null");
    String type;
    if (tokenType.equalsIgnoreCase(BEARER)) {
      type = BEARER;
    } else if (tokenType.equalsIgnoreCase(DPOP)) {
      type = DPOP;
    } else {
      throw new IllegalArgumentException("tokenType is not Bearer or DPoP");
    }
    return new Tokens(accessToken, refreshToken, expiresAtMillis, type);
  }

  @Override
  public boolean equals(@Nullable Object other) {
    if (this == other) return true;
    if (!(other instanceof Tokens)) return false;
    Tokens that = (Tokens) other;
    return accessToken.equals(that.accessToken)
        && Objects.equals(refreshToken, that.refreshToken)
        && expiresAtMillis == that.expiresAtMillis
        && tokenType.equals(that.tokenType);
  }

  @Override
  public int hashCode() {
    int result = accessToken.hashCode();
    result = 31 * result + Objects.hashCode(refreshToken);
    result = 31 * result + (int) (expiresAtMillis ^ (expiresAtMillis >>> 32));
    result = 31 * result + tokenType.hashCode();
    return result;
  }

  /** Returns a description with no token in it. */
  @Override
  public String toString() {
    return "Tokens{accessToken=<redacted>, refreshToken="
        + (refreshToken != null ? "<redacted>" : "none")
        + ", expiresAtMillis="
        + (hasExpiry() ? Long.toString(expiresAtMillis) : "unknown")
        + (tokenType.equals(BEARER) ? "" : ", tokenType=" + tokenType)
        + "}";
  }
}
