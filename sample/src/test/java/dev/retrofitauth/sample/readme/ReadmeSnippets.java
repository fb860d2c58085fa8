package dev.retrofitauth.sample.readme;

import android.security.keystore.KeyGenParameterSpec;
import android.security.keystore.KeyProperties;
import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.AuthListener;
import dev.retrofitauth.AuthListener.SignOutReason;
import dev.retrofitauth.Clock;
import dev.retrofitauth.Credential;
import dev.retrofitauth.DPoP;
import dev.retrofitauth.KeyedSessions;
import dev.retrofitauth.QueuedCall;
import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RetryGroup;
import dev.retrofitauth.RetryPriority;
import dev.retrofitauth.SessionRegistry;
import dev.retrofitauth.TokenStore;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.micrometer.RetrofitAuthMetrics;
import dev.retrofitauth.oauth2.ClientAssertionSource;
import dev.retrofitauth.oauth2.ClientAuthentication;
import dev.retrofitauth.oauth2.OAuth2RefreshApi;
import dev.retrofitauth.oauth2.OAuth2TokenSource;
import dev.retrofitauth.oauth2.SecurityTokenSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.reactivex.rxjava3.core.Single;
import java.io.File;
import java.security.KeyPair;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import retrofit2.Call;
import retrofit2.Retrofit;
import retrofit2.adapter.rxjava3.RxJava3CallAdapterFactory;
import retrofit2.http.Body;
import retrofit2.http.GET;
import retrofit2.http.POST;
import retrofit2.http.Tag;

/**
 * Every {@code java} block of README.md, compiled. Each block is the text between {@code
 * readme:begin NAME} and {@code readme:end}, which {@link ReadmeTest} compares with the README. The
 * blocks are fragments: the fields and types here are what they take as given, and each runs inside
 * a method of its own. google-java-format leaves them as the README shows them.
 */
final class ReadmeSnippets {
  // What the snippets take as given: the app's own types and values.
  record Credentials(String username, String password) {}

  static final class User {}

  static final class Status {}

  static final class Order {}

  static final class Feed {}

  static String username;
  static String password;
  static RefreshApi refreshApi;
  static RefreshManager auth;
  static OkHttpClient client;
  static OkHttpClient okHttpClient;
  static String secret;
  static String access;
  static String refresh;
  static long expiresInSeconds;
  static Clock clock;
  static KeyPair keyPair;
  static String issuer;
  static File configDir;
  static File filesDir;
  static Executor mainThread;
  static MeterRegistry registry;

  static void showLoginScreen() {}

  private ReadmeSnippets() {}

  static void queueMode() {
    // readme:begin queue-mode
    RefreshManager auth = RefreshManager.builder()
        .refreshApi(refreshApi)
        .queueMode(true)
        .maxConcurrentRetries(4)      // at most 4 retries on the wire; the next starts when one ends
        .maxQueuedCalls(500)          // the 501st waiting call fails at once with an IOException
        .build();

    interface Api {
      @RetryPriority(10) @POST("checkout") Call<Order> checkout();   // retried before the others
      @RetryGroup("feed") @GET("feed") Call<Feed> feed();              // cancellable as a group
    }

    auth.cancelQueued("feed");        // the feed screen closed: each of its calls fails once
    List<QueuedCall> waiting = auth.queuedCalls();  // method, group, priority, time waited
    // readme:end
  }

  static void expiry() {
    // readme:begin expiry
    RefreshManager auth = RefreshManager.builder()
        .refreshApi(refreshApi)
        .expiryLeeway(30, TimeUnit.SECONDS)
        .clock(clock)                 // injectable; tests move time without sleeping
        .build();

    auth.signIn(Tokens.of(access, refresh, System.currentTimeMillis() + expiresInSeconds * 1000));
    // readme:end
  }

  static void oauth2() {
    // readme:begin oauth2-refresh-api
    RefreshApi refreshApi = OAuth2RefreshApi.builder()
        .tokenEndpoint("https://auth.example.com/oauth/token")
        .clientId("my-app")
        .clientSecret(secret)         // sent as client_secret_basic, unless:
        .clientAuthentication(ClientAuthentication.CLIENT_SECRET_POST)
        .scope("read write")          // optional
        .client(okHttpClient)         // optional; its copy drops retrofit-auth's interceptor
        .build();
    // readme:end
  }

  static void tokenSource() {
    // readme:begin token-source
    RefreshManager auth = RefreshManager.builder()
        .tokenSource(OAuth2TokenSource.clientCredentials()
            .issuer("https://auth.example.com")          // discovery, or .tokenEndpoint(url)
            .clientId("reporting-job").clientSecret(secret) // or .privateKey(key, keyId)
            .scope("reports:read").build())
        .build();                                         // no signIn(): the first call acquires
    // readme:end
  }

