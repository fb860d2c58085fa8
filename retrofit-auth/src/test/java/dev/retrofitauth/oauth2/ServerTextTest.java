package dev.retrofitauth.oauth2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

final class ServerTextTest {
  private static String repeat(char c, int count) {
    StringBuilder result = new StringBuilder(count);
    for (int i = 0; i < count; i++) result.append(c);
    return result.toString();
  }

  @Test
  void printableTextIsUnchanged() {
    assertEquals("invalid_client", ServerText.sanitize("invalid_client"));
    assertEquals("Bearer é ✓", ServerText.sanitize("Bearer é ✓"));
  }

  @Test
  void controlCharactersAreEscaped() {
    assertEquals(
        "a\\nb\\rc\\td\\u0000e\\u001bf\\u007fg\\u0085h",
        ServerText.sanitize("a\nb\rc\td\u0000e\u001bf\u007fg\u0085h"));
  }

  @Test
  void lineSeparatorsAndBidiControlsAreEscaped() {
    assertEquals(
        "a\\u2028b\\u2029c\\u202ed\\u2066e\\u200ff",
        ServerText.sanitize("a\u2028b\u2029c\u202ed\u2066e\u200ff"));
  }

  @Test
  void backslashIsDoubledSoEscapesCannotBeForged() {
    assertEquals("a\\\\nb", ServerText.sanitize("a\\nb"));
  }

  @Test
  void loneSurrogateIsEscaped() {
    assertEquals("a\\ud800b", ServerText.sanitize("a\ud800b"));
  }

  @Test
  void textOfMaxLengthIsKept() {
    String text = repeat('x', ServerText.MAX_LENGTH);

    assertEquals(text, ServerText.sanitize(text));
  }

  @Test
  void longerTextIsCutAndMarked() {
    assertEquals(
        repeat('x', ServerText.MAX_LENGTH) + "...",
        ServerText.sanitize(repeat('x', ServerText.MAX_LENGTH + 1)));
  }

  @Test
  void cutNeverSplitsAnEscapeOrASurrogatePair() {
    String pair = "\ud83d\ude00"; // U+1F600 as a surrogate pair.

    assertEquals(repeat('x', 63) + "...", ServerText.sanitize(repeat('x', 63) + "\n"));
    assertEquals(repeat('x', 63) + "...", ServerText.sanitize(repeat('x', 63) + pair));
    assertEquals(repeat('x', 62) + pair, ServerText.sanitize(repeat('x', 62) + pair));
  }
}
