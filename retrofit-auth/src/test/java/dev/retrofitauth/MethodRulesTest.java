package dev.retrofitauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.retrofitauth.Services.Api;
import dev.retrofitauth.Services.NoRetryApi;
import dev.retrofitauth.Services.PublicApi;
import java.io.IOException;
import java.util.Arrays;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.RequestBody;
import okio.BufferedSink;
import org.junit.jupiter.api.Test;
import retrofit2.Response;

/**
 * Which responses are the library's to fix: never a 403, never a {@code @NoAuth} or
 * {@code @NoRetry} method, never a one-shot body, never a request that carried the caller's own
 * header.
 */
final class MethodRulesTest extends AuthCallFixture {
  @Test
  void forbiddenNeverRefreshes() throws Exception {
    fixture.server.forceCode(403);

    Response<String> response = api.me().execute();

    assertEquals(403, response.code());
    assertEquals(0, refreshApi.calls.get());
    assertEquals(1, fixture.server.requests.size());
  }

  @Test
  void noAuthMethodNeverSeesTokenAndPasses401Through() throws Exception {
    Response<String> response = api.open().execute();

    assertEquals(401, response.code());
    assertNull(fixture.server.requests.get(0).getHeader("Authorization"));
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void noAuthInterfaceNeverSeesToken() throws Exception {
    Response<String> response = fixture.create(PublicApi.class).open().execute();

    assertEquals(401, response.code());
    assertNull(fixture.server.requests.get(0).getHeader("Authorization"));
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void noRetryMethodSendsTokenButPasses401Through() throws Exception {
    fixture.server.acceptOnly("other");

    Response<String> response = api.poll().execute();

    assertEquals(401, response.code());
    assertEquals(Arrays.asList("Bearer old"), authorizations());
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void noRetryInterfaceSendsTokenButPasses401Through() throws Exception {
    fixture.server.acceptOnly("other");

    Response<String> response = fixture.create(NoRetryApi.class).poll().execute();

    assertEquals(401, response.code());
    assertEquals(Arrays.asList("Bearer old"), authorizations());
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void oneShotBodyPasses401Through() throws Exception {
    fixture.server.acceptOnly("other");
    RequestBody oneShot =
        new RequestBody() {
          @Override
          public MediaType contentType() {
            return MediaType.get("text/plain");
          }

          @Override
          public void writeTo(BufferedSink sink) throws IOException {
            sink.writeUtf8("once");
          }

          @Override
          public boolean isOneShot() {
            return true;
          }
        };

    Response<String> response = api.upload(oneShot).execute();

    assertEquals(401, response.code());
    assertEquals(0, refreshApi.calls.get());
  }

  @Test
  void repeatableBodyIsSentAgain() throws Exception {
    fixture.server.acceptOnly("other");

    Response<String> response =
        api.upload(RequestBody.create("twice", MediaType.get("text/plain"))).execute();

    assertEquals(200, response.code());
    assertEquals("twice", fixture.server.requests.get(1).getBody().readUtf8());
  }

  @Test
  void callerHeaderIsKeptAndItsUnauthorizedPassesThrough() throws Exception {
    Api custom =
        fixture
            .retrofit
            .newBuilder()
            .client(
                new OkHttpClient.Builder()
                    .addInterceptor(
                        chain ->
                            chain.proceed(
                                chain
                                    .request()
                                    .newBuilder()
                                    .header("Authorization", "Basic abc")
                                    .build()))
                    .addInterceptor(fixture.auth.interceptor())
                    .build())
            .build()
            .create(Api.class);

    Response<String> response = custom.me().execute();

    assertEquals(401, response.code());
    assertEquals(Arrays.asList("Basic abc"), authorizations());
    assertEquals(0, refreshApi.calls.get());
  }
}
