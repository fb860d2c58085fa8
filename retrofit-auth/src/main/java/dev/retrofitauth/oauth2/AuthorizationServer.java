package dev.retrofitauth.oauth2;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonEncodingException;
import com.squareup.moshi.JsonReader;
import dev.retrofitauth.internal.Internal;
import java.io.EOFException;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * Where a helper sends its requests: endpoints that were configured, or ones read from the
 * authorization server's metadata (RFC 8414, OpenID Connect Discovery 1.0) for an issuer.
 *
 * <p>The metadata is read once, on the first request that needs it, on the caller's thread (the
 * manager's refresh executor), and then kept. Concurrent first uses wait for that one read. A read
 * that fails is not kept: the next use tries again. Two places are tried, in this order:
 *
 * <ol>
 *   <li>RFC 8414 §3.1: {@code /.well-known/oauth-authorization-server} inserted between the host
 *       and the issuer's path;
 *   <li>OpenID Connect Discovery §4: {@code /.well-known/openid-configuration} appended to the
 *       issuer.
 * </ol>
 *
 * The second is tried only if the first answered, but not with a JSON 2xx (a 404, a redirect, a
 * catch-all HTML page); a network failure ends the read. A document whose {@code issuer} is not
 * exactly the configured issuer is refused (RFC 8414 §3.3), wherever it was found.
 *
 * <p>Given a protected resource instead of an issuer, the first use reads the resource's metadata
 * (RFC 9728, {@link ProtectedResourceMetadata}) and takes the first authorization server it names
 * as the issuer, under the same lock and with the same rule: a read that fails, of either document,
 * is not kept. Thread-safe.
 */
final class AuthorizationServer {
  private static final String OAUTH_WELL_KNOWN = "/.well-known/oauth-authorization-server";
  private static final String OPENID_WELL_KNOWN = "/.well-known/openid-configuration";

  private final @Nullable HttpUrl tokenEndpoint;
  private final @Nullable HttpUrl revocationEndpoint;
  private final @Nullable String issuer;
  private final @Nullable String protectedResource;
  private final TokenEndpointClient http;
  private final boolean allowCleartext;
  private final Object lock = new Object();

  /** Null until the metadata was read; then never null again. */
  private volatile @Nullable Metadata metadata; // Written under lock.

  private AuthorizationServer(
      @Nullable HttpUrl tokenEndpoint,
      @Nullable HttpUrl revocationEndpoint,
      @Nullable String issuer,
      @Nullable String protectedResource,
      TokenEndpointClient http,
      boolean allowCleartext) {
    this.tokenEndpoint = tokenEndpoint;
    this.revocationEndpoint = revocationEndpoint;
    this.issuer = issuer;
    this.protectedResource = protectedResource;
    this.http = http;
    this.allowCleartext = allowCleartext;
  }

  static AuthorizationServer configured(
      @Nullable HttpUrl tokenEndpoint,
      @Nullable HttpUrl revocationEndpoint,
      TokenEndpointClient http) {
    return new AuthorizationServer(tokenEndpoint, revocationEndpoint, null, null, http, false);
  }

  /** {@code issuer} is the user's text, which the metadata's {@code issuer} must equal exactly. */
  static AuthorizationServer discovered(
      String issuer, TokenEndpointClient http, boolean allowCleartext) {
    return new AuthorizationServer(null, null, issuer, null, http, allowCleartext);
  }

  /**
   * {@code resource} is the user's text, which the resource metadata's {@code resource} must equal
   * exactly; the first authorization server that metadata names is the issuer.
   */
  static AuthorizationServer ofProtectedResource(
      String resource, TokenEndpointClient http, boolean allowCleartext) {
    return new AuthorizationServer(null, null, null, resource, http, allowCleartext);
  }

  /** True if the endpoints come from metadata, not from the configuration. */
  private boolean discovers() {
    return issuer != null || protectedResource != null;
  }

