package dev.retrofitauth.jdbc;

import dev.retrofitauth.RefreshApi;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.SessionRegistry;
import javax.crypto.SecretKey;
import javax.sql.DataSource;

/**
 * The SQL blocks of the README and the manual, compiled here: the sample's {@code ReadmeTest}
 * compares them with the documents, as it does its own snippets.
 */
final class ReadmeSnippets {
  private ReadmeSnippets() {}

  static void fleetJdbc(DataSource dataSource, SecretKey aesKey, RefreshApi refreshApi) {
    // readme:begin fleet-jdbc
    JdbcTokenStore store = JdbcTokenStore.builder(dataSource)   // your pool, e.g. HikariCP
        .key("billing:acme")                  // the session's row
        .encryptionKey("2026-11", aesKey)      // optional: AES-GCM, since a shared database has readers
        .build();
    RefreshManager auth = RefreshManager.builder()
        .tokenStore(store)
        .refreshApi(refreshApi)                // or .tokenSource(clientCredentials)
        .build();
    // readme:end
  }

  static void fleetJdbcPerUser(DataSource dataSource, RefreshApi refreshApi) {
    // readme:begin fleet-jdbc-per-user
    JdbcTokenStore.Builder userStores = JdbcTokenStore.builder(dataSource)
        .keyPrefix("myapp:user:");            // each user: the row myapp:user:<user id>
    SessionRegistry sessions = SessionRegistry.builder()
        .addKeyed("user", String.class, userId -> RefreshManager.builder()
            .tokenStore(userStores.buildFor(userId))
            .refreshApi(refreshApi))
        .build();
    // readme:end
  }
}
