package dev.retrofitauth.benchmarks;

import dev.retrofitauth.TokenStore;
import dev.retrofitauth.Tokens;
import dev.retrofitauth.fleet.Fleet;
import dev.retrofitauth.fleet.FleetServer;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * A fleet of worker processes on one shared store, against a token server that rotates refresh
 * tokens and ends the session when one is presented twice: refreshes per expiry across the fleet,
 * the wait the lease adds, and the window between the token endpoint's answer and the save.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.retrofitauth.benchmarks.FleetBenchmark
 * java -cp ... FleetBenchmark class:dev.retrofitauth.redis.SomeFactory:redis://host:port/0
 * </pre>
 *
 * <p>The argument is the workers' store (see {@code FleetWorker}); the default is a token file.
 */
public final class FleetBenchmark {
  public static void main(String[] args) throws Exception {
    int processes = 8;
    int calls = 200;
    int expiries = 20;
    Path directory = Files.createTempDirectory("fleet");
    String store = args.length > 0 ? args[0] : null;
    if (store == null) {
      File file = directory.resolve("tokens.json").toFile();
      TokenStore.file(file).save(Tokens.of("access-0", "refresh-0"));
      store = "file:" + file;
    }
    List<Integer> refreshesPerExpiry = new ArrayList<>();
    List<Long> waits = new ArrayList<>();
    List<Long> windows = new ArrayList<>();
    int failed = 0;
    int reused;
    try (FleetServer server = new FleetServer("access-0", "refresh-0");
        Fleet fleet =
            new Fleet(
                processes,
                directory.toFile(),
                server.url("/").toString(),
                store,
                Integer.toString(calls),
                "refresh")) {
      fleet.round(); // Warm: connections and classes.
      for (int expiry = 0; expiry < expiries; expiry++) {
        int before = server.refreshes();
        server.expireAccessToken();
        for (Fleet.Round round : fleet.round()) {
          failed += round.failed;
          waits.addAll(round.leaseWaitMicros);
          windows.addAll(round.windowMicros);
        }
        refreshesPerExpiry.add(server.refreshes() - before);
      }
      reused = server.reusedRefreshTokens();
    }
    System.out.printf(
        Locale.ROOT,
        "fleet: %d processes x %d calls, %d expiries, store %s%n"
            + "  refreshes per expiry across the fleet: %s%n"
            + "  refresh tokens presented twice: %d; failed calls: %d of %d%n"
            + "  lease wait: p50 %.1f ms, p99 %.1f ms (%d leases)%n"
            + "  answer-to-save window: p50 %.2f ms, p99 %.2f ms (%d refreshes)%n",
        processes,
        calls,
        expiries,
        store.startsWith("file:") ? "file" : store,
        refreshesPerExpiry,
        reused,
        failed,
        processes * calls * expiries,
        percentile(waits, 50) / 1000.0,
        percentile(waits, 99) / 1000.0,
        waits.size(),
        percentile(windows, 50) / 1000.0,
        percentile(windows, 99) / 1000.0,
        windows.size());
  }

  private static long percentile(List<Long> values, int percent) {
    if (values.isEmpty()) return 0L;
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int index = (int) Math.ceil(percent / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(index, sorted.size() - 1)));
  }

  private FleetBenchmark() {}
}