  HttpUrl tokenEndpoint() throws IOException {
    if (!discovers()) return checkNotNull(tokenEndpoint);
    Metadata metadata = metadata();
    return endpoint(metadata, metadata.tokenEndpoint, "token_endpoint", "tokenEndpoint(url)");
  }

  HttpUrl revocationEndpoint() throws IOException {
    if (!discovers()) return checkNotNull(revocationEndpoint);
    Metadata metadata = metadata();
    return endpoint(
        metadata, metadata.revocationEndpoint, "revocation_endpoint", "revocationEndpoint(url)");
  }

  /** The server's {@code token_endpoint_auth_methods_supported}, or null if not known. */
  @Nullable Set<String> authMethodsSupported() throws IOException {
    return discovers() ? metadata().authMethods : null;
  }

  private static HttpUrl checkNotNull(@Nullable HttpUrl url) {
    if (url == null) throw new AssertionError("the builder checked that an endpoint is set");
    return url;
  }

  private HttpUrl endpoint(Metadata metadata, @Nullable String value, String name, String setter)
      throws IOException {
    String issuer = metadata.issuer;
    if (value == null) {
      throw new IOException(
          "the authorization server metadata of "
              + issuer
              + " has no "
              + name
              + ": call "
              + setter
              + (this.issuer != null
                  ? " instead of issuer(url)"
                  : " instead of protectedResource(url)"));
    }
    HttpUrl url = HttpUrl.parse(value);
    if (url == null) {
      throw new IOException(
          "the authorization server metadata of "
              + issuer
              + " has a "
              + name
              + " that is not an http or https URL: "
              + ServerText.sanitize(value));
    }
    if (!url.isHttps() && !allowCleartext && !Internal.isLoopback(url)) {
      throw new IOException(
          "the authorization server metadata of "
              + issuer
              + " has a cleartext http "
              + name
              + ": use https, or call allowCleartext(true)");
    }
    return url;
  }

  private Metadata metadata() throws IOException {
    Metadata result = metadata;
    if (result != null) return result;
    synchronized (lock) {
      result = metadata;
      if (result == null) {
        result = discover();
        metadata = result;
      }
      return result;
    }
  }

  private Metadata discover() throws IOException {
    String issuer = this.issuer;
    if (issuer == null) issuer = issuerOf(Objects.requireNonNull(protectedResource));
    HttpUrl issuerUrl = Internal.parseUrl(issuer);
    String path = issuerUrl.encodedPath();
    if (path.endsWith("/")) path = path.substring(0, path.length() - 1);
    HttpUrl rfc8414 = issuerUrl.newBuilder().encodedPath(OAUTH_WELL_KNOWN + path).build();
    HttpUrl openId = issuerUrl.newBuilder().encodedPath(path + OPENID_WELL_KNOWN).build();
    String firstAnswer;
    try (Response response = get(rfc8414)) {
      if (isMetadata(response)) return read(response, rfc8414, issuer);
      firstAnswer = describe(response);
    }
    try (Response response = get(openId)) {
      if (isMetadata(response)) return read(response, openId, issuer);
      throw new IOException(
          "found no authorization server metadata for "
              + issuer
              + ": "
              + rfc8414
              + " answered "
              + firstAnswer
              + ", "
              + openId
              + " answered "
              + describe(response));
    }
  }

  /**
   * Returns the first authorization server that {@code resource}'s metadata names (RFC 9728 §2),
   * after checking that it is an issuer identifier this helper may use.
   */
  private String issuerOf(String resource) throws IOException {
    List<String> servers = ProtectedResourceMetadata.read(resource, http).authorizationServers();
    String where = "the protected resource metadata of " + resource;
    if (servers.isEmpty()) throw new IOException(where + " names no authorization server");
    String issuer = servers.get(0);
    HttpUrl url = HttpUrl.parse(issuer);
    if (url == null || url.query() != null || url.fragment() != null || issuer.indexOf('#') >= 0) {
      throw new IOException(
          where
              + " names an authorization server that is not an http or https URL without query or"
              + " fragment: "
              + ServerText.sanitize(issuer));
    }
    if (!url.isHttps() && !allowCleartext && !Internal.isLoopback(url)) {
      throw new IOException(
          where
              + " names a cleartext http authorization server, "
              + ServerText.sanitize(issuer)
              + ": use https, or call allowCleartext(true)");
    }
    return issuer;
  }

