package dev.retrofitauth;

import dev.retrofitauth.Services.Api;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The fixture of the tests of one wrapped call against a MockWebServer: a manager whose refresh the
 * test can hold, a recording store and listener, and a Retrofit {@code Api}.
 */
abstract class AuthCallFixture {
  final RecordingListener listener = new RecordingListener();
  final RecordingStore store = new RecordingStore();
  GatedRefreshApi refreshApi;
  Fixture fixture;
  Api api;

  @BeforeEach
  void setUp() throws IOException {
    refreshApi =
        new GatedRefreshApi(
            current -> {
              fixture.server.acceptOnly("new");
              return Tokens.of("new", "r2");
            });
    fixture =
        Fixture.create(
            RefreshManager.builder()
                .refreshApi(refreshApi)
                .tokenStore(store)
                .addListener(listener));
    api = fixture.create(Api.class);
  }

  @AfterEach
  void tearDown() throws IOException {
    fixture.close();
  }

  List<String> authorizations() {
    return fixture.server.requests.stream()
        .map(r -> r.getHeader("Authorization"))
        .collect(java.util.stream.Collectors.toList());
  }
}
