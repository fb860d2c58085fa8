package dev.retrofitauth.benchmarks;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs every benchmark and prints the report: per-call overhead (JMH, with {@code -prof gc}),
 * refresh storms side by side, the storm with the expiry known, and memory per waiting call.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar           # the full run
 * java -jar benchmarks/target/benchmarks.jar --quick   # a smoke run, seconds
 * </pre>
 */
public final class Benchmarks {
  /** How much to run. */
  static final class Config {
    int jmhWarmupIterations = 5;
    int jmhIterations = 5;
    int jmhIterationMillis = 1_000;
    int jmhForks = 2;
    int warmupStorm = 200;
    int[] asyncStorms = {100, 1_000, 10_000};
    int syncStorm = 500;
    long tokenDelayMillis = 50;
    long apiDelayMillis = 5;
    int memoryCalls = 10_000;
    int memoryRuns = 3;
    boolean jmh = true;

    static Config quick() {
      Config c = new Config();
      c.jmhWarmupIterations = 0;
      c.jmhIterations = 1;
      c.jmhIterationMillis = 100;
      c.jmhForks = 0;
      c.warmupStorm = 10;
      c.asyncStorms = new int[] {20};
      c.syncStorm = 10;
      c.tokenDelayMillis = 20;
      c.apiDelayMillis = 1;
      c.memoryCalls = 200;
      c.memoryRuns = 1;
      return c;
    }
  }

  /** Everything one run measured. */
  static final class Report {
    final List<RunResult> jmh = new ArrayList<>();
    final List<Storm.Result> storms = new ArrayList<>();
    double bytesPerWaitingCall;
  }

  private Benchmarks() {}

  public static void main(String[] args) throws Exception {
    boolean quick = args.length > 0 && args[0].equals("--quick");
    Config config = quick ? Config.quick() : new Config();
    // --storms: sections 2 to 4 only, to compare refresh storms before and after a change.
    if (args.length > 0 && args[0].equals("--storms")) config.jmh = false;
    run(config, System.out);
  }

  static Report run(Config config, PrintStream out) throws Exception {
    Report report = new Report();
    out.printf(
        Locale.ROOT,
        "retrofit-auth benchmarks: %d cores, Java %s (%s)%n%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"),
        System.getProperty("java.vm.name"));

    // 1. Per-call overhead.
    ChainedOptionsBuilder options =
        new OptionsBuilder()
            .include(CallOverheadBenchmark.class.getName())
            .warmupIterations(config.jmhWarmupIterations)
            .warmupTime(TimeValue.milliseconds(config.jmhIterationMillis))
            .measurementIterations(config.jmhIterations)
            .measurementTime(TimeValue.milliseconds(config.jmhIterationMillis))
            .forks(config.jmhForks)
            .threads(1)
            .addProfiler(GCProfiler.class)
            .shouldDoGC(true);
    Collection<RunResult> results =
        config.jmh
            // JMH's own progress and summary go to the same stream as the report, so that the
            // smoke test can keep them out of the build log and show them when it fails.
            ? new Runner(
                    options.build(),
                    OutputFormatFactory.createFormatInstance(out, VerboseMode.NORMAL))
                .run()
            : new ArrayList<RunResult>();
    report.jmh.addAll(results);
    out.println("## 1. Per-call overhead (JMH, ops/ms, same run)");
    out.println();
    out.println(
        "| call | bare Retrofit | + header interceptor | with retrofit-auth | auth / bare |"
            + " auth / header | alloc bare / header / auth (B/op) |");
    out.println("|---|---|---|---|---|---|---|");
    for (String kind : config.jmh ? new String[] {"Execute", "Enqueue"} : new String[0]) {
      RunResult bare = find(results, "bare" + kind);
      RunResult header = find(results, "header" + kind);
      RunResult auth = find(results, "auth" + kind);
      double bareScore = bare.getPrimaryResult().getScore();
      double headerScore = header.getPrimaryResult().getScore();
      double authScore = auth.getPrimaryResult().getScore();
      out.printf(
          Locale.ROOT,
          "| %s() | %.1f ± %.1f | %.1f ± %.1f | %.1f ± %.1f | %.3f | %.3f | %.0f / %.0f / %.0f |%n",
          kind.toLowerCase(Locale.ROOT),
          bareScore,
          bare.getPrimaryResult().getScoreError(),
          headerScore,
          header.getPrimaryResult().getScoreError(),
          authScore,
          auth.getPrimaryResult().getScoreError(),
          authScore / bareScore,
          authScore / headerScore,
          allocation(bare),
          allocation(header),
          allocation(auth));
    }
    if (config.jmh) {
      RunResult bare = find(results, "bareExecute");
      RunResult dpop = find(results, "dpopExecute");
      double dpopScore = dpop.getPrimaryResult().getScore();
      out.printf(
          Locale.ROOT,
          "| execute() with DPoP (an ES256 proof per call) | %.1f | | %.1f ± %.1f | %.3f | | %.0f"
              + " / / %.0f |%n",
          bare.getPrimaryResult().getScore(),
          dpopScore,
          dpop.getPrimaryResult().getScoreError(),
          dpopScore / bare.getPrimaryResult().getScore(),
          allocation(bare),
          allocation(dpop));
    }
    out.println();

