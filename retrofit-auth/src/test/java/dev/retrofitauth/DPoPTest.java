package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Collections;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import retrofit2.Response;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/**
 * DPoP at resource servers (RFC 9449 §7, §8): every proof is checked by nimbus-jose-jwt in {@link
 * DpopResourceServer}, independently of the library's signing code.
 */
final class DPoPTest {
  private final KeyPair keys = ec();
  private final DPoP dpop = DPoP.of(keys);
  private final AtomicInteger fetches = new AtomicInteger();
  private @Nullable DpopResourceServer server;
  private @Nullable RefreshManager auth;
  private @Nullable OkHttpClient client;

  static KeyPair ec() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @AfterEach
  void close() throws IOException {
    if (client != null) {
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
    if (server != null) server.close();
  }

  /** A service whose token source issues DPoP tokens bound to the test's key, at-1, at-2, ... */
  private Api start(KeyPair keyPair, DPoP key) throws IOException {
    server = new DpopResourceServer();
    TokenSource source =
        () -> {
          String token = "at-" + fetches.incrementAndGet();
          server.issue(token, keyPair.getPublic());
          return Tokens.of(token).withTokenType(Tokens.DPOP);
        };
    auth = RefreshManager.builder().tokenSource(source).dpop(key).build();
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(1_000);
    dispatcher.setMaxRequestsPerHost(1_000);
    client =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .addInterceptor(auth.interceptor())
            .addNetworkInterceptor(auth.networkInterceptor())
            .build();
    return new Retrofit.Builder()
        .baseUrl(server.url("/"))
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
        .addConverterFactory(ScalarsConverterFactory.create())
        .build()
        .create(Api.class);
  }

  private static BlockingQueue<Object> enqueue(Api api, int calls) {
    BlockingQueue<Object> results = new LinkedBlockingQueue<>();
    for (int i = 0; i < calls; i++) {
      api.get("api/item/" + i + "?page=" + i).enqueue(Callbacks.recording(results));
    }
    return results;
  }

  private static void assertAllOk(BlockingQueue<Object> results, int calls) throws Exception {
    for (int i = 0; i < calls; i++) {
      Object result = results.poll(30, TimeUnit.SECONDS);
      assertTrue(result instanceof Object[], "call failed: " + result);
      assertEquals(200, ((Response<?>) ((Object[]) result)[1]).code());
    }
  }

  @Test
  void thousandConcurrentCallsCarryProofsThatVerifyWithUniqueJtis() throws Exception {
    Api api = start(keys, dpop);

    assertAllOk(enqueue(api, 1_000), 1_000);

    assertEquals(Collections.emptyList(), server.failures);
    assertEquals(1_000, server.jtis.size());
    assertEquals(1, fetches.get());
  }

  @Test
  void rsaKeyWorksToo() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    KeyPair rsa = generator.generateKeyPair();
    Api api = start(rsa, DPoP.of(rsa));

    assertEquals(200, api.me().execute().code());
    assertEquals(Collections.emptyList(), server.failures);
  }

  @Test
  void hardwareKeySignerWorks() throws Exception {
    DPoP hardware =
        DPoP.of(
            keys.getPublic(),
            input -> {
              try {
                java.security.Signature signature =
                    java.security.Signature.getInstance("SHA256withECDSA");
                signature.initSign(keys.getPrivate());
                signature.update(input);
                return signature.sign();
              } catch (java.security.GeneralSecurityException e) {
                throw new IOException(e);
              }
            });
    Api api = start(keys, hardware);

    assertEquals(200, api.me().execute().code());
    assertEquals(Collections.emptyList(), server.failures);
    assertEquals(DpopResourceServer.thumbprint(keys.getPublic()), hardware.thumbprint());
  }

