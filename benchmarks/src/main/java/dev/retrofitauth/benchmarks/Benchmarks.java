package dev.retrofitauth.benchmarks;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs every benchmark and prints the report: per-call overhead and the cost of picking a session
 * (JMH, with {@code -prof gc}), refresh storms side by side, the storm with the expiry known,
 * memory per waiting call, and what an idle session costs, alone and as a keyed session of a
 * registry.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar           # the full run
 * java -jar benchmarks/target/benchmarks.jar --quick   # a smoke run, seconds
 * java -jar benchmarks/target/benchmarks.jar --sessions  # what an idle session costs
 * java -jar benchmarks/target/benchmarks.jar --release   # a cold storm after its refresh
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
    int idleSessions = 10_000;
    int sharingManagers = 1_000;

    /** The storm sizes of the rows against the Authenticator way: small, middle, large. */
    int[] versusCalls = {100, 1_000, 10_000};

    int versusSamples = 3;

    /** Section 4's release rows: the cold storm's sizes and the samples of each. */
    int[] releaseCalls = {100, 1_000};

    int releaseSamples = 5;

    /** Section 7: token lifetimes, expiries per lifetime, calls per second. */
    long[] expiryLifetimes = {3_000, 30_000, 300_000};

    int expiries = 5;
    int callsPerSecond = 200;
    int expiryRuns = 2;
    boolean jmh = true;

    /** Sections 2, 3 and 5; false runs section 4 alone. */
    boolean storms = true;

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
      c.idleSessions = 500;
      c.sharingManagers = 50;
      c.versusCalls = new int[] {10, 20, 40};
      c.versusSamples = 1;
      c.releaseCalls = new int[] {20, 40};
      c.releaseSamples = 2;
      // A short token on the real clock and a longer one on the jumping clock.
      c.expiryLifetimes = new long[] {1_000, 10_000};
      c.expiries = 2;
      c.callsPerSecond = 100;
      c.expiryRuns = 1;
      return c;
    }
  }

  /** Everything one run measured. */
  static final class Report {
    final List<RunResult> jmh = new ArrayList<>();
    final List<Storm.Result> storms = new ArrayList<>();
    final List<Versus.Row> versus = new ArrayList<>();

    /** Section 4's release rows: cold storms, retrofit-auth against the Authenticator way. */
    final List<Versus.Row> release = new ArrayList<>();

    final List<ExpiryStream.Result> expiry = new ArrayList<>();
    double bytesPerWaitingCall = Double.NaN;
    double bytesPerIdleSession = Double.NaN;
    double bytesPerIdleKeyedSession = Double.NaN;
    int threadsAddedBySharingManagers = -1;
  }

  private Benchmarks() {}

  public static void main(String[] args) throws Exception {
    boolean quick = args.length > 0 && args[0].equals("--quick");
    Config config = quick ? Config.quick() : new Config();
    // --storms: sections 2 to 5 only, to compare refresh storms before and after a change.
    if (args.length > 0 && args[0].equals("--storms")) config.jmh = false;
    // --versus: section 4 only, the storm rows against the Authenticator way.
    // --sessions: section 6 alone, what an idle session costs.
    if (args.length > 0 && args[0].equals("--sessions")) {
      sessions(config, System.out, new Report());
      return;
    }
    // --expiry: section 7 alone, a stream of calls over several expiries.
    if (args.length > 0 && args[0].equals("--expiry")) {
      expiry(config, System.out, new Report());
      return;
    }
    if (args.length > 0 && args[0].equals("--versus")) {
      config.jmh = false;
      config.storms = false;
    }
    // --release: section 4's release rows alone, the cold storm's own cost in the library.
    if (args.length > 0 && args[0].equals("--release")) {
      try (StormServer server = new StormServer(config.tokenDelayMillis, config.apiDelayMillis)) {
        warmUp(config, server);
        release(config, System.out, server, new Report());
      }
      return;
    }
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
            .include(SessionPickBenchmark.class.getName())
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
    if (config.jmh) {
      out.println("## 1. Per-call overhead (JMH, ops/ms, same run)");
      out.println();
      out.println(
          "| call | bare Retrofit | + header interceptor | with retrofit-auth | auth / bare |"
              + " auth / header | alloc bare / header / auth (B/op) |");
      out.println("|---|---|---|---|---|---|---|");
    }
    for (String kind : config.jmh ? new String[] {"Execute", "Enqueue"} : new String[0]) {
      RunResult bare = JmhResults.find(results, "bare" + kind);
      RunResult header = JmhResults.find(results, "header" + kind);
      RunResult auth = JmhResults.find(results, "auth" + kind);
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
          JmhResults.allocation(bare),
          JmhResults.allocation(header),
          JmhResults.allocation(auth));
    }
    if (config.jmh) {
      RunResult bare = JmhResults.find(results, "bareExecute");
      RunResult dpop = JmhResults.find(results, "dpopExecute");
      double dpopScore = dpop.getPrimaryResult().getScore();
      out.printf(
          Locale.ROOT,
          "| execute() with DPoP (an ES256 proof per call) | %.1f | | %.1f ± %.1f | %.3f | | %.0f"
              + " / / %.0f |%n",
          bare.getPrimaryResult().getScore(),
          dpopScore,
          dpop.getPrimaryResult().getScoreError(),
          dpopScore / bare.getPrimaryResult().getScore(),
          JmhResults.allocation(bare),
          JmhResults.allocation(dpop));
      out.println();
      sessionPick(out, results);
    }
    out.println();

    // 2, 3 and 4. Storms.
    try (StormServer server = new StormServer(config.tokenDelayMillis, config.apiDelayMillis)) {
      if (config.storms) storms(config, out, server, report);
      versus(config, out, server, report);
    }
    if (!config.storms) return report;

    // 5. Memory.
    report.bytesPerWaitingCall = Memory.bytesPerWaitingCall(config.memoryCalls, config.memoryRuns);
    out.printf(
        Locale.ROOT,
        "## 5. Memory per waiting call%n%n%d async calls parked on an open refresh retain %.0f bytes"
            + " each above the same bare Retrofit calls (average of %d runs).%n",
        config.memoryCalls,
        report.bytesPerWaitingCall,
        config.memoryRuns);
    sessions(config, out, report);
    expiry(config, out, report);
    return report;
  }

  /**
   * Section 7: a stream of calls over several expiries of a token whose lifetime is known, for each
   * lifetime, retrofit-auth against the Authenticator way and the Authenticator with an expiry
   * check, on one clock.
   */
  private static void expiry(Config config, PrintStream out, Report report) throws Exception {
    out.printf(
        Locale.ROOT,
        "%n## 7. A stream over %d expiries (%d calls/s, token endpoint %d ms, API %d ms, %d runs)"
            + "%n%n",
        config.expiries,
        config.callsPerSecond,
        config.tokenDelayMillis,
        config.apiDelayMillis,
        config.expiryRuns);
    out.println(
        "| lifetime | contender | run | ok | token requests | per lifetime | share of lifetime used"
            + " | calls waited | 401s | wall (ms) |");
    out.println("|---|---|---|---|---|---|---|---|---|---|");
    for (long lifetime : config.expiryLifetimes) {
      for (int run = 1; run <= config.expiryRuns; run++) {
        for (String kind : new String[] {"auth", "authenticator", "expiry-check"}) {
          ExpiryStream.Result r =
              ExpiryStream.run(
                  kind,
                  lifetime,
                  config.expiries,
                  config.callsPerSecond,
                  config.tokenDelayMillis,
                  config.apiDelayMillis);
          report.expiry.add(r);
          out.printf(
              Locale.ROOT,
              "| %s | %s | %d | %d/%d | %d | %.2f | %.2f | %d | %d | %d |%n",
              lifetime >= 60_000 ? lifetime / 60_000 + " min" : lifetime / 1_000.0 + " s",
              r.contender,
              run,
              r.succeeded,
              r.calls,
              r.tokenRequests,
              r.perLifetime,
              r.shareUsed,
              r.waited,
              r.unauthorized,
              r.wallMillis);
          out.flush();
        }
      }
    }
  }

  /** Section 1, second table: the cost of picking a session, against one manager. */
  private static void sessionPick(PrintStream out, Collection<RunResult> results) {
    RunResult one = JmhResults.find(results, "oneManagerExecute");
    RunResult named = JmhResults.find(results, "namedCredentialExecute");
    RunResult keyed = JmhResults.find(results, "keyedCredentialExecute");
    out.println("### Picking a session per call (JMH, `execute()`, ns/op, same run)");
    out.println();
    out.println("| `execute()` through | ns/op | time / one manager (interval) | alloc (B/op) |");
    out.println("|---|---|---|---|");
    Object[][] rows = {
      {"one RefreshManager", one},
      {"SessionRegistry, default + named, `@Credential(\"partner\")`", named},
      {
        "SessionRegistry, keyed, `@Tag UserId`, "
            + keyed.getParams().getParam("users")
            + " signed-in users in turn",
        keyed
      },
    };
    for (Object[] row : rows) {
      RunResult result = (RunResult) row[1];
      out.printf(
          Locale.ROOT,
          "| %s | %.0f ± %.0f | %s | %.0f |%n",
          row[0],
          result.getPrimaryResult().getScore(),
          result.getPrimaryResult().getScoreError(),
          result == one ? "1" : JmhResults.ratio(result, one),
          JmhResults.allocation(result));
    }
  }

  /**
   * Section 6: the heap of an idle signed-in manager and of a keyed session of a registry, and the
   * threads of many managers.
   */
  private static void sessions(Config config, PrintStream out, Report report) throws Exception {
    Sessions.IdleHeap heap = Sessions.bytesPerIdleSession(config.idleSessions, config.memoryRuns);
    report.bytesPerIdleSession = heap.perManager;
    report.bytesPerIdleKeyedSession = heap.perKeyedSession;
    report.threadsAddedBySharingManagers = Sessions.threadsAddedByManagers(config.sharingManagers);
    out.printf(
        Locale.ROOT,
        "%n## 6. Idle sessions%n%n%d idle signed-in managers retain %.0f bytes each above their"
            + " tokens; %d idle signed-in keyed sessions of one SessionRegistry (its map entry, the"
            + " key, the session entry and the manager) retain %.0f bytes each, %.2f × a manager"
            + " (average of %d runs, same run). %d managers sharing a 4-thread executor, each"
            + " refreshed once, added %d threads.%n",
        config.idleSessions,
        report.bytesPerIdleSession,
        config.idleSessions,
        report.bytesPerIdleKeyedSession,
        report.bytesPerIdleKeyedSession / report.bytesPerIdleSession,
        config.memoryRuns,
        config.sharingManagers,
        report.threadsAddedBySharingManagers);
  }

  /** Sections 2 and 3: every contender in every storm. */
  private static void storms(Config config, PrintStream out, StormServer server, Report report)
      throws Exception {
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
        "| storm | contender | ok | refreshes | 401s | wall (ms) | wall / ideal | peak threads added |"
            + " blocked on refresh | peak calls waiting | threads started |");
    out.println("|---|---|---|---|---|---|---|---|---|---|---|");
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

  /** Section 4: the storm rows, retrofit-auth against the Authenticator way. */
  private static void versus(Config config, PrintStream out, StormServer server, Report report)
      throws Exception {
    int[] n = config.versusCalls;
    warmUp(config, server);
    out.printf(
        Locale.ROOT,
        "## 4. Storm wall time against the Authenticator way (median of %d, same run)%n%n",
        config.versusSamples);
    Versus.printHeader(out);
    Object[][] rows = {
      {n[0] + " async, cold", "≤ 1.0", n[0], true, 0},
      {n[1] + " async, cold", "≤ 0.8", n[1], true, 0},
      {n[1] + " async, warm", "≤ 0.8", n[1], false, 0},
      {n[2] + " async, cold", "≤ 1.0", n[2], true, 0},
      // The same storm with the retries paced: queue mode, 64 at once (a builder setting).
      {n[2] + " async, cold, queue mode, 64 retries at once", "", n[2], true, 64},
    };
    for (Object[] row : rows) {
      Versus.Row r =
          Versus.run(
              server,
              (String) row[0],
              (String) row[1],
              (Integer) row[2],
              (Boolean) row[3],
              (Integer) row[4],
              config.versusSamples,
              config.tokenDelayMillis,
              config.apiDelayMillis);
      report.versus.add(r);
      Versus.print(out, r);
    }
    out.println();
    release(config, out, server, report);
  }

  /** Two cold storms of each contender, so that their code paths are compiled. */
  private static void warmUp(Config config, StormServer server) throws Exception {
    for (int round = 0; round < 2; round++) {
      Versus.run(
          server,
          "warm-up",
          "",
          config.warmupStorm,
          true,
          0,
          1,
          config.tokenDelayMillis,
          config.apiDelayMillis);
    }
  }

  /**
   * Section 4, release rows: what a cold storm costs once the refresh has returned. The ratio rows
   * above time the whole storm, which is mostly OkHttp's dispatcher starting a thread per call;
   * these time the library's own part, from the RefreshApi returning its tokens to the last waiting
   * call handed back to OkHttp (its retry's {@code newCall}), and to the last call done.
   */
  private static void release(Config config, PrintStream out, StormServer server, Report report)
      throws Exception {
    out.printf(
        Locale.ROOT,
        "### The cold storm after the refresh (median (min–max) of %d, same run)%n%n",
        config.releaseSamples);
    Versus.printReleaseHeader(out);
    for (int n : config.releaseCalls) {
      Versus.Row r =
          Versus.run(
              server,
              n + " async, cold",
              "",
              n,
              true,
              0,
              config.releaseSamples,
              config.tokenDelayMillis,
              config.apiDelayMillis);
      report.release.add(r);
      Versus.printRelease(out, r);
    }
    out.println();
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
          "| %s | %s | %d/%d | %d | %d | %d | %.2f | %d | %d | %d | %d |%n",
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
          r.peakWaiting,
          r.threadsStarted);
      out.flush();
      return r;
    }
  }
}
