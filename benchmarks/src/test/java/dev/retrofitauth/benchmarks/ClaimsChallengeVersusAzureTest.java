package dev.retrofitauth.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpPipelineBuilder;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.okhttp.OkHttpAsyncHttpClientBuilder;
import com.azure.core.http.policy.BearerTokenAuthenticationPolicy;
import com.azure.core.util.Context;
import dev.retrofitauth.AuthCallAdapterFactory;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.TokenSourceWithRequirements;
import dev.retrofitauth.Tokens;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.FormBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import okio.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import retrofit2.Call;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;
import retrofit2.http.GET;

/**
 * A claims challenge (Continuous Access Evaluation) answered by retrofit-auth and by azure-core's
 * {@code BearerTokenAuthenticationPolicy}, on one scripted HTTPS server: an API that answers 401
 * with {@code error="insufficient_claims"} and base64 claims, and a token endpoint that records
 * what each token request asked for. Both get their tokens from that endpoint the same way, so the
 * counts compare the policies. The table goes to {@code target/claims-versus-azure.md}.
 */
final class ClaimsChallengeVersusAzureTest {
  private static final String CLAIMS =
      "{\"access_token\":{\"nbf\":{\"essential\":true,\"value\":\"1726077595\"}}}";
  private static final String CHALLENGE =
      "Bearer realm=\"\", authorization_uri=\"https://login.example.com/authorize\","
          + " error=\"insufficient_claims\", claims=\""
          + ByteString.encodeUtf8(CLAIMS).base64()
          + "\"";

  interface Api {
    @GET("api/data")
    Call<String> data();
  }

  private final MockWebServer server = new MockWebServer();
  private OkHttpClient client;
  private final List<String> tokenRequestClaims = new CopyOnWriteArrayList<>();
  private final AtomicInteger apiRequests = new AtomicInteger();
  private final AtomicInteger issued = new AtomicInteger();
  private volatile boolean alwaysChallenge;

