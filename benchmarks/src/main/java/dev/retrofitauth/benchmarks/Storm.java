package dev.retrofitauth.benchmarks;

import dev.retrofitauth.Tokens;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import retrofit2.Call;
import retrofit2.Callback;
import retrofit2.Response;

/** N concurrent calls hit an expired token; measures what each contender does about it. */
final class Storm {
  /** What one contender did in one storm. */
  static final class Result {
    String contender;
    String mode;
    int calls;
    int succeeded;
    int refreshes;
    int unauthorized;
    long wallMillis;
    double wallRatio;

    /** The most live threads during the storm, above the count when it started. */
    int peakThreads;

    int blockedThreads;

    /** The most calls that waited for a refresh at once, for a contender that can tell. */
    int peakWaiting;

    /** Threads started during the storm, by anyone in the JVM (the server's included). */
    long threadsStarted;

    /** When the last call was enqueued or started, from the storm's start. */
    long enqueuedMillis;

    /**
     * When the token endpoint got the first refresh request, from the storm's start; -1 if none.
     */
    long firstRefreshMillis = -1;

    /**
     * From the first refresh returning its tokens to the last call handed to OkHttp after it (for
     * retrofit-auth, the release of its last waiting call), in nanoseconds; -1 if none was.
     */
    long releaseNanos = -1;

    /** Calls handed to OkHttp after the first refresh returned, other than first sends. */
    int handedBack;

    /**
     * Threads started from the first refresh returning to the last call handed back; -1 if none.
     */
    long threadsStartedInRelease = -1;

    /** From the first refresh returning its tokens to the last call completing; -1 if none. */
    long completionNanos = -1;

    /** Threads started from the first refresh returning to the last call completing; -1 if none. */
    long threadsStartedAfterRefresh = -1;
  }

  /** How the token stands when the storm starts. */
  enum Start {
    /** Expired on the server; the client does not know. */
    EXPIRED,
    /** Expired, and the client knows it: its expiry has passed. */
    EXPIRY_KNOWN,
    /** Still valid, and the client knows it expires in 40 s: a refresh ahead of the leeway. */
    EXPIRY_AHEAD
  }

  private Storm() {}

  /**
   * Runs one storm. {@code proactive} signs in with an expiry that has already passed, so that a
   * client that reads it can refresh before sending.
   */
  static Result run(
      StormServer server,
      Contender contender,
      int calls,
      boolean sync,
      boolean proactive,
      long tokenDelayMillis,
      long apiDelayMillis)
      throws Exception {
    return run(
        server,
        contender,
        calls,
        sync,
        proactive ? Start.EXPIRY_KNOWN : Start.EXPIRED,
        tokenDelayMillis,
        apiDelayMillis);
  }

