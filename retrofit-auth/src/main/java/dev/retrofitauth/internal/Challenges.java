package dev.retrofitauth.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Parses {@code WWW-Authenticate} (RFC 9110 §11.6.1): several challenges in one header or in
 * several, auth-params with token or quoted-string values (with escapes), and token68. It never
 * throws: whatever does not parse ends the header's challenges there.
 *
 * <p>Not API: the core's 401 check and the OAuth 2 helpers (RFC 9728 {@code resource_metadata})
 * share it, so that both read a header alike. It may change or disappear in any release.
 */
public final class Challenges {
  private Challenges() {}

  /** One challenge: its scheme, and its auth-params with lower-cased names. */
  public static final class Challenge {
    public final String scheme;
    public final Map<String, String> params;
    public final @Nullable String token68;

    Challenge(String scheme, Map<String, String> params, @Nullable String token68) {
      this.scheme = scheme;
      this.params = params;
      this.token68 = token68;
    }

    public boolean is(String scheme) {
      return this.scheme.equalsIgnoreCase(scheme);
    }

    public @Nullable String param(String name) {
      return params.get(name);
    }

    @Override
    public String toString() {
      return scheme
          + (token68 != null ? " " + token68 : "")
          + (params.isEmpty() ? "" : " " + params);
    }
  }

  /** Returns the challenges of every {@code WWW-Authenticate} value, in order. */
  public static List<Challenge> parse(List<String> headerValues) {
    List<Challenge> result = new ArrayList<>();
    for (String value : headerValues) new Parser(value).parse(result);
    return result;
  }

  private static final class Parser {
    private final String s;
    private int pos;

    Parser(String s) {
      this.s = s;
    }

    void parse(List<Challenge> out) {
      while (true) {
        skipSeparators();
        String scheme = token();
        if (scheme == null) return; // The end, or something that is not a challenge.
        Map<String, String> params = new LinkedHashMap<>();
        String token68 = null;
        boolean spaced = skipSpaces();
        if (spaced && !atEnd() && s.charAt(pos) != ',') {
          token68 = token68();
          if (token68 == null && !params(params)) {
            out.add(new Challenge(scheme, Collections.unmodifiableMap(params), null));
            return; // Malformed parameters: keep what was read, stop here.
          }
        }
        out.add(new Challenge(scheme, Collections.unmodifiableMap(params), token68));
      }
    }

    /** Reads auth-params while they follow; returns false if one was malformed. */
    private boolean params(Map<String, String> params) {
      while (true) {
        int start = pos;
        String name = token();
        if (name == null) return false;
        skipSpaces();
        if (atEnd() || s.charAt(pos) != '=') {
          pos = start; // Not a parameter: the next challenge's scheme.
          return true;
        }
        pos++;
        skipSpaces();
        String value = !atEnd() && s.charAt(pos) == '"' ? quoted() : token();
        if (value == null) return false;
        params.put(name.toLowerCase(Locale.ROOT), value);
        skipSpaces();
        if (atEnd()) return true;
        if (s.charAt(pos) != ',') return false;
        pos++;
        skipSeparators();
        // What follows is another parameter only if a token is followed by '='.
        int next = pos;
        String peek = token();
        skipSpaces();
        boolean parameter = peek != null && !atEnd() && s.charAt(pos) == '=';
        pos = next;
        if (!parameter) return true;
      }
    }

    /** Reads a token68 if one stands here alone (up to a comma or the end); else reads nothing. */
    private @Nullable String token68() {
      int start = pos;
      while (!atEnd() && isToken68(s.charAt(pos))) pos++;
      int end = pos;
      while (!atEnd() && s.charAt(pos) == '=') pos++;
      int afterEquals = pos;
      skipSpaces();
      if (end > start && (atEnd() || s.charAt(pos) == ',')) return s.substring(start, afterEquals);
      pos = start;
      return null;
    }

    private @Nullable String quoted() {
      StringBuilder value = new StringBuilder();
      pos++; // The opening quote.
      while (!atEnd()) {
        char c = s.charAt(pos++);
        if (c == '"') return value.toString();
        if (c == '\\' && !atEnd()) c = s.charAt(pos++);
        value.append(c);
      }
      return null; // No closing quote.
    }

    private @Nullable String token() {
      int start = pos;
      while (!atEnd() && isTchar(s.charAt(pos))) pos++;
      return pos > start ? s.substring(start, pos) : null;
    }

    private boolean skipSpaces() {
      int start = pos;
      while (!atEnd() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t')) pos++;
      return pos > start;
    }

    private void skipSeparators() {
      while (!atEnd() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t' || s.charAt(pos) == ',')) {
        pos++;
      }
    }

    private boolean atEnd() {
      return pos >= s.length();
    }

    private static boolean isTchar(char c) {
      return (c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static boolean isToken68(char c) {
      return (c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || "-._~+/".indexOf(c) >= 0;
    }
  }
}
