package dev.retrofitauth.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.Credential;
import dev.retrofitauth.KeyedSessions;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RefreshRejectedException;
import dev.retrofitauth.SessionRegistry;
import dev.retrofitauth.TokenStore;
import dev.retrofitauth.Tokens;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Call;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;
import retrofit2.http.Tag;

/**
 * The meters of a {@link SessionRegistry}: a default credential, a named one ({@code partner}) and
 * a keyed one ({@code user}, a session per {@link UserId}), each under its own {@code credential}
 * tag and never under a user's.
 */
final class SessionRegistryMetricsTest {
  /** The key of credential {@code user}: a user of the server. */
  static final class UserId {
    final String value;

    UserId(String value) {
      this.value = value;
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof UserId && ((UserId) o).value.equals(value);
    }

    @Override
    public int hashCode() {
      return value.hashCode();
    }

    @Override
    public String toString() {
      return "UserId(" + value + ")";
    }
  }

  interface Service {
    @GET("api/me")
    Call<String> me();

    @Credential("partner")
    @GET("api/rates")
    Call<String> rates();

    @Credential("user")
    @GET("api/inbox")
    Call<String> inbox(@Tag UserId user);
  }

  private static final UserId ALICE = new UserId("alice");
  private static final UserId BOB = new UserId("bob");
  private static final UserId CAROL = new UserId("carol");

  /** Her refresh token was revoked: every refresh of hers is rejected. */
  private static final UserId MALLORY = new UserId("mallory");

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private @Nullable TestServer server;
  private @Nullable OkHttpClient client;

