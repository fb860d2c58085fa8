package dev.retrofitauth.redis;

import dev.retrofitauth.Tokens;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import okhttp3.HttpUrl;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.jspecify.annotations.Nullable;

/**
 * One real HTTP server for a fleet of worker processes that act for many users: an OAuth 2 token
 * endpoint with a session per user, which rotates that user's refresh token on every refresh and
 * ends the user's session when one of its refresh tokens is presented twice (as Keycloak, Auth0 and
 * Okta do), and an API at {@code /users/<id>/data} that answers 200 with the user's id to that
 * user's current access token only.
 *
 * <p>Every token the server issues belongs to one user (its subject), kept in a map from token to
 * user. The API answers 403 to a token of another user, and the token endpoint answers {@code
 * invalid_grant} to a refresh token of a user other than the one its {@code X-Fleet-User} header
 * names (the session that sent it); both are counted. {@code X-Fleet-Worker} names the process that
 * made each refresh.
 */
final class FleetUsersServer implements AutoCloseable {
  /** One user's session on the server. */
  private static final class Session {
    String accessToken;
    String refreshToken;
    boolean accessValid = true;
    boolean ended;
    int issued;
    final List<String> refreshedBy = new ArrayList<>();

    Session(String accessToken, String refreshToken) {
      this.accessToken = accessToken;
      this.refreshToken = refreshToken;
    }
  }

  private final MockWebServer server = new MockWebServer();

  // Guarded by this.
  private final Map<String, Session> sessions = new HashMap<>();
  private final Map<String, String> owners = new HashMap<>(); // Every token issued, to its user.
  private final Set<String> usedRefreshTokens = new HashSet<>();
  private int reusedRefreshTokens;
  private int crossedRefreshes;
  private int otherUsersTokens;
  private int apiCalls;
  private int api401s;

  FleetUsersServer() throws IOException {
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath() == null ? "" : request.getPath();
            if (path.equals("/token")) {
              return token(
                  request.getBody().readUtf8(),
                  request.getHeader("X-Fleet-User"),
                  request.getHeader("X-Fleet-Worker"));
            }
            return api(path, request.getHeader("Authorization"));
          }
        });
    server.start();
  }

  HttpUrl url(String path) {
    return server.url(path);
  }

  /** Starts {@code user}'s session, as a sign-in would, and returns its first tokens. */
  synchronized Tokens signIn(String user) {
    if (sessions.containsKey(user)) throw new IllegalArgumentException("signed in: " + user);
    Session session = new Session("access-" + user + "-0", "refresh-" + user + "-0");
    sessions.put(user, session);
    owners.put(session.accessToken, user);
    owners.put(session.refreshToken, user);
    return Tokens.of(session.accessToken, session.refreshToken);
  }

  /** Every user's current access token stops working: its next call gets a 401. */
  synchronized void expireAll() {
    for (Session session : sessions.values()) session.accessValid = false;
  }

  /** The tokens the server issued last to {@code user}. */
  synchronized Tokens current(String user) {
    Session session = session(user);
    return Tokens.of(session.accessToken, session.refreshToken);
  }

  /** The refreshes of {@code user} that succeeded. */
  synchronized int refreshes(String user) {
    return session(user).refreshedBy.size();
  }

  /** The worker that made each of {@code user}'s refreshes, in order. */
  synchronized List<String> refreshedBy(String user) {
    return new ArrayList<>(session(user).refreshedBy);
  }

  synchronized boolean sessionEnded(String user) {
    return session(user).ended;
  }

  synchronized int reusedRefreshTokens() {
    return reusedRefreshTokens;
  }

  /** Refresh tokens that a session other than their user's presented. */
  synchronized int crossedRefreshes() {
    return crossedRefreshes;
  }

  /** API calls that carried a token of a user other than the one the path names. */
  synchronized int otherUsersTokens() {
    return otherUsersTokens;
  }

  synchronized int apiCalls() {
    return apiCalls;
  }

  synchronized int api401s() {
    return api401s;
  }

  private Session session(String user) {
    Session session = sessions.get(user);
    if (session == null) throw new IllegalArgumentException("no session of " + user);
    return session;
  }

  private synchronized MockResponse token(
      String form, @Nullable String user, @Nullable String worker) {
    if (!"refresh_token".equals(formValue(form, "grant_type"))) return invalidGrant();
    String presented = formValue(form, "refresh_token");
    String owner = presented != null ? owners.get(presented) : null;
    if (owner == null) return invalidGrant();
    if (!owner.equals(user)) {
      crossedRefreshes++;
      return invalidGrant();
    }
    Session session = sessions.get(owner);
    if (session.ended) return invalidGrant();
    if (!usedRefreshTokens.add(presented)) {
      reusedRefreshTokens++;
      session.ended = true; // Reuse detection: the user's whole session ends.
      return invalidGrant();
    }
    if (!presented.equals(session.refreshToken)) return invalidGrant();
    session.issued++;
    session.accessToken = "access-" + owner + "-" + session.issued;
    session.refreshToken = "refresh-" + owner + "-" + session.issued;
    session.accessValid = true;
    session.refreshedBy.add(String.valueOf(worker));
    owners.put(session.accessToken, owner);
    owners.put(session.refreshToken, owner);
    String json =
        "{\"access_token\":\""
            + session.accessToken
            + "\",\"token_type\":\"Bearer\",\"expires_in\":3600,\"refresh_token\":\""
            + session.refreshToken
            + "\"}";
    return new MockResponse().setHeader("Content-Type", "application/json").setBody(json);
  }

  private synchronized MockResponse api(String path, @Nullable String authorization) {
    apiCalls++;
    // /users/<id>/data
    String[] segments = path.split("/");
    String user = segments.length == 4 && segments[1].equals("users") ? segments[2] : null;
    if (user == null || !sessions.containsKey(user)) {
      return new MockResponse().setResponseCode(404);
    }
    String token =
        authorization != null && authorization.startsWith("Bearer ")
            ? authorization.substring("Bearer ".length())
            : null;
    String owner = token != null ? owners.get(token) : null;
    if (owner != null && !owner.equals(user)) {
      otherUsersTokens++;
      return new MockResponse().setResponseCode(403);
    }
    Session session = sessions.get(user);
    if (session.ended || !session.accessValid || !session.accessToken.equals(token)) {
      api401s++;
      return new MockResponse()
          .setResponseCode(401)
          .setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    }
    return new MockResponse().setBody(user);
  }

  private static MockResponse invalidGrant() {
    return new MockResponse()
        .setResponseCode(400)
        .setHeader("Content-Type", "application/json")
        .setBody("{\"error\":\"invalid_grant\"}");
  }

  private static @Nullable String formValue(String form, String name) {
    for (String pair : form.split("&")) {
      int equals = pair.indexOf('=');
      if (equals > 0 && pair.substring(0, equals).equals(name)) {
        return URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    server.shutdown();
  }
}
