package dev.retrofitauth;

import dev.retrofitauth.internal.TokenCodec;
import java.io.File;
import java.io.IOException;
import javax.crypto.SecretKey;
import org.jspecify.annotations.Nullable;

/**
 * Keeps the {@link Tokens} of one session. Implementations must be thread-safe.
 *
 * <pre>{@code
 * // Built in: tokens in memory, or in an owner-only file (encrypted if you give a key).
 * TokenStore store = TokenStore.file(new File(configDir, "tokens.json"));
 *
 * // Your own, over any storage: load null when there are no tokens.
 * TokenStore prefs = new TokenStore() {
 *   @Override public Tokens load() { return decode(preferences.getString("tokens", null)); }
 *   @Override public void save(Tokens tokens) { preferences.edit().putString("tokens", encode(tokens)).commit(); }
 *   @Override public void clear() { preferences.edit().remove("tokens").commit(); }
 * };
 * }</pre>
 *
 * <p>The {@link RefreshManager} keeps the current tokens in memory and writes every change through
 * to the store: it loads once when it is built, saves after each sign-in and refresh, and clears on
 * sign-out. It never calls the store while it holds a lock, and it never runs two writes at the
 * same time. A refreshed token is saved before any call that waited for it is released. Before a
 * refresh the manager loads the store again, and uses tokens another process saved there.
 *
 * <p>Two stores are built in: {@link #inMemory()}, and {@link #file(File)} for desktop and server
 * apps, with {@link #fileIn(File, String)} for a server that keeps one session per user.
 *
 * <p>Re-reading alone does not keep two processes that share a store from refreshing at the same
 * moment and presenting the same refresh token twice, which a server with reuse detection answers
 * by ending the session. A store that processes share must be a {@link SharedTokenStore}, whose
 * lease lets one of them refresh at a time; {@link #file(File)} is one.
 */
public interface TokenStore {
  /** Returns the stored tokens, or null if there are none. */
  @Nullable Tokens load() throws IOException;

  /** Replaces the stored tokens with {@code tokens}. */
  void save(Tokens tokens) throws IOException;

  /** Removes the stored tokens. */
  void clear() throws IOException;

  /** Returns a store that keeps tokens in memory only: they are gone when the process ends. */
  static TokenStore inMemory() {
    return new InMemoryTokenStore();
  }

  /**
   * Returns a store that keeps tokens in {@code file}, as JSON, for desktop and server apps. On
   * Android, prefer a store backed by the Keystore.
   *
   * <p>Each save creates a temporary file in the same directory that only its owner may read and
   * write from the moment it exists: mode 0600 on POSIX file systems, an access control list with
   * the owner as its one entry on Windows. It writes the tokens, syncs them to disk, then renames
   * the file over {@code file} in one atomic step, replacing it on Windows too: a crash leaves
   * either the old tokens or the new ones. On Android before API 26, which has no {@code
   * java.nio.file}, the temporary file is created inside a new 0700 directory instead.
   *
   * <p>Loads, saves and {@link #clear()} fail with an {@link IOException} that names the file and
   * the rule, but no token, if {@code file} is a symbolic link (even one to a file that does not
   * exist yet), or if {@code file} or its directory belongs to another user than the one running
   * the app (where the file system records owners; not on Android before API 26). A file that is
   * corrupt or truncated fails to load with an {@link IOException} that names the file but no
   * token; the manager reports it to {@link AuthListener#onStoreFailed} and starts signed out.
   *
   * <p>The store is a {@link SharedTokenStore}: processes, and managers in one process, that share
   * {@code file} refresh one at a time, and the others use the tokens it saved. The lease is a lock
   * on {@code <file>.lock} next to it ({@link java.nio.channels.FileChannel#tryLock()}), which the
   * operating system releases when its process dies; a manager releases it when it abandons a
   * refresh that hangs, at twice the refresh timeout. Each write stores a revision that the next
   * lease's save checks. Saves and clears outside a refresh wait up to 30 seconds for a refresh in
   * another process to end.
   *
   * <p>Temporary files that a crash left behind, which may hold the newest tokens, are deleted by
   * {@link #clear()}, and by a load once they are a minute old: a younger one may belong to another
   * process that is saving right now.
   *
   * @throws IllegalArgumentException if {@code file} is a directory, or its directory does not
   *     exist: the store would fail on every save.
   */
  static TokenStore file(File file) {
    if (file == null) throw new NullPointerException("file == null");
    FileTokenStore.checkFile(file);
    return FileTokenStore.create(file, null, null);
  }