  /**
   * True for a 2xx that may be a metadata document: not one whose type says it is not JSON, such as
   * the HTML page that a catch-all route serves for any path.
   */
  private static boolean isMetadata(Response response) {
    String type = response.header("Content-Type");
    return response.isSuccessful()
        && (type == null || type.toLowerCase(Locale.US).contains("json"));
  }

  private static String describe(Response response) {
    String type = response.header("Content-Type");
    return "HTTP "
        + response.code()
        + (response.isSuccessful() && type != null ? " (" + ServerText.sanitize(type) + ")" : "");
  }

  private Response get(HttpUrl url) throws IOException {
    Request request = new Request.Builder().url(url).header("Accept", "application/json").build();
    return http.send(request, "the authorization server metadata");
  }

  /** Reads and checks a metadata document (RFC 8414 §3.2). */
  private static Metadata read(Response response, HttpUrl url, String issuer) throws IOException {
    Buffer body = TokenEndpointClient.readBody(response);
    if (body == null) {
      throw new IOException(
          "the authorization server metadata at " + url + " is larger than 1 MiB");
    }
    String documentIssuer = null;
    String tokenEndpoint = null;
    String revocationEndpoint = null;
    Set<String> authMethods = null;
    try {
      JsonReader reader = JsonReader.of(body);
      reader.beginObject();
      while (reader.hasNext()) {
        switch (reader.nextName()) {
          case "issuer":
            documentIssuer = reader.nextString();
            break;
          case "token_endpoint":
            tokenEndpoint = reader.nextString();
            break;
          case "revocation_endpoint":
            revocationEndpoint = reader.nextString();
            break;
          case "token_endpoint_auth_methods_supported":
            authMethods = new LinkedHashSet<>();
            reader.beginArray();
            while (reader.hasNext()) authMethods.add(reader.nextString());
            reader.endArray();
            break;
          default:
            reader.skipValue();
        }
      }
      reader.endObject();
    } catch (JsonDataException | JsonEncodingException | EOFException e) {
      throw new IOException(
          "the authorization server metadata at "
              + url
              + " is malformed ("
              + e.getClass().getSimpleName()
              + ")");
    }
    if (!issuer.equals(documentIssuer)) {
      throw new IOException(
          "the authorization server metadata at "
              + url
              + " is for issuer "
              + (documentIssuer != null ? ServerText.sanitize(documentIssuer) : "(none)")
              + ", not "
              + issuer
              + ": it is not used (RFC 8414 §3.3); configure the issuer exactly as the server names"
              + " it");
    }
    return new Metadata(
        issuer,
        tokenEndpoint,
        revocationEndpoint,
        authMethods != null ? Collections.unmodifiableSet(authMethods) : null);
  }

  @Override
  public String toString() {
    return issuer != null
        ? "issuer=" + issuer
        : protectedResource != null
            ? "protectedResource=" + protectedResource
            : tokenEndpoint != null
                ? "tokenEndpoint=" + tokenEndpoint
                : "revocationEndpoint=" + revocationEndpoint;
  }

  /** What the helpers use of a metadata document. Immutable. */
  private static final class Metadata {
    final String issuer;
    final @Nullable String tokenEndpoint;
    final @Nullable String revocationEndpoint;
    final @Nullable Set<String> authMethods;

    Metadata(
        String issuer,
        @Nullable String tokenEndpoint,
        @Nullable String revocationEndpoint,
        @Nullable Set<String> authMethods) {
      this.issuer = issuer;
      this.tokenEndpoint = tokenEndpoint;
      this.revocationEndpoint = revocationEndpoint;
      this.authMethods = authMethods;
    }
  }
}