    // 2 and 3. Storms.
    try (StormServer server = new StormServer(config.tokenDelayMillis, config.apiDelayMillis)) {
      List<BiFunction<StormServer, Integer, Contender>> contenders = new ArrayList<>();
      contenders.add((s, n) -> new Contender.RetrofitAuth(s, n, false));
      contenders.add((s, n) -> new Contender.RetrofitAuth(s, n, true));
      contenders.add(Contender.OkHttpAuthenticator::new);
      contenders.add(Contender.Naive::new);
      out.printf(
          Locale.ROOT,
          "## 2. Refresh storms (token endpoint %d ms, API %d ms; ideal = %d ms)%n%n",
          config.tokenDelayMillis,
          config.apiDelayMillis,
          config.tokenDelayMillis + config.apiDelayMillis);
      // Warm every contender's code paths first, so that no contender pays for the JIT alone.
      PrintStream nowhere = new PrintStream(new java.io.ByteArrayOutputStream());
      for (int round = 0; round < 2; round++) {
        for (BiFunction<StormServer, Integer, Contender> factory : contenders) {
          int n = config.warmupStorm;
          storm(nowhere, server, factory.apply(server, n), n, round == 1, false, config);
        }
      }
      out.println(
          "| storm | contender | ok | refreshes | 401s | wall (ms) | wall / ideal | peak threads added | blocked on refresh | peak calls waiting |");
      out.println("|---|---|---|---|---|---|---|---|---|---|");
      for (int n : config.asyncStorms) {
        for (BiFunction<StormServer, Integer, Contender> factory : contenders) {
          report.storms.add(storm(out, server, factory.apply(server, n), n, false, false, config));
        }
      }
      for (BiFunction<StormServer, Integer, Contender> factory : contenders) {
        report.storms.add(
            storm(
                out,
                server,
                factory.apply(server, config.syncStorm),
                config.syncStorm,
                true,
                false,
                config));
      }
      int proactive = config.asyncStorms[config.asyncStorms.length > 1 ? 1 : 0];
      for (BiFunction<StormServer, Integer, Contender> factory : contenders.subList(0, 3)) {
        report.storms.add(
            storm(out, server, factory.apply(server, proactive), proactive, false, true, config));
      }
      // OkHttp's default dispatcher (64 requests, 5 per host): calls queue inside it.
      report.storms.add(
          storm(
              out,
              server,
              new Contender.RetrofitAuth(server, 0, "retrofit-auth, default dispatcher"),
              proactive,
              Storm.Start.EXPIRED,
              config));
      report.storms.add(
          storm(
              out,
              server,
              Contender.OkHttpAuthenticator.withDefaultDispatcher(server),
              proactive,
              Storm.Start.EXPIRED,
              config));
      // A scheduled expiry that is known ahead: one background refresh, nobody waits.
      report.storms.add(
          storm(
              out,
              server,
              new Contender.RetrofitAuth(server, proactive, "retrofit-auth (refresh ahead)"),
              proactive,
              Storm.Start.EXPIRY_AHEAD,
              config));
      // A cold start: a service that has no token yet. The Authenticator way starts with a dead
      // one, so that its first calls' 401s fetch it, which is how it is usually written.
      report.storms.add(
          storm(
              out,
              server,
              new Contender.RetrofitAuthSource(server, proactive),
              proactive,
              false,
              false,
              config));
      report.storms.add(
          storm(
              out,
              server,
              new Contender.OkHttpAuthenticator(server, proactive, "OkHttp Authenticator (cold)"),
              proactive,
              false,
              false,
              config));
      out.println();
    }

    // 4. Memory.
    report.bytesPerWaitingCall = Memory.bytesPerWaitingCall(config.memoryCalls, config.memoryRuns);
    out.printf(
        Locale.ROOT,
        "## 4. Memory per waiting call%n%n%d async calls parked on an open refresh retain %.0f bytes"
            + " each above the same bare Retrofit calls (average of %d runs).%n",
        config.memoryCalls,
        report.bytesPerWaitingCall,
        config.memoryRuns);
    return report;
  }

  private static Storm.Result storm(
      PrintStream out,
      StormServer server,
      Contender contender,
      int n,
      boolean sync,
      boolean proactive,
      Config config)
      throws Exception {
    return storm(
        out,
        server,
        contender,
        n,
        sync,
        proactive ? Storm.Start.EXPIRY_KNOWN : Storm.Start.EXPIRED,
        config);
  }

  private static Storm.Result storm(
      PrintStream out,
      StormServer server,
      Contender contender,
      int n,
      Storm.Start start,
      Config config)
      throws Exception {
    return storm(out, server, contender, n, false, start, config);
  }

  private static Storm.Result storm(
      PrintStream out,
      StormServer server,
      Contender contender,
      int n,
      boolean sync,
      Storm.Start start,
      Config config)
      throws Exception {
    try (Contender c = contender) {
      Storm.Result r =
          Storm.run(server, c, n, sync, start, config.tokenDelayMillis, config.apiDelayMillis);
      out.printf(
          Locale.ROOT,
          "| %s | %s | %d/%d | %d | %d | %d | %.2f | %d | %d | %d |%n",
          r.mode,
          r.contender,
          r.succeeded,
          r.calls,
          r.refreshes,
          r.unauthorized,
          r.wallMillis,
          r.wallRatio,
          r.peakThreads,
          r.blockedThreads,
          r.peakWaiting);
      out.flush();
      return r;
    }
  }

  private static RunResult find(Collection<RunResult> results, String method) {
    for (RunResult result : results) {
      if (result.getParams().getBenchmark().endsWith("." + method)) return result;
    }
    throw new AssertionError("no result for " + method);
  }

  private static double allocation(RunResult result) {
    Result<?> norm = result.getSecondaryResults().get("gc.alloc.rate.norm");
    return norm != null ? norm.getScore() : Double.NaN;
  }
}
