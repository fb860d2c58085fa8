package dev.retrofitauth.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.retrofitauth.internal.Challenges.Challenge;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The WWW-Authenticate parser (RFC 9110 §11.6.1). */
final class ChallengesTest {
  private static List<Challenge> parse(String... values) {
    return Challenges.parse(Arrays.asList(values));
  }

  @Test
  void bearerWithParams() {
    List<Challenge> challenges =
        parse(
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"The access token"
                + " expired\"");
    assertEquals(1, challenges.size());
    Challenge bearer = challenges.get(0);
    assertEquals("Bearer", bearer.scheme);
    assertEquals("api", bearer.param("realm"));
    assertEquals("invalid_token", bearer.param("error"));
    assertEquals("The access token expired", bearer.param("error_description"));
  }

  @Test
  void severalChallengesInOneHeader() {
    List<Challenge> challenges =
        parse(
            "Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"a b\", DPoP"
                + " algs=\"ES256 RS256\", error=\"use_dpop_nonce\"");
    assertEquals(2, challenges.size());
    assertEquals("insufficient_scope", challenges.get(0).param("error"));
    assertEquals("a b", challenges.get(0).param("scope"));
    assertEquals("DPoP", challenges.get(1).scheme);
    assertEquals("ES256 RS256", challenges.get(1).param("algs"));
    assertEquals("use_dpop_nonce", challenges.get(1).param("error"));
  }

  @Test
  void severalHeadersAndBareSchemes() {
    List<Challenge> challenges = parse("Basic realm=\"x\"", "Bearer, DPoP", "Negotiate");
    assertEquals(4, challenges.size());
    assertEquals("Basic", challenges.get(0).scheme);
    assertEquals("Bearer", challenges.get(1).scheme);
    assertEquals(Collections.emptyMap(), challenges.get(1).params);
    assertEquals("DPoP", challenges.get(2).scheme);
    assertEquals("Negotiate", challenges.get(3).scheme);
  }

  @Test
  void quotedStringsWithEscapesAndTokenValues() {
    List<Challenge> challenges =
        parse("Bearer error=invalid_token, error_description=\"a \\\"quoted\\\" \\\\ word, too\"");
    assertEquals("invalid_token", challenges.get(0).param("error"));
    assertEquals("a \"quoted\" \\ word, too", challenges.get(0).param("error_description"));
  }

  @Test
  void token68() {
    List<Challenge> challenges = parse("Negotiate dXNlcjpwYXNz==, Bearer error=\"invalid_token\"");
    assertEquals(2, challenges.size());
    assertEquals("dXNlcjpwYXNz==", challenges.get(0).token68);
    assertEquals("invalid_token", challenges.get(1).param("error"));
  }

  @Test
  void parameterNamesAreCaseInsensitiveAndSpacesAroundEqualsAllowed() {
    Challenge bearer = parse("bearer ERROR = \"invalid_token\"").get(0);
    assertEquals("invalid_token", bearer.param("error"));
    assertEquals(true, bearer.is("Bearer"));
  }

  @Test
  void malformedHeadersNeverThrow() {
    assertEquals("[Bearer]", parse("Bearer error=\"unterminated").toString());
    assertEquals("[]", parse("=garbage").toString());
    assertEquals("[]", parse(",,, ,").toString());
    assertEquals("[]", parse("").toString());
    assertEquals("[Bearer realm=]", parse("Bearer realm=").toString()); // A token68.
    assertEquals("[Bearer {realm=x}]", parse("Bearer realm=x;;; error=y").toString());
    assertNull(parse("Bearer error").get(0).param("error")); // A token68, not a parameter.
  }
}
