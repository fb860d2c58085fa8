package dev.retrofitauth.redis;

import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.SessionRegistry;
import io.lettuce.core.api.StatefulRedisConnection;
import javax.crypto.SecretKey;

/**
 * The README's Redis block, compiled here: the sample's {@code ReadmeTest} compares it with the
 * README, as it does its own snippets.
 */
final class ReadmeSnippets {
  private ReadmeSnippets() {}

  static void fleetRedis(
      StatefulRedisConnection<String, String> connection, SecretKey aesKey, RefreshApi refreshApi) {
    // readme:begin fleet-redis
    RedisTokenStore store = RedisTokenStore.builder(connection)  // a Lettuce connection you own
        .key("billing:tokens:acme")           // one key per session, under your prefix
        .encryptionKey("2026-11", aesKey)      // optional: AES-GCM, since a shared Redis has readers
        .build();
    RefreshManager auth = RefreshManager.builder()
        .tokenStore(store)
        .refreshApi(refreshApi)                // or .tokenSource(clientCredentials)
        .build();
    // readme:end
  }

  static void fleetRedisPerUser(
      StatefulRedisConnection<String, String> connection, RefreshApi refreshApi) {
    // readme:begin fleet-redis-per-user
    RedisTokenStore.Builder userStores = RedisTokenStore.builder(connection)
        .keyPrefix("myapp:tokens:");          // each user: myapp:tokens:{<user id>} and its lease
    SessionRegistry sessions = SessionRegistry.builder()
        .addKeyed("user", String.class, userId -> RefreshManager.builder()
            .tokenStore(userStores.buildFor(userId))
            .refreshApi(refreshApi))
        .build();
    // readme:end
  }
}
