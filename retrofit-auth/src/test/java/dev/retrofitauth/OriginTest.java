package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.retrofitauth.Services.Api;
import dev.retrofitauth.internal.Internal;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.ResponseBody;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/** The token goes only to allowed origins, and never in clear text to another host. */
final class OriginTest {
  private final MockWebServer other = new MockWebServer();
  private Fixture fixture;

  @BeforeEach
  void setUp() throws IOException {
    other.start();
    fixture = Fixture.create(RefreshManager.builder());
  }

  @AfterEach
  void tearDown() throws IOException {
    other.shutdown();
    fixture.close();
  }

  @Test
  void otherPortOnSameHostNeverSeesTokenThroughUrl() throws Exception {
    other.enqueue(new MockResponse().setBody("cdn"));
    HttpUrl otherUrl = other.url("/asset");
    // Same host as the API, another port: another origin (curl CVE-2022-27776).
    assertEquals(fixture.server.server.getHostName(), otherUrl.host());

    fixture.create(Api.class).get(otherUrl.toString()).execute();

    assertNull(other.takeRequest().getHeader("Authorization"));
  }

  @Test
  void otherOriginNeverSeesTokenThroughRedirect() throws Exception {
    other.enqueue(new MockResponse().setBody("landed"));
    ApiServer redirecting =
        new ApiServer("old") {
          @Override
          MockResponse respond(RecordedRequest request, String authorization) {
            return new MockResponse()
                .setResponseCode(302)
                .setHeader("Location", other.url("/landing"));
          }
        };
    try {
      Retrofit retrofit = fixture.retrofit.newBuilder().baseUrl(redirecting.url("/")).build();

      String body = retrofit.create(Api.class).me().execute().body();

      assertEquals("landed", body);
      assertEquals("Bearer old", redirecting.requests.get(0).getHeader("Authorization"));
      assertNull(other.takeRequest().getHeader("Authorization"));
    } finally {
      redirecting.close();
    }
  }

  @Test
  void allowedOriginOptionAddsOrigin() throws Exception {
    other.enqueue(new MockResponse().setBody("partner"));
    RefreshManager auth =
        RefreshManager.builder().addAllowedOrigin(other.url("/").toString()).build();
    auth.signIn(Tokens.of("old"));
    OkHttpClient client = new OkHttpClient.Builder().addInterceptor(auth.interceptor()).build();

    // A plain OkHttp call, with no Retrofit involved.
    client.newCall(new Request.Builder().url(other.url("/x")).build()).execute().close();

    assertEquals("Bearer old", other.takeRequest().getHeader("Authorization"));
  }

  @Test
  void plainOkHttpCallToUnlistedOriginGetsNoToken() throws Exception {
    other.enqueue(new MockResponse().setBody("image"));
    fixture.create(Api.class).me().execute(); // The factory allows the API's origin.

    fixture.client.newCall(new Request.Builder().url(other.url("/img")).build()).execute().close();

    assertNull(other.takeRequest().getHeader("Authorization"));
  }

  @Test
  void cleartextToNonLoopbackHostNeverCarriesToken() throws Exception {
    // The call fails before it is sent, and says why.
    IOException e =
        assertThrows(IOException.class, () -> sentAuthorization("http://api.example.test/", false));
    assertEquals(
        "auth.interceptor() withheld the token from http://api.example.test:80: tokens never go"
            + " over cleartext HTTP except to loopback. Use https, or"
            + " RefreshManager.Builder.allowCleartext(true) on a trusted network (for example an"
            + " emulator's host during development).",
        e.getMessage());
    assertEquals("Bearer old", sentAuthorization("https://api.example.test/", false));
    assertEquals("Bearer old", sentAuthorization("http://api.example.test/", true));
  }

  /**
   * Returns what a request to {@code baseUrl} would have carried. A last interceptor answers in
   * place of the network, so nothing leaves this machine.
   */
  private String sentAuthorization(String baseUrl, boolean allowCleartext) throws IOException {
    RefreshManager auth = RefreshManager.builder().allowCleartext(allowCleartext).build();
    auth.signIn(Tokens.of("old"));
    List<Request> seen = new CopyOnWriteArrayList<>();
    OkHttpClient client =
        new OkHttpClient.Builder()
            .addInterceptor(auth.interceptor())
            .addInterceptor(
                chain -> {
                  seen.add(chain.request());
                  return new okhttp3.Response.Builder()
                      .request(chain.request())
                      .protocol(Protocol.HTTP_1_1)
                      .code(200)
                      .message("OK")
                      .body(ResponseBody.create("ok", MediaType.get("text/plain")))
                      .build();
                })
            .build();
    Retrofit retrofit =
        new Retrofit.Builder()
            .baseUrl(baseUrl)
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build();
    retrofit.create(Api.class).me().execute();
    return seen.get(0).header("Authorization");
  }

  @Test
  void loopbackRecognition() {
    assertEquals(true, Internal.isLoopback(HttpUrl.get("http://localhost/")));
    assertEquals(true, Internal.isLoopback(HttpUrl.get("http://127.0.0.1/")));
    assertEquals(true, Internal.isLoopback(HttpUrl.get("http://127.1.2.3:8080/")));
    assertEquals(true, Internal.isLoopback(HttpUrl.get("http://[::1]/")));
    assertEquals(false, Internal.isLoopback(HttpUrl.get("http://127.0.0.1.example.com/")));
    assertEquals(false, Internal.isLoopback(HttpUrl.get("http://localhost.example.com/")));
    assertEquals(false, Internal.isLoopback(HttpUrl.get("http://10.0.0.1/")));
  }
}