  @Test
  void nonceChallengeResendsOnceWithoutRefreshing() throws Exception {
    Api api = start(keys, dpop);
    server.requireNonce("n1");

    assertEquals(200, api.me().execute().code()); // 401 use_dpop_nonce, then the resend.
    assertEquals(2, server.requests.get());
    assertEquals(200, api.me().execute().code()); // It has the nonce now.
    assertEquals(3, server.requests.get());
    assertEquals(1, auth.stats().dpopNonceResends());
    assertTrue(auth.stats().refreshTimeSucceeded(TimeUnit.NANOSECONDS) > 0);
    assertEquals(0, auth.stats().refreshTimeFailed(TimeUnit.NANOSECONDS));

    assertEquals(1, fetches.get());
    assertEquals(Collections.emptyList(), server.failures);
  }

  interface RxApi {
    @retrofit2.http.GET("api/me")
    io.reactivex.rxjava3.core.Single<String> me();
  }

  @Test
  void rxCallsResendForTheNonceToo() throws Exception {
    Api api = start(keys, dpop);
    assertEquals(200, api.me().execute().code());
    server.requireNonce("n1");
    RxApi rx =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addCallAdapterFactory(
                retrofit2.adapter.rxjava3.RxJava3CallAdapterFactory.createSynchronous())
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(RxApi.class);

    assertEquals("ok", rx.me().blockingGet());
    assertEquals(1, server.nonceChallenges.get());
    assertEquals(1, fetches.get());
  }

  @Test
  void plainOkHttpCallsResendForTheNonceToo() throws Exception {
    Api api = start(keys, dpop);
    assertEquals(200, api.me().execute().code()); // Acquires the token; plain calls don't wait.
    server.requireNonce("n1");

    try (okhttp3.Response response =
        client.newCall(new Request.Builder().url(server.url("/img")).build()).execute()) {
      assertEquals(200, response.code());
    }
    assertEquals(1, server.nonceChallenges.get());
  }

  /**
   * A storm of 500 calls while the server starts to require a nonce, rotates it, and expires the
   * token: every call succeeds, each attempt is resent at most once for the nonce, and there is
   * exactly one refresh, for the expiry, none for the nonces.
   */
  @Test
  void nonceRotationAndExpiryInOneStorm() throws Exception {
    Api api = start(keys, dpop);
    assertEquals(200, api.me().execute().code()); // The first token, at-1.
    server.requireNonce("n1");
    server.rotateFrom = server.requests.get() + 200;
    server.rotateEvery = 200;
    server.expiring = "at-1";
    server.expireAt = server.requests.get() + 300;

    assertAllOk(enqueue(api, 500), 500);

    assertEquals(Collections.emptyList(), server.failures);
    assertEquals(2, fetches.get()); // The first token, and one refresh for the expiry.
    assertTrue(server.nonceChallenges.get() > 0, "the storm met nonce challenges");
    for (AtomicInteger perAttempt : server.nonceChallengesByAttempt.values()) {
      assertEquals(1, perAttempt.get());
    }
  }

  @Test
  void bearerTokensGoAsBearerWithAProof() throws Exception {
    MockWebServer plain = new MockWebServer();
    plain.enqueue(new MockResponse().setBody("ok"));
    plain.start();
    try {
      RefreshManager bearer = RefreshManager.builder().dpop(dpop).build();
      bearer.signIn(Tokens.of("plain-token"));
      OkHttpClient bearerClient =
          new OkHttpClient.Builder()
              .addInterceptor(bearer.interceptor())
              .addNetworkInterceptor(bearer.networkInterceptor())
              .build();
      Api api =
          new Retrofit.Builder()
              .baseUrl(plain.url("/"))
              .client(bearerClient)
              .addCallAdapterFactory(AuthCallAdapterFactory.create(bearer))
              .addConverterFactory(ScalarsConverterFactory.create())
              .build()
              .create(Api.class);
      assertEquals(200, api.me().execute().code());
      RecordedRequest request = plain.takeRequest();
      assertEquals("Bearer plain-token", request.getHeader("Authorization"));
      assertNotNull(request.getHeader("DPoP"));
    } finally {
      plain.shutdown();
    }
  }

