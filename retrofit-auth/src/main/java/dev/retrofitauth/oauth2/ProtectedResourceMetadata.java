package dev.retrofitauth.oauth2;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonEncodingException;
import com.squareup.moshi.JsonReader;
import dev.retrofitauth.internal.Challenges;
import dev.retrofitauth.internal.Internal;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * The metadata of an OAuth 2 protected resource (RFC 9728): which authorization servers issue
 * tokens for an API, and which scopes it knows.
 *
 * <pre>{@code
 * ProtectedResourceMetadata api =
 *     ProtectedResourceMetadata.read("https://api.example.com", okHttpClient);
 * String issuer = api.authorizationServers().get(0);
 * }</pre>
 *
 * <p>It is read either from the resource identifier, at {@code
 * /.well-known/oauth-protected-resource} inserted between the host and the path (RFC 9728 §3.1; a
 * path's terminating slash is removed, as for an issuer), or from the URL that the {@code
 * resource_metadata} parameter of a 401's {@code WWW-Authenticate} names (§5.1). A document is used
 * only if it is about the resource asked for (§3.3): read from a resource identifier, its {@code
 * resource} must be that identifier exactly, as given; read from a challenge, its {@code resource}
 * must have the origin (scheme, host and port) of the request that got the 401. Otherwise whoever
 * can serve a document could name their own authorization server, and the client would send it its
 * credentials.
 *
 * <p>The request goes through a copy of the given client without retrofit-auth's interceptor and
 * authenticator, so it carries no token; it follows no redirect, must answer a JSON 2xx, is read up
 * to 1 MiB, and is limited to 30 seconds in all. Metadata is read only over https, or cleartext
 * http to loopback, unless cleartext is allowed. The helpers take it with {@link
 * OAuth2TokenSource.ClientCredentialsBuilder#protectedResource protectedResource(url)}. Instances
 * are immutable and thread-safe.
 */
public final class ProtectedResourceMetadata {
  private static final String WELL_KNOWN = "/.well-known/oauth-protected-resource";

  private final String resource;
  private final List<String> authorizationServers;
  private final List<String> scopesSupported;

  private ProtectedResourceMetadata(
      String resource, List<String> authorizationServers, List<String> scopesSupported) {
    this.resource = resource;
    this.authorizationServers = authorizationServers;
    this.scopesSupported = scopesSupported;
  }

  /**
   * Reads the metadata of the resource identified by {@code resource}, such as {@code
   * https://api.example.com}, from its well-known URL; {@code resource} must be https, or http to
   * loopback.
   *
   * @throws IllegalArgumentException if {@code resource} is not an http or https URL without a
   *     fragment, or is cleartext http to a host other than loopback.
   * @throws IOException if the metadata could not be read, or its {@code resource} is not {@code
   *     resource} exactly.
   */
  public static ProtectedResourceMetadata read(String resource, OkHttpClient client)
      throws IOException {
    return read(resource, client, false);
  }

  /**
   * Like {@link #read(String, OkHttpClient)}; {@code allowCleartext} allows a cleartext {@code
   * http} resource that is not on loopback.
   */
  public static ProtectedResourceMetadata read(
      String resource, OkHttpClient client, boolean allowCleartext) throws IOException {
    HttpUrl url = checkResourceIdentifier(resource);
    Objects.requireNonNull(client, "client == null");
    if (!allowCleartext && isCleartext(url)) {
      throw new IllegalArgumentException(
          "the resource is cleartext http: use https, or allow cleartext: " + resource);
    }
    return read(resource, new TokenEndpointClient(client));
  }

  /**
   * Reads the metadata that a challenge of {@code response} names in its {@code resource_metadata}
   * parameter (RFC 9728 §5.1), or returns null if no challenge names one. The URL must be https, or
   * http to loopback.
   *
   * @param response a 401 (or a 403 {@code insufficient_scope}) from the protected resource; its
   *     request is the one whose origin the metadata's {@code resource} must have. For a Retrofit
   *     {@code Response}, pass its {@code raw()}. It is not closed.
   * @throws IOException if the URL is not https, the metadata could not be read, or its {@code
   *     resource} is not of the request's origin.
   */
  public static @Nullable ProtectedResourceMetadata fromChallenge(
      Response response, OkHttpClient client) throws IOException {
    return fromChallenge(response, client, false);
  }

  /**
   * Like {@link #fromChallenge(Response, OkHttpClient)}; {@code allowCleartext} allows a cleartext
   * {@code http} metadata URL that is not on loopback.
   */
  public static @Nullable ProtectedResourceMetadata fromChallenge(
      Response response, OkHttpClient client, boolean allowCleartext) throws IOException {
    Objects.requireNonNull(response, "response == null");
    Objects.requireNonNull(client, "client == null");
    String value = null;
    for (Challenges.Challenge challenge : Challenges.parse(response.headers("WWW-Authenticate"))) {
      value = challenge.param("resource_metadata");
      if (value != null) break;
    }
    if (value == null) return null;
    String origin = origin(response.request().url());
    HttpUrl url = HttpUrl.parse(value);
    if (url == null) {
      throw new IOException(
          "the resource_metadata of the 401 from "
              + origin
              + " is not an http or https URL: "
              + ServerText.sanitize(value));
    }
    String where = "the protected resource metadata at " + ServerText.sanitize(url.toString());
    if (!allowCleartext && isCleartext(url)) {
      throw new IOException(
          where + ", named by the 401 from " + origin + ", is cleartext http: it is not read");
    }
    if (!origin(url).equals(origin)) {
      // Not fetched at all: the request would carry the app's interceptors and cookies elsewhere.
      throw new IOException(
          where + ", named by the 401 from " + origin + ", is on another origin: it is not read");
    }
    ProtectedResourceMetadata metadata = fetch(url, where, new TokenEndpointClient(client));
    HttpUrl claimed = HttpUrl.parse(metadata.resource);
    if (claimed == null
        || claimed.fragment() != null
        || !origin(claimed).equals(origin)
        || !pathCovers(claimed.encodedPath(), response.request().url().encodedPath())) {
      throw new IOException(
          where
              + " is for resource "
              + ServerText.sanitize(metadata.resource)
              + ", not for "
              + origin
              + ", which answered 401 and named it: it is not used (RFC 9728 §3.3)");
    }
    return metadata;
  }

  /**
   * True if a resource at {@code resourcePath} covers a request to {@code requestPath}: the same
   * path, or one below it, so that another path on a shared host cannot speak for this API.
   */
  private static boolean pathCovers(String resourcePath, String requestPath) {
    String base = resourcePath.endsWith("/") ? resourcePath : resourcePath + "/";
    return requestPath.equals(resourcePath) || requestPath.startsWith(base) || base.equals("/");
  }

  /**
   * Reads the metadata of {@code resource}, which was checked, through {@code http}: what the
   * helpers call on their first use.
   */
  static ProtectedResourceMetadata read(String resource, TokenEndpointClient http)
      throws IOException {
    HttpUrl resourceUrl = Internal.parseUrl(resource);
    String path = resourceUrl.encodedPath();
    if (path.endsWith("/")) path = path.substring(0, path.length() - 1);
    HttpUrl url = resourceUrl.newBuilder().encodedPath(WELL_KNOWN + path).build();
    String where = "the protected resource metadata at " + url;
    ProtectedResourceMetadata metadata = fetch(url, where, http);
    if (!resource.equals(metadata.resource)) {
      throw new IOException(
          where
              + " is for resource "
              + ServerText.sanitize(metadata.resource)
              + ", not "
              + resource
              + ": it is not used (RFC 9728 §3.3); configure the resource exactly as the API names"
              + " it");
    }
    return metadata;
  }

  /**
   * Checks a resource identifier the user gave: an http or https URL without a fragment (RFC 9728
   * §1.2).
   *
   * @throws IllegalArgumentException if it is not one.
   */
  static HttpUrl checkResourceIdentifier(String resource) {
    Objects.requireNonNull(resource, "resource == null");
    HttpUrl url = HttpUrl.parse(resource);
    if (url == null || url.fragment() != null || resource.indexOf('#') >= 0) {
      throw new IllegalArgumentException(
          "resource is not an http or https URL without a fragment: " + resource);
    }
    return url;
  }

  static boolean isCleartext(HttpUrl url) {
    return !url.isHttps() && !Internal.isLoopback(url);
  }

  /** Returns {@code url}'s scheme, host and port, as in {@code https://api.example.com:8443}. */
  private static String origin(HttpUrl url) {
    String origin =
        new HttpUrl.Builder()
            .scheme(url.scheme())
            .host(url.host())
            .port(url.port())
            .build()
            .toString();
    return origin.substring(0, origin.length() - 1); // Without the path's slash.
  }

  private static ProtectedResourceMetadata fetch(
      HttpUrl url, String where, TokenEndpointClient http) throws IOException {
    Request request = new Request.Builder().url(url).header("Accept", "application/json").build();
    try (Response response = http.send(request, "the protected resource metadata")) {
      int code = response.code();
      if (code >= 300 && code < 400) {
        throw new IOException(
            where + " redirected (HTTP " + code + "): redirects are not followed");
      }
      String type = response.header("Content-Type");
      if (!response.isSuccessful()) throw new IOException(where + " answered HTTP " + code);
      if (type != null && !type.toLowerCase(Locale.US).contains("json")) {
        throw new IOException(
            where + " answered HTTP " + code + " (" + ServerText.sanitize(type) + "), not JSON");
      }
      Buffer body = TokenEndpointClient.readBody(response);
      if (body == null) throw new IOException(where + " is larger than 1 MiB");
      return parse(body, where);
    }
  }

  /** Reads a metadata document (RFC 9728 §2); members this class does not know are skipped. */
  private static ProtectedResourceMetadata parse(Buffer body, String where) throws IOException {
    String resource = null;
    List<String> authorizationServers = Collections.emptyList();
    List<String> scopesSupported = Collections.emptyList();
    try {
      JsonReader reader = JsonReader.of(body);
      reader.beginObject();
      while (reader.hasNext()) {
        switch (reader.nextName()) {
          case "resource":
            resource = reader.nextString();
            break;
          case "authorization_servers":
            authorizationServers = strings(reader);
            break;
          case "scopes_supported":
            scopesSupported = strings(reader);
            break;
          default:
            reader.skipValue();
        }
      }
      reader.endObject();
    } catch (JsonDataException | JsonEncodingException | EOFException e) {
      throw new IOException(where + " is malformed (" + e.getClass().getSimpleName() + ")");
    }
    if (resource == null) throw new IOException(where + " has no resource");
    return new ProtectedResourceMetadata(resource, authorizationServers, scopesSupported);
  }

  private static List<String> strings(JsonReader reader) throws IOException {
    List<String> result = new ArrayList<>();
    reader.beginArray();
    while (reader.hasNext()) result.add(reader.nextString());
    reader.endArray();
    return Collections.unmodifiableList(result);
  }

  /**
   * The protected resource's identifier, as the document names it: the identifier it was read for,
   * or a URL of the origin whose 401 named the document.
   */
  public String resource() {
    return resource;
  }

  /**
   * The issuer identifiers of the authorization servers that issue tokens for this resource, in the
   * document's order; empty if it names none.
   */
  public List<String> authorizationServers() {
    return authorizationServers;
  }

  /** The scopes the resource knows ({@code scopes_supported}); empty if the document names none. */
  public List<String> scopesSupported() {
    return scopesSupported;
  }

  @Override
  public String toString() {
    return "ProtectedResourceMetadata{resource="
        + ServerText.sanitize(resource)
        + ", authorizationServers="
        + ServerText.sanitize(authorizationServers.toString())
        + "}";
  }
}