  /**
   * Like {@link #file(File)}, with the tokens encrypted at rest by {@code key}: an AES key (128,
   * 192 or 256 bits), for example from the Android Keystore or a PKCS12 {@code KeyStore}, used in
   * AES-GCM with a new random IV for each save, and the file's name authenticated with each value,
   * so a value copied to another file does not decrypt. {@code keyId} names the key in the file (as
   * in {@code 2026-01}) and is not secret.
   *
   * <pre>{@code
   * KeyStore keyStore = KeyStore.getInstance("AndroidKeyStore");
   * keyStore.load(null);
   * SecretKey key = (SecretKey) keyStore.getKey("tokens", null); // created once, see the README
   * TokenStore store = TokenStore.file(new File(context.getFilesDir(), "tokens.json"), "v1", key);
   * }</pre>
   *
   * <p>A file that the key no longer decrypts (the Keystore lost or invalidated the key, the file
   * was changed, or was saved with another key or unencrypted) loads as no tokens: the manager
   * reports the {@link IOException} to {@link AuthListener#onStoreFailed}, which names the file and
   * the key id but no token, and starts signed out; the next sign-in replaces the file. Refreshes
   * of a shared file that cannot be decrypted stop until then.
   *
   * @throws IllegalArgumentException if {@code keyId} is empty, longer than 64 characters or not
   *     printable ASCII, or if {@code key} is not an AES key that works with AES-GCM here.
   */
  static TokenStore file(File file, String keyId, SecretKey key) {
    if (file == null) throw new NullPointerException("file == null");
    if (keyId == null) throw new NullPointerException("keyId == null");
    if (key == null) throw new NullPointerException("key == null");
    FileTokenStore.checkFile(file);
    TokenCodec.checkEncryptionKey(keyId, key);
    return FileTokenStore.create(file, keyId, key);
  }

  /**
   * Returns a store that keeps the tokens of session {@code sessionKey} in a file of its own inside
   * {@code directory}, for a server that keeps one session per user. It is {@link #file(File)} on
   * {@code <directory>/tokens-<hash>.json}, where {@code <hash>} is the first 32 hex digits of the
   * SHA-256 of the key in UTF-8: every key, with {@code ../}, slashes, NUL or thousands of
   * characters, names one file directly inside {@code directory}, the same key always the same
   * file, and the name does not reveal the key (often a user id or an e-mail address).
   *
   * <pre>{@code
   * File dir = new File(dataDir, "tokens"); // created once, writable by this user alone
   * Function<String, RefreshManager.Builder> sessions =
   *     userId -> RefreshManager.builder()
   *         .tokenStore(TokenStore.fileIn(dir, userId))
   *         .refreshApi(api);
   * }</pre>
   *
   * <p>Everything {@link #file(File)} says holds for each file: owner-only files written by atomic
   * renames; loads, saves and clears that fail with an {@link IOException} for a token file that is
   * a symbolic link, a token file or directory of another user, or a directory that the group or
   * others can write to; and a lease on {@code <name>.lock}. The store is a {@link
   * SharedTokenStore}: stores of the same key, in this process or in others, refresh one at a time.
   * What this process keeps for a file is released once no store of it is left, so a server may
   * create and drop stores for many users. The key cannot be read back from a file's name: to
   * remove a user's tokens, {@link #clear()} the store of their key.
   *
   * @throws IllegalArgumentException if {@code sessionKey} is empty, or holds a lone surrogate (it
   *     is not UTF-16, and has no UTF-8 encoding), or if {@code directory} does not exist or is not
   *     a directory: the store would fail on every save.
   */
  static TokenStore fileIn(File directory, String sessionKey) {
    if (directory == null) throw new NullPointerException("directory == null");
    if (sessionKey == null) throw new NullPointerException("sessionKey == null");
    return FileTokenStore.create(FileTokenStore.fileIn(directory, sessionKey), null, null);
  }

  /**
   * Like {@link #fileIn(File, String)}, with the tokens encrypted at rest by {@code key} as in
   * {@link #file(File, String, SecretKey)}. Each value is authenticated with its file's name, which
   * the session key determines, so a value copied to another user's file does not decrypt: it loads
   * as no tokens, and the manager reports the {@link IOException} to {@link
   * AuthListener#onStoreFailed}.
   *
   * @throws IllegalArgumentException if {@code sessionKey} is empty, or holds a lone surrogate, or
   *     if {@code directory} does not exist or is not a directory; or if {@code keyId} is empty,
   *     longer than 64 characters or not printable ASCII, or {@code key} is not an AES key that
   *     works with AES-GCM here.
   */
  static TokenStore fileIn(File directory, String sessionKey, String keyId, SecretKey key) {
    if (directory == null) throw new NullPointerException("directory == null");
    if (sessionKey == null) throw new NullPointerException("sessionKey == null");
    if (keyId == null) throw new NullPointerException("keyId == null");
    if (key == null) throw new NullPointerException("key == null");
    File file = FileTokenStore.fileIn(directory, sessionKey);
    TokenCodec.checkEncryptionKey(keyId, key);
    return FileTokenStore.create(file, keyId, key);
  }
}
