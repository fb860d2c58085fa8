package dev.retrofitauth;

import java.io.IOException;
import okhttp3.OkHttpClient;
import retrofit2.Retrofit;
import retrofit2.converter.scalars.ScalarsConverterFactory;

/** One API server, one manager, and a Retrofit wired to both the way the README shows it. */
final class Fixture implements AutoCloseable {
  final ApiServer server;
  final RefreshManager auth;
  final OkHttpClient client;
  final Retrofit retrofit;

  Fixture(ApiServer server, RefreshManager auth, OkHttpClient client) {
    this.server = server;
    this.auth = auth;
    this.client = client;
    this.retrofit =
        new Retrofit.Builder()
            .baseUrl(server.url("/"))
            .client(client)
            .addCallAdapterFactory(AuthCallAdapterFactory.create(auth))
            .addConverterFactory(ScalarsConverterFactory.create())
            .build();
  }

  /** A fixture whose server accepts {@code "old"}, signed in with access "old", refresh "r1". */
  static Fixture create(RefreshManager.Builder builder) throws IOException {
    return create(builder, new OkHttpClient.Builder());
  }

  static Fixture create(RefreshManager.Builder builder, OkHttpClient.Builder clientBuilder)
      throws IOException {
    ApiServer server = new ApiServer("old");
    RefreshManager auth = builder.build();
    auth.signIn(Tokens.of("old", "r1"));
    OkHttpClient client = clientBuilder.addInterceptor(auth.interceptor()).build();
    return new Fixture(server, auth, client);
  }

  <S> S create(Class<S> service) {
    return retrofit.create(service);
  }

  @Override
  public void close() throws IOException {
    server.close();
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }
}
