package dev.retrofitauth.oauth2;

import static dev.retrofitauth.oauth2.OAuth2RefreshApiTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jwt.SignedJWT;
import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import okhttp3.Dns;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Finding the authorization server from the API's protected resource metadata (RFC 9728), and
 * refusing metadata about another resource: a fake authorization server that such a document names
 * must never see a request (modelcontextprotocol/python-sdk#1581).
 */
final class ProtectedResourceMetadataTest {
  private static final String PRM = "/.well-known/oauth-protected-resource/v1";
  private static final String CLIENT_ID = "reporting-job";

  /** The authorization server the API names: a real one, which issues signed JWTs. */
  private final MockOAuth2Server oauth = new MockOAuth2Server();

  /** The API: its metadata at {@link #PRM}, and {@code /v1/me}, which answers 401. */
  private final MockWebServer api = new MockWebServer();

  /** A second authorization server: the fake one, or a plain one that records what it gets. */
  private final MockWebServer second = new MockWebServer();

  private final Map<String, MockResponse> apiResponses = new ConcurrentHashMap<>();
  private final List<String> apiPaths = new CopyOnWriteArrayList<>();
  private final List<RecordedRequest> secondRequests = new CopyOnWriteArrayList<>();

  /** Every URL the helpers requested, in order. */
  private final List<String> requested = new CopyOnWriteArrayList<>();

  private String resource;
  private String oauthIssuer;
  private volatile String secondIssuer; // Read by the second server's dispatcher.

  @BeforeEach
  void setUp() throws IOException {
    oauth.start();
    api.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            apiPaths.add(request.getPath());
            MockResponse response = apiResponses.get(request.getPath());
            return response != null ? response : new MockResponse().setResponseCode(404);
          }
        });
    api.start();
    second.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            secondRequests.add(request);
            switch (request.getPath()) {
              case "/.well-known/oauth-authorization-server/as":
                return json(
                    200,
                    "{\"issuer\":\""
                        + secondIssuer
                        + "\",\"token_endpoint\":\""
                        + second.url("/as/token")
                        + "\",\"revocation_endpoint\":\""
                        + second.url("/as/revoke")
                        + "\"}");
              case "/as/token":
                return json(200, "{\"access_token\":\"from-second\",\"refresh_token\":\"r2\"}");
              case "/as/revoke":
                return new MockResponse();
              default:
                return new MockResponse().setResponseCode(404);
            }
          }
        });
    second.start();
    resource = api.url("/v1").toString();
    oauthIssuer = oauth.issuerUrl("default").toString();
    secondIssuer = second.url("/as").toString();
  }

  @AfterEach
  void tearDown() throws IOException {
    oauth.shutdown();
    api.shutdown();
    second.shutdown();
  }

  private static String metadata(String resource, String... authorizationServers) {
    StringBuilder servers = new StringBuilder();
    for (String server : authorizationServers) {
      servers.append(servers.length() == 0 ? "\"" : ",\"").append(server).append('"');
    }
    return "{\"resource\":\""
        + resource
        + "\",\"authorization_servers\":["
        + servers
        + "],\"scopes_supported\":[\"reports:read\",\"reports:write\"]"
        + ",\"bearer_methods_supported\":[\"header\"]}";
  }

  private OkHttpClient recordingClient() {
    return new OkHttpClient.Builder()
        .addInterceptor(
            chain -> {
              requested.add(chain.request().url().toString());
              return chain.proceed(chain.request());
            })
        .build();
  }

  /** A client that finds every {@code *.test} host on loopback, where the servers listen. */
  private OkHttpClient testDnsClient() throws IOException {
    InetAddress loopback = InetAddress.getByName(api.getHostName());
    return recordingClient()
        .newBuilder()
        .dns(
            host ->
                host.endsWith(".test")
                    ? Collections.singletonList(loopback)
                    : Dns.SYSTEM.lookup(host))
        .build();
  }

  private OAuth2TokenSource.ClientCredentialsBuilder source(String protectedResource) {
    return OAuth2TokenSource.clientCredentials()
        .protectedResource(protectedResource)
        .clientId(CLIENT_ID)
        .clientSecret("test-secret")
        .client(recordingClient());
  }

  private static List<String> paths(List<RecordedRequest> requests) {
    return requests.stream().map(RecordedRequest::getPath).collect(Collectors.toList());
  }

  private static String issuerOf(Tokens tokens) throws Exception {
    return SignedJWT.parse(tokens.accessToken()).getJWTClaimsSet().getIssuer();
  }

  @Test
  void matchingResourceLeadsToTheNamedAuthorizationServerAndItsToken() throws Exception {
    apiResponses.put(PRM, json(200, metadata(resource, oauthIssuer, secondIssuer)));
    OAuth2TokenSource source = source(resource).build();
    assertEquals(List.of(), requested); // build() does not touch the network.

    Tokens tokens = source.fetch();

    assertEquals(oauthIssuer, issuerOf(tokens)); // The first server named, not the second.
    assertEquals(
        List.of(
            api.url(PRM).toString(),
            oauth.url("/.well-known/oauth-authorization-server/default").toString(),
            oauth.url("/default/.well-known/openid-configuration").toString(),
            oauth.tokenEndpointUrl("default").toString()),
        requested);
    assertEquals(List.of(), secondRequests);
  }

  @Test
  void bothMetadataDocumentsAreReadOnceAndKept() throws Exception {
    apiResponses.put(PRM, json(200, metadata(resource, oauthIssuer)));
    OAuth2TokenSource source = source(resource).build();

    for (int i = 0; i < 3; i++) assertEquals(oauthIssuer, issuerOf(source.fetch()));

    String token = oauth.tokenEndpointUrl("default").toString();
    assertEquals(
        List.of(
            api.url(PRM).toString(),
            oauth.url("/.well-known/oauth-authorization-server/default").toString(),
            oauth.url("/default/.well-known/openid-configuration").toString(),
            token,
            token,
            token),
        requested);
  }

  /**
   * The API's path serves a document about another resource, which names a fake authorization
   * server: the client must not send its credentials there (RFC 9728 §3.3).
   */
  @Test
  void metadataForAnotherResourceIsRefusedAndItsServerGetsNoRequest() {
    String otherResource = second.url("/v1").toString();
    apiResponses.put(PRM, json(200, metadata(otherResource, secondIssuer)));
    OAuth2TokenSource source = source(resource).build();

    for (int attempt = 1; attempt <= 2; attempt++) { // Refused, and not kept: read again.
      IOException e = assertThrows(IOException.class, source::fetch);
      assertEquals(
          "the protected resource metadata at "
              + api.url(PRM)
              + " is for resource "
              + otherResource
              + ", not "
              + resource
              + ": it is not used (RFC 9728 §3.3); configure the resource exactly as the API names"
              + " it",
          e.getMessage());
    }

    assertEquals(List.of(PRM, PRM), apiPaths);
    assertEquals(0, second.getRequestCount());
  }

  @Test
  void resourceThatDiffersOnlyByATrailingSlashIsRefused() {
    apiResponses.put(PRM, json(200, metadata(resource + "/", oauthIssuer)));

    IOException e = assertThrows(IOException.class, () -> source(resource).build().fetch());

    assertEquals(
        "the protected resource metadata at "
            + api.url(PRM)
            + " is for resource "
            + resource
            + "/, not "
            + resource
            + ": it is not used (RFC 9728 §3.3); configure the resource exactly as the API names it",
        e.getMessage());
    assertEquals(List.of(api.url(PRM).toString()), requested);
  }

  @Test
  void claimedResourceIsEscapedInTheMessage() {
    apiResponses.put(PRM, json(200, metadata("https://api.example/v1\\nINFO ok", secondIssuer)));

    IOException e =
        assertThrows(
            IOException.class, () -> ProtectedResourceMetadata.read(resource, new OkHttpClient()));

    assertEquals(
        "the protected resource metadata at "
            + api.url(PRM)
            + " is for resource https://api.example/v1\\nINFO ok, not "
            + resource
            + ": it is not used (RFC 9728 §3.3); configure the resource exactly as the API names it",
        e.getMessage());
    assertEquals(0, second.getRequestCount());
  }

  @Test
  void failedReadIsNotKept() throws Exception {
    apiResponses.put(PRM, new MockResponse().setResponseCode(503));
    OAuth2TokenSource source = source(resource).build();

    IOException e = assertThrows(IOException.class, source::fetch);
    assertEquals(
        "the protected resource metadata at " + api.url(PRM) + " answered HTTP 503",
        e.getMessage());

    apiResponses.put(PRM, json(200, metadata(resource, oauthIssuer)));
    assertEquals(oauthIssuer, issuerOf(source.fetch()));
    assertEquals(List.of(PRM, PRM), apiPaths);
  }

  @Test
  void metadataThatRedirectsIsNotFollowed() {
    apiResponses.put(
        PRM,
        new MockResponse()
            .setResponseCode(302)
            .setHeader("Location", second.url("/.well-known/oauth-protected-resource/v1")));

    IOException e = assertThrows(IOException.class, () -> source(resource).build().fetch());

    assertEquals(
        "the protected resource metadata at "
            + api.url(PRM)
            + " redirected (HTTP 302): redirects are not followed",
        e.getMessage());
    assertEquals(0, second.getRequestCount());
  }

  @Test
  void metadataWithoutAnAuthorizationServerIsAnError() {
    apiResponses.put(PRM, json(200, metadata(resource)));

    IOException e = assertThrows(IOException.class, () -> source(resource).build().fetch());

    assertEquals(
        "the protected resource metadata of " + resource + " names no authorization server",
        e.getMessage());
  }

  @Test
  void theNamedServersIssuerCheckStillApplies() {
    // The API names the second server, whose own metadata is for another issuer.
    String claimed = second.url("/as/").toString();
    apiResponses.put(PRM, json(200, metadata(resource, claimed)));
    secondIssuer = second.url("/elsewhere").toString();

    IOException e = assertThrows(IOException.class, () -> source(resource).build().fetch());

    assertEquals(
        "the authorization server metadata at "
            + second.url("/.well-known/oauth-authorization-server/as")
            + " is for issuer "
            + secondIssuer
            + ", not "
            + claimed
            + ": it is not used (RFC 8414 §3.3); configure the issuer exactly as the server names"
            + " it",
        e.getMessage());
    assertEquals(List.of("/.well-known/oauth-authorization-server/as"), paths(secondRequests));
  }

  @Test
  void cleartextResourceIsRefusedUnlessLoopbackOrAllowed() throws Exception {
    String cleartext = "http://api.test:" + api.getPort() + "/v1";
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> source(cleartext).build());
    assertEquals(
        "the protected resource is cleartext http: use https, or call allowCleartext(true)",
        e.getMessage());
    assertEquals(
        "the resource is cleartext http: use https, or allow cleartext: " + cleartext,
        assertThrows(
                IllegalArgumentException.class,
                () -> ProtectedResourceMetadata.read(cleartext, testDnsClient()))
            .getMessage());
    assertEquals(List.of(), apiPaths);

    apiResponses.put(PRM, json(200, metadata(cleartext, oauthIssuer)));
    Tokens tokens = source(cleartext).allowCleartext(true).client(testDnsClient()).build().fetch();
    assertEquals(oauthIssuer, issuerOf(tokens));
    assertEquals(
        cleartext, ProtectedResourceMetadata.read(cleartext, testDnsClient(), true).resource());
  }

  @Test
  void cleartextAuthorizationServerIsRefusedUnlessAllowed() throws Exception {
    String cleartextIssuer = "http://as.test:" + second.getPort() + "/as";
    apiResponses.put(PRM, json(200, metadata(resource, cleartextIssuer)));

    IOException e =
        assertThrows(
            IOException.class, () -> source(resource).client(testDnsClient()).build().fetch());
    assertEquals(
        "the protected resource metadata of "
            + resource
            + " names a cleartext http authorization server, "
            + cleartextIssuer
            + ": use https, or call allowCleartext(true)",
        e.getMessage());
    assertEquals(0, second.getRequestCount());

    secondIssuer = cleartextIssuer;
    Tokens tokens = source(resource).client(testDnsClient()).allowCleartext(true).build().fetch();
    assertEquals("from-second", tokens.accessToken());
  }

  @Test
  void protectedResourceExcludesIssuerAndTokenEndpoint() {
    assertEquals(
        "protectedResource(url) excludes tokenEndpoint(url) and issuer(url): the resource's"
            + " metadata names the authorization server; call one of them",
        assertThrows(
                IllegalStateException.class, () -> source(resource).issuer(oauthIssuer).build())
            .getMessage());
    assertEquals(
        "protectedResource(url) excludes revocationEndpoint(url) and issuer(url): the resource's"
            + " metadata names the authorization server; call one of them",
        assertThrows(
                IllegalStateException.class,
                () ->
                    OAuth2Revoker.builder()
                        .protectedResource(resource)
                        .revocationEndpoint(second.url("/as/revoke").toString())
                        .clientId(CLIENT_ID)
                        .build())
            .getMessage());
    assertEquals(
        "resource is not an http or https URL without a fragment: " + resource + "#x",
        assertThrows(
                IllegalArgumentException.class,
                () -> OAuth2RefreshApi.builder().protectedResource(resource + "#x"))
            .getMessage());
  }

  @Test
  void refreshApiAndRevokerFindTheirEndpointsThroughTheResource() throws Exception {
    apiResponses.put(PRM, json(200, metadata(resource, secondIssuer)));
    OAuth2RefreshApi refreshApi =
        OAuth2RefreshApi.builder()
            .protectedResource(resource)
            .clientId("app")
            .client(recordingClient())
            .build();
    OAuth2Revoker revoker =
        OAuth2Revoker.builder()
            .protectedResource(resource)
            .clientId("app")
            .client(recordingClient())
            .build();

    Tokens refreshed = refreshApi.refresh(Tokens.of("a1", "r1"));
    revoker.revoke(refreshed);

    assertEquals(Tokens.of("from-second", "r2"), refreshed);
    assertEquals(
        List.of(
            "/.well-known/oauth-authorization-server/as",
            "/as/token",
            "/.well-known/oauth-authorization-server/as",
            "/as/revoke"),
        paths(secondRequests));
    assertEquals(
        "grant_type=refresh_token&refresh_token=r1&client_id=app",
        secondRequests.get(1).getBody().readUtf8());
    assertEquals(List.of(PRM, PRM), apiPaths);
  }

  private Response unauthorized(OkHttpClient client, String url, String challenge)
      throws IOException {
    apiResponses.put(
        "/v1/me", new MockResponse().setResponseCode(401).setHeader("WWW-Authenticate", challenge));
    return client.newCall(new Request.Builder().url(url).build()).execute();
  }

  @Test
  void resourceMetadataOfA401ChallengeIsReadAndMatchesTheRequestOrigin() throws Exception {
    apiResponses.put(PRM, json(200, metadata(resource, oauthIssuer)));
    // The parameter follows a quoted string that looks like one: the parser is not fooled.
    String challenge =
        "Bearer error_description=\"resource_metadata=\\\""
            + second.url("/x")
            + "\\\"\", resource_metadata=\""
            + api.url(PRM)
            + "\"";

    ProtectedResourceMetadata metadata;
    try (Response response =
        unauthorized(new OkHttpClient(), api.url("/v1/me").toString(), challenge)) {
      metadata = ProtectedResourceMetadata.fromChallenge(response, recordingClient());
    }

    assertEquals(resource, metadata.resource());
    assertEquals(List.of(oauthIssuer), metadata.authorizationServers());
    assertEquals(Arrays.asList("reports:read", "reports:write"), metadata.scopesSupported());
    assertEquals(List.of(api.url(PRM).toString()), requested);
    assertEquals(0, second.getRequestCount());
  }

  /**
   * The 401 names metadata on another origin: it is not read at all, since the request would carry
   * the app's interceptors and cookies there.
   */
  @Test
  void resourceMetadataOfAnotherOriginIsRefused() throws Exception {
    MockWebServer other = new MockWebServer();
    other.start();
    other.enqueue(json(200, metadata(other.url("/v1").toString(), secondIssuer)));
    try {
      String metadataUrl = other.url("/.well-known/oauth-protected-resource/v1").toString();
      IOException e;
      try (Response response =
          unauthorized(
              new OkHttpClient(),
              api.url("/v1/me").toString(),
              "Bearer resource_metadata=\"" + metadataUrl + "\"")) {
        e =
            assertThrows(
                IOException.class,
                () -> ProtectedResourceMetadata.fromChallenge(response, new OkHttpClient()));
      }
      String apiOrigin = api.url("/").toString().replaceAll("/$", "");
      assertEquals(
          "the protected resource metadata at "
              + metadataUrl
              + ", named by the 401 from "
              + apiOrigin
              + ", is on another origin: it is not read",
          e.getMessage());
      assertEquals(0, other.getRequestCount());
      assertEquals(0, second.getRequestCount());
    } finally {
      other.shutdown();
    }
  }

  /** Same origin, but a resource at another path: it does not speak for the API that was called. */
  @Test
  void resourceMetadataForAnotherPathOfTheOriginIsRefused() throws Exception {
    apiResponses.put(PRM, json(200, metadata(api.url("/billing").toString(), secondIssuer)));
    String challenge = "Bearer resource_metadata=\"" + api.url(PRM) + "\"";
    try (Response response =
        unauthorized(new OkHttpClient(), api.url("/v1/me").toString(), challenge)) {
      IOException e =
          assertThrows(
              IOException.class,
              () -> ProtectedResourceMetadata.fromChallenge(response, new OkHttpClient()));
      assertTrue(e.getMessage().contains("is for resource " + api.url("/billing")), e.getMessage());
    }
    assertEquals(0, second.getRequestCount());
  }

  @Test
  void cleartextResourceMetadataOfAChallengeIsRefusedUnlessAllowed() throws Exception {
    String origin = "http://api.test:" + api.getPort();
    String metadataUrl = origin + PRM;
    apiResponses.put(PRM, json(200, metadata(origin + "/v1", oauthIssuer)));
    OkHttpClient client = testDnsClient();
    String challenge = "DPoP algs=\"ES256\", Bearer resource_metadata=\"" + metadataUrl + "\"";

    try (Response response = unauthorized(client, origin + "/v1/me", challenge)) {
      IOException e =
          assertThrows(
              IOException.class, () -> ProtectedResourceMetadata.fromChallenge(response, client));
      assertEquals(
          "the protected resource metadata at "
              + metadataUrl
              + ", named by the 401 from "
              + origin
              + ", is cleartext http: it is not read",
          e.getMessage());
      assertEquals(List.of("/v1/me"), apiPaths);

      assertEquals(
          List.of(oauthIssuer),
          ProtectedResourceMetadata.fromChallenge(response, client, true).authorizationServers());
    }
  }

  @Test
  void challengeWithoutResourceMetadataGivesNull() throws Exception {
    try (Response response =
        unauthorized(new OkHttpClient(), api.url("/v1/me").toString(), "Bearer realm=\"api\"")) {
      assertNull(ProtectedResourceMetadata.fromChallenge(response, new OkHttpClient()));
    }
    assertEquals(List.of("/v1/me"), apiPaths);
  }
}
