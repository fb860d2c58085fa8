package dev.retrofitauth;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that every session of the process shares: the default refresh executor and the timer
 * that times refreshes out. Both keep no thread while nothing runs, so an idle session holds none,
 * and a thousand sessions hold no more than one.
 */
final class RefreshThreads {
  private RefreshThreads() {}

  /**
   * The refresh executor of every manager built without {@code refreshExecutor}: like OkHttp's
   * dispatcher, no idle threads, one per concurrent refresh, each reaped after 60 s unused.
   */
  static Executor defaultExecutor() {
    return DefaultExecutor.INSTANCE;
  }

  /**
   * The refresh executor of the keyed sessions of every {@link SessionRegistry} built without
   * {@code refreshExecutor}: at most {@link #SESSION_THREADS} threads, so that a server with
   * thousands of users refreshing at once holds no more; the other refreshes queue. Threads are
   * reaped after 60 s unused.
   */
  static Executor sessionsExecutor() {
    return SessionsExecutor.INSTANCE;
  }

  /** How many threads {@link #sessionsExecutor()} runs at most. */
  static final int SESSION_THREADS = 8;

  /**
   * The timer of every manager: one thread while a refresh with a timeout runs anywhere in the
   * process, none 10 s after the last one ended. A timeout fails its waiters on this thread, so
   * their {@code enqueue} callbacks and the listeners' {@code onRefreshFailed} run here: one that
   * blocks delays the timeouts of every session.
   */
  static ScheduledExecutorService timer() {
    return Timer.INSTANCE;
  }

  // Holders: created on first use, so that a manager that never refreshes starts nothing.
  private static final class DefaultExecutor {
    static final Executor INSTANCE =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE,
            60,
            TimeUnit.SECONDS,
            new SynchronousQueue<Runnable>(),
            daemonThreads("retrofit-auth refresh"));
  }

  private static final class SessionsExecutor {
    static final Executor INSTANCE = newExecutor();

    private static Executor newExecutor() {
      ThreadPoolExecutor executor =
          new ThreadPoolExecutor(
              SESSION_THREADS,
              SESSION_THREADS,
              60,
              TimeUnit.SECONDS,
              new LinkedBlockingQueue<Runnable>(),
              daemonThreads("retrofit-auth session refresh"));
      executor.allowCoreThreadTimeOut(true); // No thread while no refresh runs.
      return executor;
    }
  }

  private static final class Timer {
    static final ScheduledExecutorService INSTANCE = newTimer();

    private static ScheduledExecutorService newTimer() {
      ScheduledThreadPoolExecutor timer =
          new ScheduledThreadPoolExecutor(1, daemonThreads("retrofit-auth refresh timeout"));
      timer.setKeepAliveTime(10, TimeUnit.SECONDS);
      timer.allowCoreThreadTimeOut(true); // No thread while no refresh runs.
      timer.setRemoveOnCancelPolicy(true); // A finished refresh leaves no task behind.
      return timer;
    }
  }

  private static ThreadFactory daemonThreads(String name) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, name + " " + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
