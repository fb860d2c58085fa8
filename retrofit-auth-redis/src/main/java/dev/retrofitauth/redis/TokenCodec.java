package dev.retrofitauth.redis;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonEncodingException;
import com.squareup.moshi.JsonReader;
import com.squareup.moshi.JsonWriter;
import dev.retrofitauth.Tokens;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * The value stored in Redis, and its encryption. Without a key it is the JSON of the file store:
 *
 * <pre>{@code
 * {"version":1,"access_token":"...","refresh_token":"...","expires_at":1767225600000,
 *  "token_type":"Bearer"}
 * }</pre>
 *
 * <p>With a key it is that JSON, as UTF-8, encrypted with AES-GCM (a new random 12-byte IV for each
 * save, a 128-bit tag, and the UTF-8 bytes of the Redis key as additional authenticated data, so
 * that a value copied to another key does not decrypt), in an envelope:
 *
 * <pre>{@code
 * {"version":1,"enc":"AES-GCM","kid":"<key id>","iv":"<base64>","ct":"<base64 ciphertext+tag>"}
 * }</pre>
 *
 * <p>Messages name the Redis key and the key id, never a token or key material. Parsers' messages
 * are left out, since they may quote the value.
 */
final class TokenCodec {
  private static final int VERSION = 1;
  private static final String ENC = "AES-GCM";
  private static final String TRANSFORMATION = "AES/GCM/NoPadding";
  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String redisKey;
  private final byte[] aad;
  private final @Nullable String keyId;
  private final @Nullable SecretKey key;

  TokenCodec(String redisKey, @Nullable String keyId, @Nullable SecretKey key) {
    this.redisKey = redisKey;
    this.aad = redisKey.getBytes(StandardCharsets.UTF_8);
    this.keyId = keyId;
    this.key = key;
  }