  @AfterEach
  void tearDown() throws IOException {
    if (server != null) server.close();
    if (client != null) {
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
  }

  @Test
  void registersEveryMeterOncePerCredentialTaggedWithItsName() {
    SessionRegistry sessions = sessions(SessionRegistry.builder(), key -> TokenStore.inMemory());

    RetrofitAuthMetrics.create(sessions, Tags.of("app", "billing")).bindTo(meters);

    List<String> expected = new ArrayList<>();
    for (String credential : Arrays.asList("default", "partner", "user")) {
      String tags = "app=billing, credential=" + credential;
      expected.addAll(
          Arrays.asList(
              "COUNTER retrofit.auth.dead.token.requests.avoided [" + tags + "]",
              "COUNTER retrofit.auth.dpop.nonce.resends [" + tags + "]",
              "COUNTER retrofit.auth.refreshes.started [" + tags + "]",
              "COUNTER retrofit.auth.retries [" + tags + "]",
              "COUNTER retrofit.auth.stale.401s [" + tags + "]",
              "GAUGE retrofit.auth.calls.waiting [" + tags + ", for=refresh]",
              "GAUGE retrofit.auth.calls.waiting [" + tags + ", for=retry.slot]",
              "GAUGE retrofit.auth.sessions.live [" + tags + "]",
              "TIMER retrofit.auth.refreshes [" + tags + ", outcome=failed]",
              "TIMER retrofit.auth.refreshes [" + tags + ", outcome=rejected]",
              "TIMER retrofit.auth.refreshes [" + tags + ", outcome=succeeded]"));
    }
    expected.sort(null);
    assertEquals(expected, meterIds());
  }

  @Test
  void eachCredentialCountsItsOwnRefreshesOverHttp() throws Exception {
    SessionRegistry sessions = sessions(SessionRegistry.builder(), key -> TokenStore.inMemory());
    RetrofitAuthMetrics.create(sessions).bindTo(meters);
    KeyedSessions<UserId> users = sessions.keyed("user", UserId.class);
    for (UserId user : Arrays.asList(ALICE, BOB, MALLORY))
      users.signIn(user, Tokens.of("old", "r1"));
    Service service = service(sessions);

    // Every session holds "old"; the server takes only "new", which every refresh returns.
    assertEquals(200, service.me().execute().code());
    assertEquals(200, service.rates().execute().code());
    assertEquals(200, service.rates().execute().code()); // Sent with "new" already: no 401.
    assertEquals(200, service.inbox(ALICE).execute().code());
    assertEquals(200, service.inbox(BOB).execute().code());
    assertEquals(401, service.inbox(MALLORY).execute().code());

    assertEquals(1, counter("retrofit.auth.refreshes.started", "default"));
    assertEquals(1, timerCount("succeeded", "default"));
    assertEquals(1, counter("retrofit.auth.retries", "default"));

    assertEquals(1, counter("retrofit.auth.refreshes.started", "partner"));
    assertEquals(1, timerCount("succeeded", "partner"));
    assertEquals(1, counter("retrofit.auth.retries", "partner"));

    assertEquals(3, counter("retrofit.auth.refreshes.started", "user"));
    assertEquals(2, timerCount("succeeded", "user"));
    assertEquals(1, timerCount("rejected", "user"));
    assertTrue(timerNanos("rejected", "user") > 0);
    assertEquals(2, counter("retrofit.auth.retries", "user"));

    for (String credential : sessions.credentials()) {
      assertEquals(0, timerCount("failed", credential));
      assertEquals(0, counter("retrofit.auth.stale.401s", credential));
      assertEquals(0, gauge("retrofit.auth.calls.waiting", credential, "for", "refresh"));
      assertEquals(0, gauge("retrofit.auth.calls.waiting", credential, "for", "retry.slot"));
      assertEquals(
          sessions.stats(credential).refreshesStarted(),
          counter("retrofit.auth.refreshes.started", credential));
    }
    assertEquals(1, sessionsLive("default"));
    assertEquals(1, sessionsLive("partner"));
    assertEquals(3, sessionsLive("user"));
  }

  @Test
  void noMeterIsTaggedWithAKey() throws Exception {
    SessionRegistry sessions = sessions(SessionRegistry.builder(), key -> TokenStore.inMemory());
    RetrofitAuthMetrics.create(sessions).bindTo(meters);
    int metersBefore = meters.getMeters().size();
    KeyedSessions<UserId> users = sessions.keyed("user", UserId.class);
    List<UserId> keys = new ArrayList<>();
    for (int i = 0; i < 20; i++) keys.add(new UserId("customer-" + i));

    for (UserId user : keys) {
      users.signIn(user, Tokens.of("old", "r1"));
      users.refreshNow(user);
    }

    assertEquals(20, counter("retrofit.auth.refreshes.started", "user"));
    assertEquals(20, sessionsLive("user"));
    assertEquals(metersBefore, meters.getMeters().size());
    Set<String> tagKeys = new HashSet<>();
    for (Meter meter : meters.getMeters()) {
      for (io.micrometer.core.instrument.Tag tag : meter.getId().getTags()) {
        tagKeys.add(tag.getKey());
        if (tag.getKey().equals("credential")) {
          assertTrue(sessions.credentials().contains(tag.getValue()), tag.getValue());
        }
        for (UserId user : keys) {
          assertFalse(
              tag.getKey().contains(user.value) || tag.getValue().contains(user.value),
              meter.getId() + " is tagged with a key: " + tag);
        }
      }
    }
    assertEquals(new HashSet<>(Arrays.asList("credential", "outcome", "for")), tagKeys);
  }

  @Test
  void sessionsLiveGaugeFollowsLiveSessionsThroughEvictions() throws Exception {
    // A store of its own, unlike memory, lets a signed-in session be evicted and loaded again.
    Map<UserId, Tokens> stored = new ConcurrentHashMap<>();
    SessionRegistry sessions =
        sessions(SessionRegistry.builder().maxSessions(2), user -> new MapStore(stored, user));
    RetrofitAuthMetrics.create(sessions).bindTo(meters);
    KeyedSessions<UserId> users = sessions.keyed("user", UserId.class);
    assertEquals(0, sessionsLive("user"));

    users.signIn(ALICE, Tokens.of("old", "r1"));
    users.refreshNow(ALICE);
    assertEquals(1, sessionsLive("user"));
    users.signIn(BOB, Tokens.of("old", "r1"));
    assertEquals(2, sessionsLive("user"));
    users.signIn(CAROL, Tokens.of("old", "r1")); // One too many: Alice, the least recent, goes.
    assertEquals(2, sessions.liveSessions("user"));
    assertEquals(2, sessionsLive("user"));
    // Her refresh still counts though her session is gone.
    assertEquals(1, counter("retrofit.auth.refreshes.started", "user"));
    assertEquals(1, timerCount("succeeded", "user"));

    users.refreshNow(ALICE); // Built again from her store; Bob goes.
    assertEquals(2, sessions.liveSessions("user"));
    assertEquals(2, sessionsLive("user"));
    assertEquals(1, users.stats(ALICE).refreshesStarted()); // Her new session's own count.
    assertEquals(2, counter("retrofit.auth.refreshes.started", "user"));
    assertEquals(2, timerCount("succeeded", "user"));
    assertEquals(1, sessionsLive("default"));
    assertEquals(1, sessionsLive("partner"));
  }

  @Test
  void meterRegistryDoesNotKeepTheSessionRegistryAlive() throws Exception {
    WeakReference<SessionRegistry> collected = refreshOnceInARegistryThatIsDropped();

    Harness.await(
        "the dropped session registry to be collected",
        () -> {
          System.gc();
          return collected.get() == null;
        });

    // What the last scrape read.
    assertEquals(1, counter("retrofit.auth.refreshes.started", "user"));
    assertEquals(1, timerCount("succeeded", "user"));
    assertEquals(1, counter("retrofit.auth.refreshes.started", "default"));
    assertEquals(0, counter("retrofit.auth.refreshes.started", "partner"));
    assertTrue(Double.isNaN(sessionsLive("user")));
    assertTrue(Double.isNaN(sessionsLive("default")));
    assertTrue(Double.isNaN(gauge("retrofit.auth.calls.waiting", "user", "for", "refresh")));
  }

  /** Binds a registry whose default and user sessions refresh once, then lets go of it. */
  private WeakReference<SessionRegistry> refreshOnceInARegistryThatIsDropped() throws IOException {
    SessionRegistry sessions = sessions(SessionRegistry.builder(), key -> TokenStore.inMemory());
    RetrofitAuthMetrics.create(sessions).bindTo(meters);
    sessions.manager("default").refreshNow();
    KeyedSessions<UserId> users = sessions.keyed("user", UserId.class);
    users.signIn(ALICE, Tokens.of("old", "r1"));
    users.refreshNow(ALICE);
    scrape();
    assertEquals(1, counter("retrofit.auth.refreshes.started", "user"));
    assertEquals(1, sessionsLive("user"));
    return new WeakReference<>(sessions);
  }

  @Test
  void aCallersCredentialTagIsRefused() {
    SessionRegistry sessions = sessions(SessionRegistry.builder(), key -> TokenStore.inMemory());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RetrofitAuthMetrics.create(sessions, Tags.of("credential", "mine")));
    assertEquals(
        "tags have the key \"credential\", which this binder sets to each credential's name:"
            + " [tag(credential=mine)]",
        e.getMessage());
  }

