package dev.retrofitauth.internal;

import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonEncodingException;
import com.squareup.moshi.JsonReader;
import com.squareup.moshi.JsonWriter;
import dev.retrofitauth.Tokens;
import java.io.EOFException;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Locale;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import okio.Buffer;
import okio.ByteString;
import org.jspecify.annotations.Nullable;

/**
 * Not API: how every store writes tokens, and encrypts them. One codec for the file store and the
 * Redis store (and any store to come), so that there is one implementation of the format and of its
 * encryption. It may change or disappear in any release.
 *
 * <p>Without a key the value is JSON, with an optional {@code revision} for stores that keep one
 * beside the tokens:
 *
 * <pre>{@code
 * {"version":1,"revision":7,"access_token":"...","refresh_token":"...","expires_at":1767225600000}
 * }</pre>
 *
 * <p>With a key the tokens' JSON (as UTF-8) is encrypted with AES-GCM (a new random 12-byte IV for
 * each save, chosen by the cipher so that an Android Keystore key works, a 128-bit tag, and the
 * storage's name, such as the Redis key or the file's name, as additional authenticated data, so
 * that a value copied to another key or file does not decrypt), in an envelope:
 *
 * <pre>{@code
 * {"version":1,"revision":7,"enc":"AES-GCM","kid":"<key id>","iv":"<base64>","ct":"<base64>"}
 * }</pre>
 *
 * <p>Messages name the storage and the key id, escaped and shortened, never a token or key
 * material. Parsers' messages are left out, since they may quote the value. A value longer than
 * {@link #MAX_VALUE_CHARS} is refused both ways.
 */
public final class TokenCodec {
  /** The longest value written or read: tokens are a few kilobytes; more is broken or hostile. */
  public static final int MAX_VALUE_CHARS = 64 * 1024;

  private static final int VERSION = 1;
  private static final String ENC = "AES-GCM";
  private static final String TRANSFORMATION = "AES/GCM/NoPadding";
  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final int MAX_QUOTED = 64;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String storage;
  private final String setKey;
  private final byte[] aad;
  private final @Nullable String keyId;
  private final @Nullable SecretKey key;

  /**
   * A codec for the storage that {@code storage} names in messages ("Redis key x", "the token file
   * y"), with {@code aad} bound to every encrypted value; without encryption if {@code key} is
   * null. {@code setKey} names where an app gives the store a key, for a message that asks for one.
   */
  public TokenCodec(
      String storage, String setKey, byte[] aad, @Nullable String keyId, @Nullable SecretKey key) {
    if ((keyId == null) != (key == null)) {
      throw new IllegalArgumentException("keyId and key go together");
    }
    this.storage = storage;
    this.setKey = setKey;
    this.aad = aad.clone();
    this.keyId = keyId;
    this.key = key;
  }

  /** True if values are encrypted. */
  public boolean encrypts() {
    return key != null;
  }

  /**
   * Checks an encryption key and its id when they are given, so that a bad one fails then: {@code
   * keyId} is 1 to 64 printable ASCII characters without a quote, and {@code key} is an AES key of
   * 128, 192 or 256 bits that works with AES-GCM here.
   *
   * @throws IllegalArgumentException naming what is wrong.
   */
  public static void checkEncryptionKey(String keyId, SecretKey key) {
    if (keyId.isEmpty()) throw new IllegalArgumentException("keyId is empty");
    if (keyId.length() > MAX_QUOTED) {
      throw new IllegalArgumentException("keyId is longer than 64 characters: " + keyId.length());
    }
    for (int i = 0; i < keyId.length(); i++) {
      char c = keyId.charAt(i);
      if (c < ' ' || c >= '\u007f' || c == '\'' || c == '"') {
        throw new IllegalArgumentException(
            "keyId has a character that is not printable ASCII, or a quote, at index " + i);
      }
    }
    if (!"AES".equalsIgnoreCase(key.getAlgorithm())) {
      throw new IllegalArgumentException("key is not an AES key: " + key.getAlgorithm());
    }
    byte[] encoded = key.getEncoded(); // Null for a key that never leaves its keystore.
    if (encoded != null && encoded.length != 16 && encoded.length != 24 && encoded.length != 32) {
      throw new IllegalArgumentException(
          "key is not 128, 192 or 256 bits: " + encoded.length * 8 + " bits");
    }
    try {
      Cipher.getInstance(TRANSFORMATION).init(Cipher.ENCRYPT_MODE, key, RANDOM);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the key does not work with " + TRANSFORMATION + ": " + e.getClass().getSimpleName(), e);
    }
  }

