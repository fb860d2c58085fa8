package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.RefreshManager;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import okhttp3.mockwebserver.MockWebServer;
import okio.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client assertions that a platform writes to a file and rotates (workload identity): read for each
 * token request, never sent once expired, and a clear error that names the file.
 */
final class ClientAssertionFileTest {
  @TempDir Path directory;
  private final MockWebServer server = Jose.noDelayServer();
  private File file;

  @BeforeEach
  void start() throws IOException {
    server.start();
    file = directory.resolve("azure-identity-token").toFile();
  }

  @AfterEach
  void stop() throws IOException {
    server.shutdown();
  }

  private OAuth2TokenSource source() {
    return OAuth2TokenSource.clientCredentials()
        .tokenEndpoint(server.url("/oauth/token").toString())
        .clientId("workload")
        .clientAssertion(ClientAssertionSource.fromFile(file))
        .build();
  }

  @Test
  void aFileRotatedMidRunGivesTheNextTokenRequestItsNewAssertion() throws Exception {
    String first = jwt("platform-1", 3600);
    write(first + "\n");
    server.enqueue(json(200, "{\"access_token\":\"machine-1\",\"token_type\":\"Bearer\"}"));
    server.enqueue(json(200, "{\"access_token\":\"machine-2\",\"token_type\":\"Bearer\"}"));
    RefreshManager auth = RefreshManager.builder().tokenSource(source()).build();

    assertEquals("machine-1", auth.refreshNow().accessToken());
    Map<String, String> form = Jose.form(server.takeRequest());
    assertEquals(
        Map.of(
            "grant_type", "client_credentials",
            "client_id", "workload",
            "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion", first),
        form);

    String second = jwt("platform-2", 3600);
    write(second); // The platform rotated it.
    assertEquals("machine-2", auth.refreshNow().accessToken());
    assertEquals(second, Jose.form(server.takeRequest()).get("client_assertion"));
  }

  @Test
  void anExpiredAssertionFailsByTheFilesNameAndNoTokenRequestIsSent() throws Exception {
    write(jwt("platform-old", 10)); // Not yet expired, but within the 30 s margin.
    IOException e = assertThrows(IOException.class, () -> source().fetch());
    assertTrue(
        e.getMessage().startsWith("the client assertion in " + file + " expires at "),
        e.getMessage());
    assertTrue(
        e.getMessage()
            .endsWith("and was not sent; the platform should have written a new one by now"));
    assertEquals(0, server.getRequestCount());
  }

  @Test
  void aMissingEmptyOrMalformedFileFailsByItsNameAndNeverQuotesIt() throws Exception {
    IOException missing = assertThrows(IOException.class, () -> source().fetch());
    assertEquals(
        "no client assertion file at "
            + file
            + " (missing, or not readable): the platform writes it, check its configuration",
        missing.getMessage());
    write("  \n");
    assertEquals(
        "the client assertion file " + file + " is empty",
        assertThrows(IOException.class, () -> source().fetch()).getMessage());
    write("secret-but-not-a-jwt");
    IOException malformed = assertThrows(IOException.class, () -> source().fetch());
    assertEquals(
        "the client assertion file " + file + " does not hold a JWT", malformed.getMessage());
    assertEquals(0, server.getRequestCount());
  }

  @Test
  void theJwtBearerGrantTakesItsAssertionFromTheFile() throws Exception {
    String assertion = jwt("platform-1", 600);
    write(assertion);
    server.enqueue(json(200, "{\"access_token\":\"machine-1\",\"token_type\":\"Bearer\"}"));
    OAuth2TokenSource.jwtBearer()
        .tokenEndpoint(server.url("/oauth/token").toString())
        .assertion(ClientAssertionSource.fromFile(file))
        .scope("read")
        .build()
        .fetch();
    assertEquals(
        Map.of(
            "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion", assertion,
            "scope", "read"),
        Jose.form(server.takeRequest()));
  }

  @Test
  void anAssertionFromOutsideExcludesASecretAndAKey() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                OAuth2RefreshApi.builder()
                    .tokenEndpoint(server.url("/oauth/token").toString())
                    .clientId("app")
                    .clientSecret("s3cret")
                    .clientAssertion(ClientAssertionSource.fromFile(file))
                    .build());
    assertEquals(
        "clientSecret(secret), privateKey(key, keyId) and clientAssertion(source) exclude each"
            + " other: call one of them",
        e.getMessage());
  }

  private void write(String content) throws IOException {
    Files.write(file.toPath(), content.getBytes(StandardCharsets.UTF_8));
  }

  /** A JWT as a platform writes one; the server, not the client, checks its signature. */
  private static String jwt(String subject, long expiresInSeconds) {
    long exp = System.currentTimeMillis() / 1000 + expiresInSeconds;
    String header = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
    String payload =
        "{\"iss\":\"https://oidc.platform.example\",\"sub\":\""
            + subject
            + "\",\"exp\":"
            + exp
            + "}";
    return base64Url(header) + "." + base64Url(payload) + ".c2lnbmF0dXJl";
  }

  private static String base64Url(String json) {
    return ByteString.encodeUtf8(json).base64Url().replace("=", "");
  }
}