  /**
   * Checks that {@code key} works with AES-GCM here, so a bad key fails when the store is built.
   */
  static void check(SecretKey key) {
    try {
      Cipher cipher = Cipher.getInstance(TRANSFORMATION);
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, new byte[IV_BYTES]));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the key does not work with " + TRANSFORMATION + ": " + e.getClass().getSimpleName(), e);
    }
  }

  String encode(Tokens tokens) throws IOException {
    String json = json(tokens);
    if (key == null) return json;
    byte[] iv = new byte[IV_BYTES];
    RANDOM.nextBytes(iv);
    byte[] sealed;
    try {
      Cipher cipher = Cipher.getInstance(TRANSFORMATION);
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
      cipher.updateAAD(aad);
      sealed = cipher.doFinal(json.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IOException(
          "cannot encrypt the tokens for Redis key "
              + redisKey
              + " with key id '"
              + keyId
              + "': "
              + e.getClass().getSimpleName(),
          e);
    }
    Buffer out = new Buffer();
    JsonWriter writer = JsonWriter.of(out);
    writer.beginObject();
    writer.name("version").value(VERSION);
    writer.name("enc").value(ENC);
    writer.name("kid").value(keyId);
    writer.name("iv").value(Base64.getEncoder().encodeToString(iv));
    writer.name("ct").value(Base64.getEncoder().encodeToString(sealed));
    writer.endObject();
    writer.close();
    return out.readUtf8();
  }

  private static String json(Tokens tokens) throws IOException {
    Buffer out = new Buffer();
    JsonWriter writer = JsonWriter.of(out);
    writer.beginObject();
    writer.name("version").value(VERSION);
    writer.name("access_token").value(tokens.accessToken());
    String refresh = tokens.refreshToken();
    if (refresh != null) writer.name("refresh_token").value(refresh);
    if (tokens.hasExpiry()) writer.name("expires_at").value(tokens.expiresAtMillis());
    writer.name("token_type").value(tokens.tokenType());
    writer.endObject();
    writer.close();
    return out.readUtf8();
  }

  Tokens decode(String value) throws IOException {
    Fields fields = parse(value);
    if (fields.enc == null) {
      if (key != null) {
        throw new IOException(
            "the tokens at Redis key "
                + redisKey
                + " are not encrypted, but this store has encryption key id '"
                + keyId
                + "': they are refused; sign in again to replace them");
      }
      return fields.tokens();
    }
    if (key == null) {
      throw new IOException(
          "the tokens at Redis key "
              + redisKey
              + " are encrypted with key id '"
              + fields.kid
              + "', but this store has no encryption key: set one with"
              + " RedisTokenStore.Builder.encryptionKey");
    }
    if (!ENC.equals(fields.enc) || fields.iv == null || fields.ct == null) {
      throw corrupt("unknown encryption");
    }
    if (!keyId.equals(fields.kid)) {
      throw new IOException(
          "the tokens at Redis key "
              + redisKey
              + " are encrypted with key id '"
              + fields.kid
              + "', but this store has key id '"
              + keyId
              + "'");
    }
    byte[] plain;
    try {
      byte[] iv = Base64.getDecoder().decode(fields.iv);
      byte[] sealed = Base64.getDecoder().decode(fields.ct);
      if (iv.length != IV_BYTES) throw corrupt("IV is not " + IV_BYTES + " bytes");
      Cipher cipher = Cipher.getInstance(TRANSFORMATION);
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
      cipher.updateAAD(aad);
      plain = cipher.doFinal(sealed);
    } catch (IllegalArgumentException e) {
      throw corrupt("bad base64");
    } catch (AEADBadTagException e) {
      throw new IOException(
          "the tokens at Redis key "
              + redisKey
              + " do not decrypt with key id '"
              + keyId
              + "': the key is not the one they were saved with, or the value was changed or"
              + " copied from another Redis key");
    } catch (GeneralSecurityException e) {
      throw new IOException(
          "cannot decrypt the tokens at Redis key "
              + redisKey
              + " with key id '"
              + keyId
              + "': "
              + e.getClass().getSimpleName());
    }
    Fields inner = parse(new String(plain, StandardCharsets.UTF_8));
    if (inner.enc != null) throw corrupt("encrypted twice");
    return inner.tokens();
  }

  private Fields parse(String value) throws IOException {
    try {
      JsonReader reader = JsonReader.of(new Buffer().writeUtf8(value));
      Fields fields = new Fields();
      reader.beginObject();
      while (reader.hasNext()) {
        switch (reader.nextName()) {
          case "version":
            fields.version = reader.nextInt();
            break;
          case "access_token":
            fields.access = reader.nextString();
            break;
          case "refresh_token":
            fields.refresh =
                reader.peek() == JsonReader.Token.NULL
                    ? reader.<String>nextNull()
                    : reader.nextString();
            break;
          case "expires_at":
            fields.expiresAt = reader.nextLong();
            break;
          case "token_type":
            fields.tokenType = reader.nextString();
            break;
          case "enc":
            fields.enc = reader.nextString();
            break;
          case "kid":
            fields.kid = reader.nextString();
            break;
          case "iv":
            fields.iv = reader.nextString();
            break;
          case "ct":
            fields.ct = reader.nextString();
            break;
          default:
            reader.skipValue();
        }
      }
      reader.endObject();
      if (reader.peek() != JsonReader.Token.END_DOCUMENT) throw corrupt("trailing data");
      if (fields.version != VERSION) throw corrupt("unknown format version");
      return fields;
    } catch (JsonDataException | JsonEncodingException | EOFException e) {
      throw corrupt(e.getClass().getSimpleName());
    }
  }

  private IOException corrupt(String why) {
    return new IOException(
        "the tokens at Redis key " + redisKey + " are corrupt and cannot be read (" + why + ")");
  }

  private final class Fields {
    int version = -1;
    @Nullable String access;
    @Nullable String refresh;
    long expiresAt = Tokens.NO_EXPIRY;
    String tokenType = Tokens.BEARER;
    @Nullable String enc;
    @Nullable String kid;
    @Nullable String iv;
    @Nullable String ct;

    Tokens tokens() throws IOException {
      if (access == null) throw corrupt("no access_token");
      try {
        return Tokens.of(access, refresh, expiresAt).withTokenType(tokenType);
      } catch (IllegalArgumentException e) {
        // Tokens's messages name the rule, never the token.
        throw corrupt(e.getMessage());
      }
    }
  }
}
