package dev.retrofitauth.jdbc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The SQL of one session table: every statement the store runs, written once, in the SQL that
 * PostgreSQL and H2 (in PostgreSQL mode) both accept. The table's name is checked to be a plain
 * identifier before it is put into a statement; every value goes in as a parameter.
 *
 * <p>Time is the database's: a lease's end is {@code CURRENT_TIMESTAMP} in milliseconds plus the
 * TTL, and it is compared with {@code CURRENT_TIMESTAMP} again, so that clients whose clocks
 * disagree still agree on who holds a lease.
 */
final class SessionTable {
  static final String DEFAULT_NAME = "retrofit_auth_session";
  static final String DDL_RESOURCE = "retrofit_auth_session.sql";
  private static final int MAX_PART_LENGTH = 63;

  // Milliseconds since 1970 by the database's clock, at the start of the statement's transaction
  // (every statement here is a transaction of its own).
  private static final String NOW = "CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT)";

  final String name;
  final String select;
  final String update;
  final String insert;
  final String insertIfMissing;
  final String clear;
  final String take;
  final String renew;
  final String saveInLease;
  final String release;

  SessionTable(String name) {
    this.name = name;
    // Parameters: session key.
    select = "SELECT tokens, version FROM " + name + " WHERE session_key = ?";
    // Parameters: tokens, session key.
    update = "UPDATE " + name + " SET tokens = ?, version = version + 1 WHERE session_key = ?";
    // Parameters: session key, tokens.
    insert = "INSERT INTO " + name + " (session_key, tokens, version) VALUES (?, ?, 1)";
    // Parameters: session key, session key. A row for a lease, before any tokens.
    insertIfMissing =
        "INSERT INTO "
            + name
            + " (session_key, version) SELECT ?, 0 WHERE NOT EXISTS (SELECT 1 FROM "
            + name
            + " WHERE session_key = ?)";
    // Parameters: session key.
    clear = "UPDATE " + name + " SET tokens = NULL, version = version + 1 WHERE session_key = ?";
    // Parameters: holder, TTL in ms, session key.
    take =
        "UPDATE "
            + name
            + " SET lease_holder = ?, lease_until = "
            + NOW
            + " + ? WHERE session_key = ? AND (lease_holder IS NULL OR lease_until <= "
            + NOW
            + ")";
    // Parameters: TTL in ms, session key, holder.
    renew =
        "UPDATE "
            + name
            + " SET lease_until = "
            + NOW
            + " + ? WHERE session_key = ? AND lease_holder = ? AND lease_until > "
            + NOW;
    // Parameters: tokens, session key, version, holder.
    saveInLease =
        "UPDATE "
            + name
            + " SET tokens = ?, version = version + 1 WHERE session_key = ? AND version = ? AND"
            + " lease_holder = ? AND lease_until > "
            + NOW;
    // Parameters: session key, holder.
    release =
        "UPDATE "
            + name
            + " SET lease_holder = NULL, lease_until = NULL WHERE session_key = ? AND lease_holder"
            + " = ?";
  }

  /**
   * Checks that {@code name} is a table name that can go into SQL as it is: a plain identifier,
   * optionally after a schema and a dot.
   */
  static String checkName(String name) {
    String[] parts = name.split("\\.", -1);
    if (parts.length > 2) {
      throw new IllegalArgumentException(
          "table name has more than one dot; use table or schema.table: " + printable(name));
    }
    for (String part : parts) {
      if (part.isEmpty() || part.length() > MAX_PART_LENGTH) {
        throw new IllegalArgumentException(
            "table name needs 1 to "
                + MAX_PART_LENGTH
                + " characters before and after its dot: "
                + printable(name));
      }
      for (int i = 0; i < part.length(); i++) {
        char c = part.charAt(i);
        boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) {
          throw new IllegalArgumentException(
              "table name is not a plain SQL identifier (letters, digits and _, not starting with a"
                  + " digit, as in myapp.retrofit_auth_session): "
                  + printable(name));
        }
      }
    }
    return name;
  }

  /** The DDL of the resource file, for this table's name. */
  String ddl() throws IOException {
    String ddl = ddlResource();
    return name.equals(DEFAULT_NAME) ? ddl : ddl.replace(DEFAULT_NAME, name);
  }

  static String ddlResource() throws IOException {
    try (InputStream in = SessionTable.class.getResourceAsStream(DDL_RESOURCE)) {
      if (in == null) throw new IOException("missing resource " + DDL_RESOURCE);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buffer = new byte[4096];
      for (int n; (n = in.read(buffer)) != -1; ) out.write(buffer, 0, n);
      return new String(out.toByteArray(), StandardCharsets.UTF_8);
    }
  }

  static String printable(String value) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < value.length() && out.length() < 600; i++) {
      char c = value.charAt(i);
      if (c >= ' ' && c < '\u007f') out.append(c);
      else out.append(String.format("\\u%04x", (int) c));
    }
    return out.toString();
  }
}
