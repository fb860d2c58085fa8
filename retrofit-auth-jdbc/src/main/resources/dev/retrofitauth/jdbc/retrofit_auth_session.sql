-- One row per session; retrofit-auth-jdbc reads and writes it, nothing else needs to.
-- Accepted as it is by PostgreSQL and by H2 in PostgreSQL mode.
CREATE TABLE IF NOT EXISTS retrofit_auth_session (
  -- The session's key: JdbcTokenStore.Builder.key, or keyPrefix + the key given to buildFor.
  session_key  VARCHAR(512)   NOT NULL PRIMARY KEY,
  -- The tokens as JSON, or their AES-GCM envelope; NULL when signed out.
  tokens       VARCHAR(65536),
  -- Incremented by every save and clear, never reused: the fencing token of a lease's save.
  version      BIGINT         NOT NULL,
  -- The lease: a random id of the holder, and its end in milliseconds since 1970 by the
  -- database's clock. NULL when no one holds it.
  lease_holder VARCHAR(64),
  lease_until  BIGINT
)