  /**
   * Returns the stored form of {@code tokens}; {@code revision} is written if it is not negative.
   */
  public String encode(Tokens tokens, long revision) throws IOException {
    String json = plain(tokens, key == null ? revision : -1L);
    if (key == null) return checkLength(json);
    byte[] iv;
    byte[] sealed;
    try {
      Cipher cipher = Cipher.getInstance(TRANSFORMATION);
      // The cipher picks the IV: an Android Keystore key refuses one given by the caller.
      cipher.init(Cipher.ENCRYPT_MODE, key, RANDOM);
      iv = cipher.getIV();
      if (iv == null || iv.length != IV_BYTES) {
        cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, randomIv()), RANDOM);
        iv = cipher.getIV();
      }
      cipher.updateAAD(aad);
      sealed = cipher.doFinal(ByteString.encodeUtf8(json).toByteArray());
    } catch (GeneralSecurityException e) {
      throw new IOException(
          "cannot encrypt the tokens for "
              + storage
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
    if (revision >= 0L) writer.name("revision").value(revision);
    writer.name("enc").value(ENC);
    writer.name("kid").value(keyId);
    writer.name("iv").value(ByteString.of(iv).base64());
    writer.name("ct").value(ByteString.of(sealed).base64());
    writer.endObject();
    writer.close();
    return checkLength(out.readUtf8());
  }

  private static byte[] randomIv() {
    byte[] iv = new byte[IV_BYTES];
    RANDOM.nextBytes(iv);
    return iv;
  }

  private static String plain(Tokens tokens, long revision) throws IOException {
    Buffer out = new Buffer();
    JsonWriter writer = JsonWriter.of(out);
    writer.beginObject();
    writer.name("version").value(VERSION);
    if (revision >= 0L) writer.name("revision").value(revision);
    writer.name("access_token").value(tokens.accessToken());
    String refresh = tokens.refreshToken();
    if (refresh != null) writer.name("refresh_token").value(refresh);
    if (tokens.hasExpiry()) writer.name("expires_at").value(tokens.expiresAtMillis());
    // Only when it is not the default, so that values stay readable by older versions.
    if (!tokens.tokenType().equals(Tokens.BEARER)) {
      writer.name("token_type").value(tokens.tokenType());
    }
    writer.endObject();
    writer.close();
    return out.readUtf8();
  }

  private String checkLength(String value) throws IOException {
    if (value.length() > MAX_VALUE_CHARS) {
      throw new IOException(
          "the tokens for " + storage + " are longer than " + MAX_VALUE_CHARS + " characters");
    }
    return value;
  }

  /** Returns the revision that {@code value} names, 0 if none, or throws if it does not parse. */
  public long revision(String value) throws IOException {
    return parse(value).revision;
  }

  /**
   * Returns the tokens that {@code value} holds.
   *
   * @throws IOException if the value is too long, does not parse, is encrypted with another key or
   *     not at all when a key is set, or does not decrypt (the key was lost, or the value changed).
   */
  public Tokens decode(String value) throws IOException {
    Fields fields = parse(value);
    if (fields.enc == null) {
      if (key != null) {
        throw new IOException(
            "the tokens at "
                + storage
                + " are not encrypted, but this store has encryption key id '"
                + keyId
                + "': they are refused; sign in again to replace them");
      }
      return fields.tokens();
    }
    if (key == null) {
      throw new IOException(
          "the tokens at "
              + storage
              + " are encrypted with key id '"
              + quote(fields.kid)
              + "', but this store has no encryption key: set one with "
              + setKey);
    }
    if (!ENC.equals(fields.enc) || fields.iv == null || fields.ct == null) {
      throw corrupt("unknown encryption");
    }
    if (!keyId.equals(fields.kid)) {
      throw new IOException(
          "the tokens at "
              + storage
              + " are encrypted with key id '"
              + quote(fields.kid)
              + "', but this store has key id '"
              + keyId
              + "'");
    }
    ByteString iv = ByteString.decodeBase64(fields.iv);
    ByteString sealed = ByteString.decodeBase64(fields.ct);
    if (iv == null || sealed == null) throw corrupt("bad base64");
    if (iv.size() != IV_BYTES) throw corrupt("IV is not " + IV_BYTES + " bytes");
    byte[] plain;
    try {
      Cipher cipher = Cipher.getInstance(TRANSFORMATION);
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv.toByteArray()));
      cipher.updateAAD(aad);
      plain = cipher.doFinal(sealed.toByteArray());
    } catch (AEADBadTagException e) {
      throw new IOException(
          "the tokens at "
              + storage
              + " do not decrypt with key id '"
              + keyId
              + "': the key is not the one they were saved with, or the value was changed or"
              + " copied from elsewhere");
    } catch (GeneralSecurityException e) {
      // An Android Keystore key that was invalidated lands here (KeyPermanentlyInvalidated...).
      throw new IOException(
          "cannot decrypt the tokens at "
              + storage
              + " with key id '"
              + keyId
              + "': "
              + e.getClass().getSimpleName());
    }
    Fields inner = parse(ByteString.of(plain).utf8());
    if (inner.enc != null) throw corrupt("encrypted twice");
    return inner.tokens();
  }

  private Fields parse(String value) throws IOException {
    if (value.length() > MAX_VALUE_CHARS) {
      throw corrupt("longer than " + MAX_VALUE_CHARS + " characters");
    }
    try {
      JsonReader reader = JsonReader.of(new Buffer().writeUtf8(value));
      Fields fields = new Fields();
      reader.beginObject();
      while (reader.hasNext()) {
        switch (reader.nextName()) {
          case "version":
            fields.version = reader.nextInt();
            break;
          case "revision":
            fields.revision = reader.nextLong();
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
        "the tokens at " + storage + " are corrupt and cannot be read (" + why + ")");
  }

  /** Text from the store, escaped and shortened: whoever can write there must not forge logs. */
  static String quote(@Nullable String text) {
    if (text == null) return "null";
    StringBuilder out = new StringBuilder();
    int end = Math.min(text.length(), MAX_QUOTED);
    for (int i = 0; i < end; i++) {
      char c = text.charAt(i);
      if (c >= ' ' && c < '\u007f' && c != '\'' && c != '\\') {
        out.append(c);
      } else {
        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      }
    }
    if (end < text.length()) out.append("...");
    return out.toString();
  }

  private final class Fields {
    int version = -1;
    long revision;
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
