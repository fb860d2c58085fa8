package dev.retrofitauth.benchmarks;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * A storm row of the performance issue's table: retrofit-auth (single flight) against the OkHttp
 * Authenticator way, sample by sample in the same run, alternating which goes first. The wall time
 * is reported as the ratio of the medians, with the spread of the per-sample ratios.
 *
 * <p>Cold: every sample gets a fresh contender, so a fresh OkHttpClient, connection pool,
 * dispatcher (no threads yet) and, for retrofit-auth, a fresh manager. Warm: each contender is
 * built once, runs one storm that is not measured (its connection is up and its dispatcher's
 * threads are idle in the pool, 60 s keep-alive), then runs every sample on the same client.
 */
final class Versus {
  /** One row: every sample of both contenders. */
  static final class Row {
    final String label;
    final String goal;
    final int calls;
    final boolean cold;
    final List<Storm.Result> auth = new ArrayList<>();
    final List<Storm.Result> authenticator = new ArrayList<>();

    Row(String label, String goal, int calls, boolean cold) {
      this.label = label;
      this.goal = goal;
      this.calls = calls;
      this.cold = cold;
    }

    double authMedian() {
      return median(auth);
    }

    double authenticatorMedian() {
      return median(authenticator);
    }

    /** retrofit-auth's median wall time over the Authenticator way's. */
    double ratio() {
      return authMedian() / authenticatorMedian();
    }

    /** The ratio of each sample pair, sorted. */
    double[] sampleRatios() {
      double[] ratios = new double[auth.size()];
      for (int i = 0; i < ratios.length; i++) {
        ratios[i] = auth.get(i).wallMillis / (double) authenticator.get(i).wallMillis;
      }
      Arrays.sort(ratios);
      return ratios;
    }

    private static double median(List<Storm.Result> results) {
      long[] walls = new long[results.size()];
      for (int i = 0; i < walls.length; i++) walls[i] = results.get(i).wallMillis;
      Arrays.sort(walls);
      int mid = walls.length / 2;
      return walls.length % 2 == 1 ? walls[mid] : (walls[mid - 1] + walls[mid]) / 2.0;
    }
  }

  private Versus() {}

  /**
   * Runs one row. {@code maxConcurrentRetries} 0 runs retrofit-auth in single-flight mode (the
   * default); any other value runs it in queue mode with at most that many retries at once.
   */
  static Row run(
      StormServer server,
      String label,
      String goal,
      int calls,
      boolean cold,
      int maxConcurrentRetries,
      int samples,
      long tokenDelayMillis,
      long apiDelayMillis)
      throws Exception {
    Row row = new Row(label, goal, calls, cold);
    Contender warmAuth = null;
    Contender warmAuthenticator = null;
    try {
      if (!cold) {
        warmAuth = auth(server, calls, maxConcurrentRetries);
        warmAuthenticator = authenticator(server, calls);
        Storm.run(server, warmAuth, calls, false, false, tokenDelayMillis, apiDelayMillis);
        Storm.run(server, warmAuthenticator, calls, false, false, tokenDelayMillis, apiDelayMillis);
      }
      for (int sample = 0; sample < samples; sample++) {
        for (int turn = 0; turn < 2; turn++) {
          // Alternate who goes first, so that a drift in the machine's load hurts both alike.
          boolean authTurn = (sample + turn) % 2 == 0;
          Contender contender =
              authTurn
                  ? (cold ? auth(server, calls, maxConcurrentRetries) : warmAuth)
                  : (cold ? authenticator(server, calls) : warmAuthenticator);
          try {
            Storm.Result result =
                Storm.run(server, contender, calls, false, false, tokenDelayMillis, apiDelayMillis);
            (authTurn ? row.auth : row.authenticator).add(result);
          } finally {
            if (cold) contender.close();
          }
        }
      }
    } finally {
      if (warmAuth != null) warmAuth.close();
      if (warmAuthenticator != null) warmAuthenticator.close();
    }
    return row;
  }

  private static Contender auth(StormServer server, int calls, int maxConcurrentRetries) {
    return new Contender.RetrofitAuth(
        server,
        calls,
        maxConcurrentRetries,
        maxConcurrentRetries == 0
            ? "retrofit-auth (single flight)"
            : "retrofit-auth (queue mode, " + maxConcurrentRetries + " retries at once)");
  }

