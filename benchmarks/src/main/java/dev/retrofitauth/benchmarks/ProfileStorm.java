package dev.retrofitauth.benchmarks;

/**
 * Runs one kind of storm a few times, to profile it with the JDK's Flight Recorder:
 *
 * <pre>
 * java -XX:StartFlightRecording=filename=storm.jfr,settings=profile \
 *     -cp benchmarks/target/benchmarks.jar dev.retrofitauth.benchmarks.ProfileStorm 10000
 * jfr print --events jdk.ExecutionSample storm.jfr
 * </pre>
 */
public final class ProfileStorm {
  private ProfileStorm() {}

  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    try (StormServer server = new StormServer(50, 5)) {
      for (int round = 0; round < rounds; round++) {
        try (Contender contender = new Contender.RetrofitAuth(server, calls, false)) {
          Storm.Result r = Storm.run(server, contender, calls, false, false, 50, 5);
          System.out.println(
              r.mode
                  + ": "
                  + r.succeeded
                  + " ok, "
                  + r.refreshes
                  + " refresh, "
                  + r.wallMillis
                  + " ms");
        }
      }
    }
  }
}
