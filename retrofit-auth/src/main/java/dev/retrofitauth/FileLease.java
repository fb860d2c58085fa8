package dev.retrofitauth;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The lease on a token file, in two parts: a {@link Guard} that the stores of this process share
 * for the file, and {@link FileChannel#tryLock()} on {@code <name>.lock} across processes. The
 * guard comes first because file locks belong to the whole process: a second lock from this JVM
 * would throw {@code OverlappingFileLockException} instead of waiting. The operating system
 * releases the file lock of a process that dies; a holder that hangs is closed by its manager at
 * twice the refresh timeout.
 *
 * <p>The guards are held weakly, by file identity: a {@link FileTokenStore} holds its guard, and a
 * lease holds it while it is open, so that every store of a file that is alive shares one guard. A
 * server that drops the stores of thousands of users' files gets their guards back: once the
 * collector clears a guard, the next {@link #guard} call removes its entry.
 */
final class FileLease implements SharedTokenStore.Lease {
  /** Every entry's guard is alive, or cleared and waiting in {@link #CLEARED}. */
  private static final ConcurrentHashMap<String, GuardReference> GUARDS = new ConcurrentHashMap<>();

  private static final ReferenceQueue<Guard> CLEARED = new ReferenceQueue<>();
  private static final long MAX_PAUSE_MILLIS = 16L;

  private final FileTokenStore store;
  private final Guard guard;
  private final FileChannel channel;
  private long revision = FileTokenStore.NOT_LOADED; // Guarded by this.
  private boolean closed; // Guarded by this.

  private FileLease(FileTokenStore store, Guard guard, FileChannel channel) {
    this.store = store;
    this.guard = guard;
    this.channel = channel;
  }

  /**
   * Returns the guard of the token file that {@code identity} names: the one that the stores of
   * that file alive now share, or a new one if there are none. The caller must hold on to it.
   */
  static Guard guard(String identity) {
    removeCleared();
    while (true) {
      GuardReference reference = GUARDS.get(identity);
      Guard guard = reference != null ? reference.get() : null;
      if (guard != null) return guard;
      guard = new Guard();
      GuardReference created = new GuardReference(identity, guard);
      // Replaces only what was read: another thread's new guard is shared, never overwritten.
      boolean put =
          reference == null
              ? GUARDS.putIfAbsent(identity, created) == null
              : GUARDS.replace(identity, reference, created);
      if (put) return guard;
    }
  }

  /** Removes the entries of guards that no store or lease holds any longer. */
  private static void removeCleared() {
    Reference<? extends Guard> cleared;
    while ((cleared = CLEARED.poll()) != null) {
      GuardReference reference = (GuardReference) cleared;
      // Only this entry: a new guard may have replaced it already.
      GUARDS.remove(reference.identity, reference);
    }
  }

  /** The number of token files with a guard in this process, cleared ones removed; for tests. */
  static int liveGuards() {
    removeCleared();
    return GUARDS.size();
  }

  /** Waits at most {@code timeoutMillis} for the guard, then for the file lock. */
  static FileLease take(FileTokenStore store, Guard guard, long timeoutMillis) throws IOException {
    long start = System.nanoTime();
    long timeoutNanos =
        timeoutMillis >= TimeUnit.NANOSECONDS.toMillis(Long.MAX_VALUE)
            ? Long.MAX_VALUE
            : TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    guard.acquire(start, timeoutNanos, store);
    FileChannel channel = null;
    try {
      channel = store.openLockFile();
      long pauseMillis = 1L;
      while (tryLock(channel) == null) {
        long leftNanos = timeoutNanos - (System.nanoTime() - start);
        if (leftNanos <= 0L) throw timedOut(store, timeoutMillis);
        // Another process holds the lease; file locks cannot be waited for with a timeout.
        TimeUnit.NANOSECONDS.sleep(Math.min(TimeUnit.MILLISECONDS.toNanos(pauseMillis), leftNanos));
        pauseMillis = Math.min(pauseMillis * 2, MAX_PAUSE_MILLIS);
      }
      return new FileLease(store, guard, channel);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw closeAndFail(channel, guard, new InterruptedIOException("interrupted while waiting"));
    } catch (IOException e) {
      throw closeAndFail(channel, guard, e);
    } catch (RuntimeException e) {
      throw closeAndFail(channel, guard, e);
    }
  }

  private static @Nullable FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException e) {
      return null; // Another store of this process holds it, with another path to the same file.
    }
  }

  private static <E extends Exception> E closeAndFail(
      @Nullable FileChannel channel, Guard guard, E failure) {
    closeQuietly(channel);
    guard.release();
    return failure;
  }

  static InterruptedIOException timedOut(FileTokenStore store, long timeoutMillis) {
    return new InterruptedIOException(
        "another refresh held the lease of " + store + " for longer than " + timeoutMillis + " ms");
  }

  @Override
  public synchronized @Nullable Tokens load() throws IOException {
    if (closed) throw new IOException("the lease of " + store + " has ended");
    FileTokenStore.Stored stored = store.readStored();
    revision = stored.revision;
    if (stored.corrupt != null) throw stored.corrupt;
    return stored.tokens;
  }

  @Override
  public synchronized boolean save(@Nullable Tokens tokens) throws IOException {
    if (revision == FileTokenStore.NOT_LOADED) {
      throw new IllegalStateException("load() before save()");
    }
    if (closed) return false;
    return store.writeIfRevision(tokens, revision);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) return;
      closed = true;
    }
    closeQuietly(channel); // Releases the file lock.
    guard.release();
  }

  private static void closeQuietly(@Nullable FileChannel channel) {
    if (channel == null) return;
    try {
      channel.close();
    } catch (IOException ignored) {
      // Closing a lock file's channel that fails has released the lock anyway, or the process will.
    }
  }

  /** A guard, held weakly, that knows its map entry. */
  private static final class GuardReference extends WeakReference<Guard> {
    final String identity;

    GuardReference(String identity, Guard guard) {
      super(guard, CLEARED);
      this.identity = identity;
    }
  }

  /**
   * Lets one lease at a time into a token file in this process. Not reentrant, not thread-bound.
   */
  static final class Guard {
    private @Nullable Thread holder; // Guarded by this.
    private boolean held; // Guarded by this.

    synchronized void acquire(long startNanos, long timeoutNanos, FileTokenStore store)
        throws InterruptedIOException {
      while (held) {
        long leftNanos = timeoutNanos - (System.nanoTime() - startNanos);
        if (leftNanos <= 0L) throw timedOut(store, TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
        try {
          TimeUnit.NANOSECONDS.timedWait(this, leftNanos);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting for the lease of " + store);
        }
      }
      held = true;
      holder = Thread.currentThread();
    }

    synchronized void release() {
      held = false;
      holder = null;
      notifyAll();
    }

    /** True if the current thread took the lease and holds it still. */
    synchronized boolean heldByCurrentThread() {
      return held && holder == Thread.currentThread();
    }
  }
}
