package dev.retrofitauth.oauth2;

/**
 * Makes text a server sent safe to put in an exception message, which ends up in logs: it is
 * shortened, and characters that could start a new log line or hide text are escaped. All server
 * text that reaches a message goes through {@link #sanitize}.
 */
final class ServerText {
  /** The most characters of server text in a message, escapes included, before the marker. */
  static final int MAX_LENGTH = 64;

  /** Appended to text that was cut short. */
  static final String TRUNCATED = "...";

  private ServerText() {}

  /**
   * Returns {@code text} with control characters escaped the way Java writes them: {@code \n},
   * {@code \r}, {@code \t}, or a backslash, {@code u} and four hex digits. A backslash is doubled,
   * so an escape cannot be forged. If that is longer than {@link #MAX_LENGTH}, it is cut before the
   * character that does not fit, and {@link #TRUNCATED} is appended.
   */
  static String sanitize(String text) {
    StringBuilder result = new StringBuilder(Math.min(text.length(), MAX_LENGTH) + 3);
    for (int i = 0; i < text.length(); ) {
      int codePoint = text.codePointAt(i);
      String piece = escape(codePoint);
      if (result.length() + piece.length() > MAX_LENGTH) return result.append(TRUNCATED).toString();
      result.append(piece);
      i += Character.charCount(codePoint);
    }
    return result.toString();
  }

  private static String escape(int c) {
    switch (c) {
      case '\n':
        return "\\n";
      case '\r':
        return "\\r";
      case '\t':
        return "\\t";
      case '\\':
        return "\\\\";
      default:
        break;
    }
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || isLayoutControl(c) || isSurrogate(c)) {
      String hex = Integer.toHexString(c);
      return "\\u0000".substring(0, 6 - hex.length()) + hex;
    }
    return new String(Character.toChars(c));
  }

  /**
   * True for the line and paragraph separators (U+2028, U+2029), at which some log viewers break
   * lines, and for the bidirectional marks and controls, which reorder how a line is shown.
   */
  private static boolean isLayoutControl(int c) {
    return c == 0x2028
        || c == 0x2029
        || c == 0x200e
        || c == 0x200f
        || (c >= 0x202a && c <= 0x202e)
        || (c >= 0x2066 && c <= 0x2069);
  }

  /** True for half of a surrogate pair that came without its other half. */
  private static boolean isSurrogate(int c) {
    return c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE;
  }
}
