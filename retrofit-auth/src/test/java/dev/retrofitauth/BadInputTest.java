package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.retrofitauth.Services.Api;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every public builder and factory fails fast, naming the argument and the rule. */
final class BadInputTest {
  private static void fails(Class<? extends Throwable> type, String message, Executable call) {
    assertEquals(message, assertThrows(type, call).getMessage());
  }

  @Test
  void refreshManagerBuilder() {
    RefreshManager.Builder b = RefreshManager.builder();
    fails(NullPointerException.class, "store == null", () -> b.tokenStore(null));
    fails(NullPointerException.class, "refreshApi == null", () -> b.refreshApi(null));
    fails(NullPointerException.class, "listener == null", () -> b.addListener(null));
    fails(NullPointerException.class, "executor == null", () -> b.refreshExecutor(null));
    fails(NullPointerException.class, "clock == null", () -> b.clock(null));
    fails(NullPointerException.class, "unit == null", () -> b.expiryLeeway(1, null));
    fails(
        IllegalArgumentException.class,
        "leeway < 0: -1",
        () -> b.expiryLeeway(-1, TimeUnit.SECONDS));
    fails(NullPointerException.class, "leeway == null", () -> b.expiryLeeway(null));
    fails(
        IllegalArgumentException.class,
        "leeway < 0: PT-1S",
        () -> b.expiryLeeway(Duration.ofSeconds(-1)));
    fails(NullPointerException.class, "unit == null", () -> b.refreshBackoff(1, 2, null));
    fails(
        IllegalArgumentException.class,
        "initial < 0: -1",
        () -> b.refreshBackoff(-1, 2, TimeUnit.SECONDS));
    fails(
        IllegalArgumentException.class,
        "max < initial: 1 < 2",
        () -> b.refreshBackoff(2, 1, TimeUnit.SECONDS));
    fails(
        NullPointerException.class, "initial == null", () -> b.refreshBackoff(null, Duration.ZERO));
    fails(NullPointerException.class, "max == null", () -> b.refreshBackoff(Duration.ZERO, null));
    fails(
        IllegalArgumentException.class,
        "initial < 0: PT-1S",
        () -> b.refreshBackoff(Duration.ofSeconds(-1), Duration.ZERO));
    fails(
        IllegalArgumentException.class,
        "max < initial: PT1S < PT2S",
        () -> b.refreshBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
    fails(NullPointerException.class, "unit == null", () -> b.refreshTimeout(1, null));
    fails(
        IllegalArgumentException.class,
        "timeout < 0: -1",
        () -> b.refreshTimeout(-1, TimeUnit.SECONDS));
    fails(NullPointerException.class, "timeout == null", () -> b.refreshTimeout(null));
    fails(
        IllegalArgumentException.class,
        "timeout < 0: PT-0.001S",
        () -> b.refreshTimeout(Duration.ofMillis(-1)));
    fails(NullPointerException.class, "url == null", () -> b.addAllowedOrigin(null));
    fails(
        IllegalArgumentException.class,
        "url is not an http or https URL: ftp://example.com",
        () -> b.addAllowedOrigin("ftp://example.com"));
    fails(
        IllegalArgumentException.class,
        "url is not an http or https URL: ",
        () -> b.addAllowedOrigin(""));
  }

  @Test
  void queueOptions() {
    RefreshManager.Builder b = RefreshManager.builder();
    fails(
        IllegalArgumentException.class,
        "maxConcurrentRetries < 1: 0",
        () -> b.maxConcurrentRetries(0));
    fails(IllegalArgumentException.class, "maxQueuedCalls < 1: -3", () -> b.maxQueuedCalls(-3));
    fails(
        IllegalStateException.class,
        "maxConcurrentRetries and maxQueuedCalls apply to queue mode: call queueMode(true)",
        () -> RefreshManager.builder().maxConcurrentRetries(2).build());
    fails(
        IllegalStateException.class,
        "maxConcurrentRetries and maxQueuedCalls apply to queue mode: call queueMode(true)",
        () -> RefreshManager.builder().maxQueuedCalls(2).build());
  }

  @Test
  void managerMethods() {
    RefreshManager auth = RefreshManager.builder().build();
    fails(NullPointerException.class, "tokens == null", () -> auth.signIn(null));
    fails(NullPointerException.class, "group == null", () -> auth.cancelQueued(null));
  }

  @Test
  void factories() {
    fails(
        NullPointerException.class,
        "manager == null",
        () -> AuthCallAdapterFactory.create((RefreshManager) null));
    fails(NullPointerException.class, "file == null", () -> TokenStore.file(null));
    fails(NullPointerException.class, "tokens == null", () -> TokenStore.inMemory().save(null));
    fails(
        NullPointerException.class,
        "message == null",
        () -> RefreshFailedException.permanent(null));
    fails(
        NullPointerException.class,
        "message == null",
        () -> RefreshFailedException.retryAfter(null, 1, TimeUnit.SECONDS));
    fails(
        NullPointerException.class,
        "unit == null",
        () -> RefreshFailedException.retryAfter("m", 1, null));
    fails(
        IllegalArgumentException.class,
        "delay < 0: -1",
        () -> RefreshFailedException.retryAfter("m", -1, TimeUnit.SECONDS));
  }

  @Test
  void oauth2Builder() {
    dev.retrofitauth.oauth2.OAuth2RefreshApi.Builder b =
        dev.retrofitauth.oauth2.OAuth2RefreshApi.builder();
    fails(NullPointerException.class, "url == null", () -> b.tokenEndpoint(null));
    fails(NullPointerException.class, "clientId == null", () -> b.clientId(null));
    fails(NullPointerException.class, "clientSecret == null", () -> b.clientSecret(null));
    fails(IllegalArgumentException.class, "clientSecret is empty", () -> b.clientSecret(""));
    fails(
        NullPointerException.class,
        "clientAuthentication == null",
        () -> b.clientAuthentication(null));
    fails(NullPointerException.class, "scope == null", () -> b.scope(null));
    fails(NullPointerException.class, "client == null", () -> b.client(null));
    fails(NullPointerException.class, "clock == null", () -> b.clock(null));
    fails(
        IllegalStateException.class,
        "a public client (NONE) sends no secret: remove clientSecret(...) or pick "
            + "CLIENT_SECRET_BASIC or CLIENT_SECRET_POST",
        () ->
            dev.retrofitauth.oauth2.OAuth2RefreshApi.builder()
                .tokenEndpoint("https://auth.example/token")
                .clientId("a")
                .clientSecret("s")
                .clientAuthentication(dev.retrofitauth.oauth2.ClientAuthentication.NONE)
                .build());
    fails(
        NullPointerException.class,
        "jwt == null",
        () -> dev.retrofitauth.oauth2.Jwts.expiresAtMillis(null));
  }

  @Test
  void packagesAreNullMarked() {
    org.junit.jupiter.api.Assertions.assertTrue(
        RefreshManager.class
            .getPackage()
            .isAnnotationPresent(org.jspecify.annotations.NullMarked.class));
    org.junit.jupiter.api.Assertions.assertTrue(
        dev.retrofitauth.oauth2.OAuth2RefreshApi.class
            .getPackage()
            .isAnnotationPresent(org.jspecify.annotations.NullMarked.class));
  }

  @Test
  void enqueueWithNullCallback() throws Exception {
    try (Fixture fixture = Fixture.create(RefreshManager.builder())) {
      fails(
          NullPointerException.class,
          "callback == null",
          () -> fixture.create(Api.class).me().enqueue(null));
    }
  }

  @Test
  void durationOverloadsConfigureTheSameAsTimeUnit() throws Exception {
    long[] now = {1_000_000L};
    ApiServer server = new ApiServer("old");
    GatedRefreshApi refreshApi =
        new GatedRefreshApi(
            current -> {
              server.acceptOnly("new");
              return Tokens.of("new", "r2");
            });
    RefreshManager auth =
        RefreshManager.builder()
            .refreshApi(refreshApi)
            .clock(() -> now[0])
            .expiryLeeway(Duration.ofSeconds(10))
            .refreshBackoff(Duration.ZERO, Duration.ZERO)
            .refreshTimeout(Duration.ofSeconds(5))
            .build();
    try (Fixture fixture =
        new Fixture(
            server,
            auth,
            new okhttp3.OkHttpClient.Builder().addInterceptor(auth.interceptor()).build())) {
      auth.signIn(Tokens.of("old", "r1", now[0] + 3_600_000));
      fixture.create(Api.class).me().execute();
      assertEquals(0, refreshApi.calls.get()); // An hour left.

      now[0] += 3_600_000 - 9_999; // Inside the 10 s leeway.
      assertEquals(200, fixture.create(Api.class).me().execute().code());
      assertEquals(1, refreshApi.calls.get()); // Inside it: refreshed before sending.
    }
  }
}