  private static Contender authenticator(StormServer server, int calls) {
    return new Contender.OkHttpAuthenticator(server, calls);
  }

  static void printHeader(PrintStream out) {
    out.println(
        "| storm | retrofit-auth median (ms) | Authenticator median (ms) | ratio of medians |"
            + " per-sample ratios (sorted) | goal | retrofit-auth ok, refreshes | threads started"
            + " (auth / Authenticator, median) |");
    out.println("|---|---|---|---|---|---|---|---|");
  }

  static void print(PrintStream out, Row row) {
    StringBuilder ratios = new StringBuilder();
    for (double r : row.sampleRatios()) {
      if (ratios.length() > 0) ratios.append(", ");
      ratios.append(String.format(Locale.ROOT, "%.2f", r));
    }
    int ok = Integer.MAX_VALUE;
    int refreshes = 0;
    for (Storm.Result r : row.auth) {
      ok = Math.min(ok, r.succeeded);
      refreshes = Math.max(refreshes, r.refreshes);
    }
    out.printf(
        Locale.ROOT,
        "| %s | %.0f | %.0f | %.2f | %s | %s | %d/%d, %d | %d / %d |%n",
        row.label,
        row.authMedian(),
        row.authenticatorMedian(),
        row.ratio(),
        ratios,
        row.goal,
        ok,
        row.calls,
        refreshes,
        medianStarted(row.auth),
        medianStarted(row.authenticator));
    out.flush();
  }

  static void printReleaseHeader(PrintStream out) {
    out.println(
        "| storm | contender | ok, refreshes | refresh returned → last call handed to OkHttp (ms) |"
            + " calls handed back | threads started in the release | refresh returned → last call"
            + " done (ms) | threads started in the storm | threads started after the refresh |"
            + " calls waiting at the peak |");
    out.println("|---|---|---|---|---|---|---|---|---|---|");
  }

  /** Prints a cold row's time after the refresh, one line per contender. */
  static void printRelease(PrintStream out, Row row) {
    printRelease(out, row.label, row.auth, true);
    printRelease(out, row.label, row.authenticator, false);
    out.flush();
  }

  private static void printRelease(
      PrintStream out, String label, List<Storm.Result> results, boolean release) {
    Storm.Result first = results.get(0);
    int ok = Integer.MAX_VALUE;
    int refreshes = 0;
    for (Storm.Result r : results) {
      ok = Math.min(ok, r.succeeded);
      refreshes = Math.max(refreshes, r.refreshes);
    }
    out.printf(
        Locale.ROOT,
        "| %s | %s | %d/%d, %d | %s | %s | %s | %s | %s | %s | %s |%n",
        label,
        first.contender,
        ok,
        first.calls,
        refreshes,
        release ? millis(results, r -> r.releaseNanos) : "—",
        release ? spread(results, r -> r.handedBack) : "—",
        release ? spread(results, r -> r.threadsStartedInRelease) : "—",
        millis(results, r -> r.completionNanos),
        spread(results, r -> r.threadsStarted),
        spread(results, r -> r.threadsStartedAfterRefresh),
        release ? spread(results, r -> r.peakWaiting) : "—");
  }

  /** {@code value} of each of {@code results}, sorted. */
  private static long[] sorted(List<Storm.Result> results, ToLongFunction<Storm.Result> value) {
    long[] values = new long[results.size()];
    for (int i = 0; i < values.length; i++) values[i] = value.applyAsLong(results.get(i));
    Arrays.sort(values);
    return values;
  }

  private static String millis(List<Storm.Result> results, ToLongFunction<Storm.Result> nanos) {
    long[] v = sorted(results, nanos);
    return String.format(
        Locale.ROOT, "%.2f (%.2f–%.2f)", median(v) / 1e6, v[0] / 1e6, v[v.length - 1] / 1e6);
  }

  private static String spread(List<Storm.Result> results, ToLongFunction<Storm.Result> value) {
    long[] v = sorted(results, value);
    return String.format(Locale.ROOT, "%.0f (%d–%d)", median(v), v[0], v[v.length - 1]);
  }

  private static double median(long[] sorted) {
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
  }

  private static long medianStarted(List<Storm.Result> results) {
    long[] started = new long[results.size()];
    for (int i = 0; i < started.length; i++) started[i] = results.get(i).threadsStarted;
    Arrays.sort(started);
    return started[started.length / 2];
  }
}