  @Test
  void nullArgumentsAreNamed() {
    SessionRegistry sessions = sessions(SessionRegistry.builder(), key -> TokenStore.inMemory());
    assertEquals(
        "registry == null",
        assertThrows(
                NullPointerException.class,
                () -> RetrofitAuthMetrics.create((SessionRegistry) null))
            .getMessage());
    assertEquals(
        "tags == null",
        assertThrows(NullPointerException.class, () -> RetrofitAuthMetrics.create(sessions, null))
            .getMessage());
    assertEquals(
        "registry == null",
        assertThrows(
                NullPointerException.class, () -> RetrofitAuthMetrics.create(sessions).bindTo(null))
            .getMessage());
  }

  /** Where each user's session keeps its tokens. */
  interface Stores {
    TokenStore storeOf(UserId user);
  }

  /**
   * The default and {@code partner} credentials, signed in with "old", and {@code user}, whose
   * sessions start signed out. Every refresh returns access "new", but Mallory's are rejected.
   */
  private static SessionRegistry sessions(SessionRegistry.Builder builder, Stores stores) {
    RefreshManager defaultAuth =
        RefreshManager.builder().refreshApi(current -> newTokens()).build();
    defaultAuth.signIn(Tokens.of("old", "r1"));
    RefreshManager partnerAuth =
        RefreshManager.builder().refreshApi(current -> newTokens()).build();
    partnerAuth.signIn(Tokens.of("old", "r1"));
    return builder
        .add(defaultAuth)
        .add("partner", partnerAuth)
        .addKeyed(
            "user",
            UserId.class,
            user ->
                RefreshManager.builder()
                    .tokenStore(stores.storeOf(user))
                    .refreshApi(
                        current -> {
                          if (user.equals(MALLORY)) {
                            throw new RefreshRejectedException("refresh token revoked");
                          }
                          return newTokens();
                        }))
        .build();
  }