  static void workloadIdentity() {
    // readme:begin workload-identity
    RefreshManager auth = RefreshManager.builder()
        .tokenSource(OAuth2TokenSource.clientCredentials()
            .issuer("https://login.example.com/tenant-1/v2.0")
            .clientId(System.getenv("AZURE_CLIENT_ID"))
            .clientAssertion(ClientAssertionSource.fromFile(   // read again for each token request
                new File(System.getenv("AZURE_FEDERATED_TOKEN_FILE"))))
            .scope("api://reports/.default").build())
        .build();
    // readme:end
  }

  static void tokenExchange(RefreshManager userAuth, InboundTokens inboundTokens) {
    // readme:begin token-exchange
    // One user: the token of the user's own session, exchanged for one for the orders API.
    RefreshManager orders = RefreshManager.builder()
        .tokenSource(OAuth2TokenSource.tokenExchange()
            .issuer("https://auth.example.com")
            .clientId("gateway").clientSecret(secret)
            .subjectToken(SecurityTokenSource.of(userAuth))
            .audience("https://orders.example.com").build())
        .build();

    // A server acting for many users: one builder, a session per user.
    OAuth2TokenSource.TokenExchangeBuilder exchange = OAuth2TokenSource.tokenExchange()
        .issuer("https://auth.example.com")
        .clientId("gateway").clientSecret(secret)
        .audience("https://orders.example.com");
    SessionRegistry sessions = SessionRegistry.builder()
        .addKeyed("orders", String.class, userId -> RefreshManager.builder()
            .tokenSource(exchange.buildFor(() -> inboundTokens.tokenOf(userId))))
        .build();
    // readme:end
  }

  /** Where a server keeps the token each user called it with. */
  interface InboundTokens {
    String tokenOf(String userId);
  }

  static void protectedResource() {
    // readme:begin protected-resource
    OAuth2TokenSource source = OAuth2TokenSource.clientCredentials()
        .protectedResource("https://api.example.com") // instead of issuer(url) or tokenEndpoint(url)
        .clientId("reporting-job")
        .clientSecret(secret)
        .build();
    // readme:end
  }

  static void refreshWhen() {
    // readme:begin refresh-when
    RefreshManager auth = RefreshManager.builder()
        .refreshApi(refreshApi)
        .refreshWhen(response -> response.code() == 403
            && response.body().string().contains("\"code\":\"token_expired\""))
        .build();
    // readme:end
  }

  static void dpop() {
    // readme:begin dpop
    DPoP dpop = DPoP.of(keyPair);                  // or DPoP.generate(), or DPoP.of(publicKey, signer)
    RefreshManager auth = RefreshManager.builder()
        .dpop(dpop)
        .refreshApi(OAuth2RefreshApi.builder().issuer(issuer).clientId("app").dpop(dpop).build())
        .build();
    OkHttpClient client = new OkHttpClient.Builder()
        .addInterceptor(auth.interceptor())
        .addNetworkInterceptor(auth.networkInterceptor())  // signs a proof for each network hop
        .build();
    // readme:end
  }

  static void fileStore() {
    // readme:begin file-store
    RefreshManager auth = RefreshManager.builder()
        .tokenStore(TokenStore.file(new File(configDir, "tokens.json")))
        .refreshApi(refreshApi)
        .build();                     // loads the file once
    // readme:end
  }

  static void encryptedFileStore() throws Exception {
    // readme:begin encrypted-file-store
    // Android: an AES key that never leaves the Keystore, created once.
    KeyStore keyStore = KeyStore.getInstance("AndroidKeyStore");
    keyStore.load(null);
    if (!keyStore.containsAlias("tokens")) {
      KeyGenerator generator = KeyGenerator.getInstance("AES", "AndroidKeyStore");
      generator.init(new KeyGenParameterSpec.Builder("tokens",
              KeyProperties.PURPOSE_ENCRYPT | KeyProperties.PURPOSE_DECRYPT)
          .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
          .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
          .setKeySize(256)
          .build());
      generator.generateKey();
    }
    SecretKey key = (SecretKey) keyStore.getKey("tokens", null);
    TokenStore store = TokenStore.file(new File(filesDir, "tokens.json"), "v1", key);
    // readme:end
  }

  static void listener() {
    // readme:begin listener
    RefreshManager auth = RefreshManager.builder()
        .refreshApi(refreshApi)
        .addListener(new AuthListener() {
          @Override public void onSignedOut(SignOutReason reason) {
            mainThread.execute(() -> showLoginScreen()); // listeners run on the manager's threads
          }
        })
        .build();
    // readme:end
  }

  static void metrics() {
    // readme:begin metrics
    RetrofitAuthMetrics.create(auth, Tags.of("manager", "payments")).bindTo(registry);
    // readme:end
  }