  static Result run(
      StormServer server,
      Contender contender,
      int calls,
      boolean sync,
      Start start,
      long tokenDelayMillis,
      long apiDelayMillis)
      throws Exception {
    ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
    scheduler.prestartAllCoreThreads(); // Not counted among the threads the storm starts.
    AtomicInteger blocked = new AtomicInteger(-1);
    // Halfway through the first refresh, count the threads that wait for it.
    Runnable onFirstRefresh =
        () ->
            scheduler.schedule(
                () -> blocked.set(countBlocked(contender.waitingFrame)),
                tokenDelayMillis / 2,
                TimeUnit.MILLISECONDS);
    if (start == Start.EXPIRY_AHEAD) {
      long tenMinutes = TimeUnit.MINUTES.toMillis(10);
      server.scheduleExpiry("scheduled-access", onFirstRefresh);
      contender.signIn("scheduled-access", "refresh-0", System.currentTimeMillis() + tenMinutes);
      // A ten-minute token refreshes ahead from 48 s (up to 43.2 s) before expiry, waits from 24 s.
      contender.advanceClock(tenMinutes - TimeUnit.SECONDS.toMillis(40));
    } else {
      server.expire(onFirstRefresh);
      contender.signIn(
          "expired-access",
          "refresh-0",
          start == Start.EXPIRY_KNOWN ? System.currentTimeMillis() - 1 : Tokens.NO_EXPIRY);
    }
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    // Pools of earlier storms may still hold idle threads: count only what this storm adds.
    int baseline = threads.getThreadCount();
    AtomicInteger peak = new AtomicInteger(baseline);
    AtomicInteger peakWaiting = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(calls);
    AtomicInteger succeeded = new AtomicInteger();
    AtomicLong lastDoneNanos = new AtomicLong();
    Thread sampler =
        new Thread(
            () -> {
              while (done.getCount() > 0) {
                peak.accumulateAndGet(threads.getThreadCount(), Math::max);
                peakWaiting.accumulateAndGet(contender.waitingNow(), Math::max);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
              }
            },
            "storm-sampler");
    List<Thread> callers = new ArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    if (sync) {
      for (int i = 0; i < calls; i++) {
        int n = i;
        Thread caller =
            new Thread(
                () -> {
                  try {
                    go.await();
                    if ("ok".equals(contender.api.item(n).execute().body())) {
                      succeeded.incrementAndGet();
                    }
                  } catch (Exception ignored) {
                    // Counted as not succeeded.
                  }
                  lastDoneNanos.accumulateAndGet(System.nanoTime(), Math::max);
                  done.countDown();
                },
                "storm-caller-" + i);
        caller.start();
        callers.add(caller);
      }
    }
    sampler.start();
    // In an asynchronous storm this thread makes every first send; a synchronous one has none here.
    contender.timeline.reset(Thread.currentThread());
    long startedBefore = threads.getTotalStartedThreadCount();
    long startNanos = System.nanoTime();
    if (sync) {
      go.countDown();
    } else {
      for (int i = 0; i < calls; i++) {
        contender
            .api
            .item(i)
            .enqueue(
                new Callback<String>() {
                  @Override
                  public void onResponse(Call<String> call, Response<String> response) {
                    if ("ok".equals(response.body())) succeeded.incrementAndGet();
                    lastDoneNanos.accumulateAndGet(System.nanoTime(), Math::max);
                    done.countDown();
                  }

                  @Override
                  public void onFailure(Call<String> call, Throwable t) {
                    lastDoneNanos.accumulateAndGet(System.nanoTime(), Math::max);
                    done.countDown();
                  }
                });
      }
    }
    long enqueued = System.nanoTime() - startNanos;
    if (!done.await(5, TimeUnit.MINUTES)) throw new AssertionError(contender.name + " hung");
    long wall = System.nanoTime() - startNanos;
    long startedAtEnd = threads.getTotalStartedThreadCount();
    long started = startedAtEnd - startedBefore;
    if (start == Start.EXPIRY_AHEAD) {
      // The refresh ahead runs in the background: on a busy machine every call can end, with the
      // still valid token, before it reaches the server. Count it once it has.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (server.refreshes.get() == 0 && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
    }
    sampler.join();
    for (Thread caller : callers) caller.join();
    scheduler.shutdown();
    scheduler.awaitTermination(10, TimeUnit.SECONDS);
    server.forgetRequests();

    Result result = new Result();
    result.contender = contender.name;
    result.mode =
        contender instanceof Contender.RetrofitAuthSource || contender.name.endsWith("(cold)")
            ? calls + " first calls, no token yet"
            : (sync ? calls + " sync threads" : calls + " async")
                + (start == Start.EXPIRY_KNOWN
                    ? ", expiry known"
                    : start == Start.EXPIRY_AHEAD ? ", expiry 40 s ahead" : "");
    result.calls = calls;
    result.succeeded = succeeded.get();
    result.refreshes = server.refreshes.get();
    result.unauthorized = server.unauthorized.get();
    result.wallMillis = TimeUnit.NANOSECONDS.toMillis(wall);
    result.wallRatio =
        wall / (double) TimeUnit.MILLISECONDS.toNanos(tokenDelayMillis + apiDelayMillis);
    result.peakThreads = peak.get() - baseline;
    result.blockedThreads = Math.max(0, blocked.get());
    result.peakWaiting = peakWaiting.get();
    result.threadsStarted = started;
    result.enqueuedMillis = TimeUnit.NANOSECONDS.toMillis(enqueued);
    long firstRefresh = server.firstRefreshNanos;
    if (firstRefresh != 0) {
      result.firstRefreshMillis = TimeUnit.NANOSECONDS.toMillis(firstRefresh - startNanos);
    }
    Contender.Timeline timeline = contender.timeline;
    if (timeline.refreshed()) {
      result.releaseNanos = timeline.releaseNanos();
      result.handedBack = timeline.newCallsAfterRefresh();
      result.threadsStartedInRelease = timeline.threadsStartedInRelease();
      result.completionNanos = timeline.sinceRefresh(lastDoneNanos.get());
      result.threadsStartedAfterRefresh = startedAtEnd - timeline.threadsStartedAtRefresh();
    }
    return result;
  }

  /**
   * Counts the threads that are parked or blocked in {@code waitingFrame}, leaving out the one that
   * performs the refresh itself, except for the naive contender where every such thread performs
   * its own.
   */
  static int countBlocked(String waitingFrame) {
    int count = 0;
    for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
      if (info == null) continue;
      Thread.State state = info.getThreadState();
      if (state == Thread.State.RUNNABLE || state == Thread.State.NEW) continue;
      boolean waiting = false;
      boolean refreshing = false;
      for (StackTraceElement frame : info.getStackTrace()) {
        String name = frame.getClassName() + "." + frame.getMethodName();
        if (name.matches(waitingFrame)) waiting = true;
        if (name.endsWith("Contender.refresh")) refreshing = true;
      }
      boolean naive = waitingFrame.contains("NaiveRefreshInterceptor");
      if (waiting && (naive || !refreshing)) count++;
    }
    return count;
  }
}