  private static Tokens newTokens() {
    return Tokens.of("new", "r2");
  }

  /** A real API that takes only access "new", and a Retrofit that calls it through the registry. */
  private Service service(SessionRegistry sessions) throws IOException {
    server = new TestServer("new");
    client =
        new OkHttpClient.Builder()
            .addInterceptor(sessions.interceptor())
            .addNetworkInterceptor(sessions.networkInterceptor())
            .build();
    return new Retrofit.Builder()
        .baseUrl(server.url())
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(sessions))
        .addConverterFactory(ScalarsConverterFactory.create())
        .build()
        .create(Service.class);
  }

  /** Reads every meter's value, as a scrape does: a counter keeps what it last read. */
  private void scrape() {
    for (Meter meter : meters.getMeters()) {
      for (Measurement measurement : meter.measure()) measurement.getValue();
    }
  }

  private List<String> meterIds() {
    return meters.getMeters().stream()
        .map(
            m ->
                m.getId().getType()
                    + " "
                    + m.getId().getName()
                    + " "
                    + m.getId().getTags().stream()
                        .map(t -> t.getKey() + "=" + t.getValue())
                        .collect(Collectors.toList()))
        .sorted()
        .collect(Collectors.toList());
  }

  private double counter(String name, String credential) {
    return meters.get(name).tag("credential", credential).functionCounter().count();
  }

  private double timerCount(String outcome, String credential) {
    return meters
        .get("retrofit.auth.refreshes")
        .tags("credential", credential, "outcome", outcome)
        .functionTimer()
        .count();
  }

  private double timerNanos(String outcome, String credential) {
    return meters
        .get("retrofit.auth.refreshes")
        .tags("credential", credential, "outcome", outcome)
        .functionTimer()
        .totalTime(TimeUnit.NANOSECONDS);
  }

  private double gauge(String name, String credential, String... tags) {
    return meters.get(name).tag("credential", credential).tags(tags).gauge().value();
  }

  private double sessionsLive(String credential) {
    return gauge("retrofit.auth.sessions.live", credential);
  }

  /** A store of one user's tokens in a map the test holds: it survives the user's session. */
  private static final class MapStore implements TokenStore {
    private final Map<UserId, Tokens> stored;
    private final UserId user;

    MapStore(Map<UserId, Tokens> stored, UserId user) {
      this.stored = stored;
      this.user = user;
    }

    @Override
    public @Nullable Tokens load() {
      return stored.get(user);
    }

    @Override
    public void save(Tokens tokens) {
      stored.put(user, tokens);
    }

    @Override
    public void clear() {
      stored.remove(user);
    }
  }
}