  static void worksWith() {
    // readme:begin works-with
    interface Api {
      @GET("me") Call<User> me();
      @GET("me") CompletableFuture<User> meFuture();
      @GET("me") Single<User> meSingle();
    }

    Retrofit retrofit = new Retrofit.Builder()
        .baseUrl("https://api.example.com/")
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))     // first...
        .addCallAdapterFactory(RxJava3CallAdapterFactory.create())      // ...then the others
        .build();
    // readme:end
  }

  static void imageLoaders() {
    // readme:begin plain-okhttp
    // Image loaders and other plain OkHttp calls share the same refresh.
    RefreshManager auth = RefreshManager.builder()
        .addAllowedOrigin("https://images.example.com/")   // origins outside any Retrofit base URL
        .refreshApi(refreshApi)
        .build();
    OkHttpClient client = new OkHttpClient.Builder()
        .addInterceptor(auth.interceptor())
        .authenticator(auth.authenticator())
        .build();
    // readme:end
  }

  static final class Rates {}

  static final class Report {}

  static final class Inbox {}

  /** A user of the server: the key of its sessions. */
  static final class UserId {
    String value() {
      return "";
    }
  }

  static File tokenDir;
  static UserId userId;
  static Tokens tokens;

  static void twoCredentials() {
    // readme:begin two-credentials
    interface Api {
      @GET("me") Call<User> me();                       // the default: the user's token
      @Credential("partner")                            // the partner's machine token
      @GET("https://partner.example/v1/rates") Call<Rates> rates();
    }

    RefreshManager user = RefreshManager.builder().refreshApi(refreshApi).build();
    RefreshManager partner = RefreshManager.builder()
        .tokenSource(OAuth2TokenSource.clientCredentials()
            .issuer("https://auth.partner.example")
            .clientId("my-app")
            .clientSecret(secret)
            .build())
        .addAllowedOrigin("https://partner.example")    // the only origin its token goes to
        .build();
    SessionRegistry sessions = SessionRegistry.builder()
        .add(user)                                      // methods without @Credential
        .add("partner", partner)
        .build();

    OkHttpClient client = new OkHttpClient.Builder()
        .addInterceptor(sessions.interceptor())
        .build();
    Retrofit retrofit = new Retrofit.Builder()
        .baseUrl("https://api.example.com/")
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(sessions))   // first
        .build();
    // readme:end
  }

  static void perUser() throws Exception {
    // readme:begin session-per-user
    interface InboxApi {
      @Credential("user") @GET("inbox") Call<Inbox> inbox(@Tag UserId user);
    }

    SessionRegistry sessions = SessionRegistry.builder()
        .addKeyed("user", UserId.class, user -> RefreshManager.builder()
            .tokenStore(TokenStore.fileIn(tokenDir, user.value()))  // one owner-only file each
            .refreshApi(refreshApi))                                // one OAuth2RefreshApi for all
        .maxSessions(10_000)                   // live at once; the others wait in their files
        .sessionIdleTimeout(30, TimeUnit.MINUTES)
        .build();
    KeyedSessions<UserId> users = sessions.keyed("user", UserId.class);
    OkHttpClient client = new OkHttpClient.Builder()
        .addInterceptor(sessions.interceptor())
        .build();
    InboxApi api = new Retrofit.Builder()
        .baseUrl("https://api.example.com/")
        .client(client)
        .addCallAdapterFactory(AuthCallAdapterFactory.create(sessions))
        .build()
        .create(InboxApi.class);

    users.signIn(userId, tokens);              // after that user's login flow
    Inbox inbox = api.inbox(userId).execute().body();  // any thread: that user's token
    users.signOut(userId);                     // no other user's calls are touched
    // readme:end
  }

  static void perScope() {
    // readme:begin session-per-scope
    interface ReportsApi {
      @Credential(value = "reports", scope = "reports.read")
      @GET("reports") Call<List<Report>> list();
      @Credential(value = "reports", scope = "reports.write")
      @POST("reports") Call<Report> create(@Body Report report);
    }

    SessionRegistry sessions = SessionRegistry.builder()
        .addPerScope("reports", scope -> RefreshManager.builder()
            .tokenSource(OAuth2TokenSource.clientCredentials()
                .issuer(issuer)
                .clientId("reports-worker")
                .clientSecret(secret)
                .scope(scope)                  // "reports.read", then "reports.write"
                .build()))
        .build();
    // readme:end
  }

  static void plainRequestTag() {
    SessionRegistry sessions = null;
    // readme:begin credential-tag
    Request request = new Request.Builder()
        .url("https://partner.example/v1/rates")
        .tag(Credential.class, SessionRegistry.credential("partner"))
        .build();
    // readme:end
  }

  static void registryMetrics() {
    SessionRegistry sessions = null;
    // readme:begin registry-metrics
    RetrofitAuthMetrics.create(sessions).bindTo(registry);  // tagged credential=<name>, never by user
    // readme:end
  }
}
