package dev.retrofitauth.benchmarks;

/**
 * Runs one kind of storm a few times, to profile it with the JDK's Flight Recorder:
 *
 * <pre>
 * java -XX:StartFlightRecording=filename=storm.jfr,settings=profile \
 *     -cp benchmarks/target/benchmarks.jar dev.retrofitauth.benchmarks.ProfileStorm 10000 3 auth
 * jfr print --events jdk.ExecutionSample storm.jfr
 * </pre>
 *
 * <p>Arguments: the number of calls (10,000), the number of storms (3), and the contender: {@code
 * auth} (retrofit-auth, single flight), {@code queue:64} (retrofit-auth in queue mode, 64 retries
 * at once) or {@code authenticator} (the OkHttp Authenticator way). Every storm gets a fresh
 * client, as in the cold rows of the report.
 */
public final class ProfileStorm {
  private ProfileStorm() {}

  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    String kind = args.length > 2 ? args[2] : "auth";
    boolean authenticator = kind.equals("authenticator");
    int maxConcurrentRetries =
        kind.startsWith("queue:") ? Integer.parseInt(kind.substring("queue:".length())) : 0;
    try (StormServer server = new StormServer(50, 5)) {
      for (int round = 0; round < rounds; round++) {
        try (Contender contender =
            authenticator
                ? new Contender.OkHttpAuthenticator(server, calls)
                : new Contender.RetrofitAuth(
                    server,
                    calls,
                    maxConcurrentRetries,
                    maxConcurrentRetries == 0
                        ? "retrofit-auth (single flight)"
                        : "retrofit-auth (queue mode, " + maxConcurrentRetries + " at once)")) {
          Storm.Result r = Storm.run(server, contender, calls, false, false, 50, 5);
          System.out.printf(
              "%s, %s: %d ok, %d refresh, %d 401s, %d ms, %d threads started, %d peak threads"
                  + " added, %d peak calls waiting; all enqueued at %d ms, first refresh at %d ms%n",
              r.mode,
              r.contender,
              r.succeeded,
              r.refreshes,
              r.unauthorized,
              r.wallMillis,
              r.threadsStarted,
              r.peakThreads,
              r.peakWaiting,
              r.enqueuedMillis,
              r.firstRefreshMillis);
        }
      }
    }
  }
}