  /** The leak sweep with DPoP on: no private key material in any log line, message or event. */
  @Test
  void noPrivateKeyMaterialInLogsMessagesOrEvents() throws Exception {
    java.util.List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    server = new DpopResourceServer();
    TokenSource source =
        () -> {
          int n = fetches.incrementAndGet();
          if (n == 2) throw new IOException("token endpoint down");
          String token = "at-" + n;
          server.issue(token, keys.getPublic());
          return Tokens.of(token).withTokenType(Tokens.DPOP);
        };
    auth =
        RefreshManager.builder()
            .tokenSource(source)
            .dpop(dpop)
            .refreshBackoff(0, 0, TimeUnit.MILLISECONDS)
            .addListener(
                new AuthListener() {
                  @Override
                  public void onRefreshFailed(IOException cause) {
                    seen.add(String.valueOf(cause));
                  }

                  @Override
                  public void onRefreshed() {
                    seen.add("refreshed");
                  }
                })
            .build();
    okhttp3.logging.HttpLoggingInterceptor logging =
        new okhttp3.logging.HttpLoggingInterceptor(seen::add);
    logging.setLevel(okhttp3.logging.HttpLoggingInterceptor.Level.BODY);
    client =
        new OkHttpClient.Builder()
            .addInterceptor(auth.interceptor())
            .addNetworkInterceptor(auth.networkInterceptor())
            .addNetworkInterceptor(logging)
            .build();
    Api api =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);
    assertEquals(200, api.me().execute().code()); // Acquires at-1.
    server.requireNonce("n1");
    assertEquals(200, api.me().execute().code()); // A nonce challenge and its resend.
    server.expire("at-1");
    try {
      api.me().execute(); // The second acquisition fails.
    } catch (IOException e) {
      seen.add(String.valueOf(e));
      seen.add(String.valueOf(e.getCause()));
    }
    assertEquals(200, api.me().execute().code()); // at-3.
    seen.add(dpop.toString());
    seen.add(auth.toString());
    seen.add(String.valueOf(auth.currentTokens()));
    seen.add(auth.stats().toString());

    assertTrue(seen.size() > 20, "collected " + seen.size() + " lines");
    java.security.interfaces.ECPrivateKey privateKey =
        (java.security.interfaces.ECPrivateKey) keys.getPrivate();
    byte[] encoded = privateKey.getEncoded();
    byte[] scalar = privateKey.getS().toByteArray();
    java.util.List<String> secrets =
        java.util.Arrays.asList(
            okio.ByteString.of(encoded).base64(),
            okio.ByteString.of(encoded).base64Url(),
            okio.ByteString.of(encoded).hex(),
            okio.ByteString.of(scalar).base64Url().replace("=", ""),
            okio.ByteString.of(scalar).hex(),
            privateKey.getS().toString());
    for (String line : seen) {
      for (String secret : secrets) {
        assertFalse(line.contains(secret.substring(8, 24)), "key material in: " + line);
      }
    }
    assertEquals(Collections.emptyList(), server.failures);
  }

  @Test
  void keyMaterialNeverShows() throws Exception {
    String described = dpop.toString();
    assertEquals(
        "DPoP{alg=ES256, jkt=" + DpopResourceServer.thumbprint(keys.getPublic()) + "}", described);
    String privateKey = okio.ByteString.of(keys.getPrivate().getEncoded()).base64();
    assertFalse(described.contains(privateKey));
    Tokens tokens = Tokens.of("secret-token").withTokenType(Tokens.DPOP);
    assertEquals(
        "Tokens{accessToken=<redacted>, refreshToken=none, expiresAtMillis=unknown,"
            + " tokenType=DPoP}",
        tokens.toString());
  }
}