  @BeforeEach
  void start() throws IOException {
    HeldCertificate localhost =
        new HeldCertificate.Builder().addSubjectAlternativeName("localhost").build();
    server.useHttps(
        new HandshakeCertificates.Builder().heldCertificate(localhost).build().sslSocketFactory(),
        false);
    HandshakeCertificates trust =
        new HandshakeCertificates.Builder().addTrustedCertificate(localhost.certificate()).build();
    client =
        new OkHttpClient.Builder()
            .sslSocketFactory(trust.sslSocketFactory(), trust.trustManager())
            .build();
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            if (request.getPath().equals("/oauth/token")) {
              String form = request.getBody().readUtf8();
              String claims = formValue(form, "claims");
              tokenRequestClaims.add(claims == null ? "-" : claims);
              String token = "token-" + issued.incrementAndGet() + (claims != null ? "-cae" : "");
              return new MockResponse()
                  .setHeader("Content-Type", "application/json")
                  .setBody(
                      "{\"access_token\":\""
                          + token
                          + "\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
            }
            apiRequests.incrementAndGet();
            String authorization = request.getHeader("Authorization");
            if (authorization != null && authorization.endsWith("-cae") && !alwaysChallenge) {
              return new MockResponse().setBody("ok");
            }
            return new MockResponse().setResponseCode(401).setHeader("WWW-Authenticate", CHALLENGE);
          }
        });
    server.start();
  }

  @AfterEach
  void stop() throws IOException {
    server.shutdown();
  }

  /** The one token request both contenders make: client credentials, with the claims if asked. */
  private String requestToken(String claims) throws IOException {
    FormBody.Builder form =
        new FormBody.Builder().add("grant_type", "client_credentials").add("client_id", "worker");
    if (claims != null) form.add("claims", claims);
    Request request =
        new Request.Builder().url(server.url("/oauth/token")).post(form.build()).build();
    try (Response response = client.newCall(request).execute()) {
      String body = response.body().string();
      int start = body.indexOf("\"access_token\":\"") + "\"access_token\":\"".length();
      return body.substring(start, body.indexOf('"', start));
    }
  }

  /** What one contender did for one call: its status, token requests and API requests. */
  private static final class Outcome {
    final int status;
    final List<String> claims;
    final int apiRequests;

    Outcome(int status, List<String> claims, int apiRequests) {
      this.status = status;
      this.claims = claims;
      this.apiRequests = apiRequests;
    }

    @Override
    public String toString() {
      return status + ", token requests " + claims + ", API requests " + apiRequests;
    }
  }

  private Outcome retrofitAuth() throws IOException {
    TokenSourceWithRequirements source =
        new TokenSourceWithRequirements() {
          @Override
          public Tokens fetch() throws IOException {
            return Tokens.of(requestToken(null));
          }

          @Override
          public Tokens fetch(dev.retrofitauth.TokenRequirements requirements) throws IOException {
            return Tokens.of(requestToken(requirements.claims()));
          }

          @Override
          public boolean accepts(dev.retrofitauth.TokenRequirements requirements) {
            return true;
          }
        };
    RefreshManager auth = RefreshManager.builder().tokenSource(source).build();
    Api api =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client.newBuilder().addInterceptor(auth.interceptor()).build())
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build()
            .create(Api.class);
    return measure(() -> api.data().execute().code());
  }

  private Outcome azure() throws IOException {
    TokenCredential credential =
        context ->
            Mono.fromCallable(
                () ->
                    new AccessToken(
                        requestToken(context.getClaims()), OffsetDateTime.now().plusHours(1)));
    HttpPipeline pipeline =
        new HttpPipelineBuilder()
            .httpClient(new OkHttpAsyncHttpClientBuilder(client).build())
            .policies(new BearerTokenAuthenticationPolicy(credential, "api://scripted/.default"))
            .build();
    return measure(
        () ->
            pipeline
                .sendSync(
                    new HttpRequest(HttpMethod.GET, server.url("/api/data").toString()),
                    Context.NONE)
                .getStatusCode());
  }

  private interface Call1 {
    int call() throws IOException;
  }

  private Outcome measure(Call1 call) throws IOException {
    tokenRequestClaims.clear();
    apiRequests.set(0);
    int status = call.call();
    return new Outcome(status, new ArrayList<>(tokenRequestClaims), apiRequests.get());
  }

  @Test
  void bothAskOnceWithTheClaimsRetryOnceAndPassASecondChallengeThrough() throws IOException {
    Outcome oursMet = retrofitAuth();
    Outcome azureMet = azure();
    alwaysChallenge = true;
    Outcome oursAgain = retrofitAuth();
    Outcome azureAgain = azure();
    report(oursMet, azureMet, oursAgain, azureAgain);

    for (Outcome met : new Outcome[] {oursMet, azureMet}) {
      assertEquals(200, met.status, met.toString());
      assertEquals(List.of("-", CLAIMS), met.claims, "the first token, then one with the claims");
      assertEquals(2, met.apiRequests, "the call and its one retry");
    }
    for (Outcome again : new Outcome[] {oursAgain, azureAgain}) {
      assertEquals(401, again.status, "a second challenge goes to the caller: " + again);
      assertEquals(List.of("-", CLAIMS), again.claims, again.toString());
      assertEquals(2, again.apiRequests, again.toString());
    }
  }

  private static void report(
      Outcome oursMet, Outcome azureMet, Outcome oursAgain, Outcome azureAgain) throws IOException {
    String table =
        "| one call | retrofit-auth | azure-core BearerTokenAuthenticationPolicy |\n"
            + "|---|---|---|\n"
            + "| claims challenge met: status, token requests (claims), API requests | "
            + oursMet
            + " | "
            + azureMet
            + " |\n"
            + "| challenged again after the retry | "
            + oursAgain
            + " | "
            + azureAgain
            + " |\n";
    new File("target").mkdirs();
    Files.write(
        new File("target/claims-versus-azure.md").toPath(), table.getBytes(StandardCharsets.UTF_8));
  }

  private static String formValue(String form, String name) {
    for (String pair : form.split("&")) {
      int equals = pair.indexOf('=');
      if (equals > 0 && pair.substring(0, equals).equals(name)) {
        return java.net.URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
