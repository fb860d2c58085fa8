package dev.retrofitauth.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/**
 * Runs the benchmarks with tiny settings so that the module cannot rot. It checks facts, never
 * timings: the full run and its numbers are in benchmarks/README.md.
 */
final class BenchmarksSmokeTest {
  @Test
  void quickRunReportsEverythingAndRetrofitAuthRefreshesOnce() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Benchmarks.Report report =
        Benchmarks.run(Benchmarks.Config.quick(), new PrintStream(bytes, true, "UTF-8"));
    String output = bytes.toString("UTF-8");

    // CallOverheadBenchmark's 7 and SessionPickBenchmark's 3.
    assertEquals(10, report.jmh.size(), output);
    assertTrue(output.contains("| one RefreshManager |"), output);
    assertTrue(output.contains("| execute() with DPoP"), output);
    assertTrue(output.contains("| execute() |"), output);
    assertTrue(output.contains("| enqueue() |"), output);
    for (Storm.Result r : report.storms) {
      if (r.contender.startsWith("retrofit-auth")) {
        assertEquals(r.calls, r.succeeded, r.contender + " " + r.mode + " lost calls\n" + output);
        assertEquals(1, r.refreshes, r.contender + " " + r.mode + "\n" + output);
        if (!r.mode.contains("sync")) {
          assertEquals(0, r.blockedThreads, r.contender + " " + r.mode + "\n" + output);
        }
        if (r.contender.contains("default dispatcher")) {
          assertTrue(r.unauthorized <= 5, "dead-token requests\n" + output);
        }
        if (r.mode.contains("ahead")) {
          assertEquals(0, r.unauthorized, "401s\n" + output);
          assertEquals(0, r.peakWaiting, "calls waited\n" + output);
        }
        if (r.mode.contains("first calls")) {
          assertEquals(0, r.unauthorized, "no call went out without a token\n" + output);
        }
        if (r.mode.contains("expiry known")) {
          assertEquals(0, r.unauthorized, r.contender + " " + r.mode + "\n" + output);
        }
      }
    }
    assertEquals(16, report.storms.size());
    // Section 4: the rows (100 and 1,000 cold, 1,000 warm, 10,000, 10,000 paced).
    assertEquals(5, report.versus.size(), output);
    for (Versus.Row row : report.versus) {
      assertEquals(1, row.auth.size(), row.label + "\n" + output);
      assertEquals(1, row.authenticator.size(), row.label + "\n" + output);
      for (Storm.Result r : row.auth) {
        assertEquals(r.calls, r.succeeded, row.label + " lost calls\n" + output);
        assertEquals(1, r.refreshes, row.label + "\n" + output);
      }
      for (Storm.Result r : row.authenticator) {
        assertEquals(r.calls, r.succeeded, row.label + " lost calls\n" + output);
      }
    }
    assertTrue(output.contains("| 20 async, warm |"), output);
    // Section 4's release rows: the times after the refresh are there and positive.
    assertEquals(2, report.release.size(), output);
    for (Versus.Row row : report.release) {
      assertEquals(2, row.auth.size(), row.label + "\n" + output);
      assertEquals(2, row.authenticator.size(), row.label + "\n" + output);
      for (Storm.Result r : row.auth) {
        assertEquals(r.calls, r.succeeded, row.label + " lost calls\n" + output);
        assertEquals(1, r.refreshes, row.label + "\n" + output);
        assertTrue(r.releaseNanos > 0, row.label + " release\n" + output);
        assertTrue(r.handedBack > 0, row.label + " calls handed back\n" + output);
        assertTrue(r.completionNanos >= r.releaseNanos, row.label + " completion\n" + output);
        assertTrue(r.threadsStarted > 0, row.label + " threads\n" + output);
        assertTrue(r.threadsStartedAfterRefresh >= 0, row.label + " threads\n" + output);
      }
      for (Storm.Result r : row.authenticator) {
        assertEquals(r.calls, r.succeeded, row.label + " lost calls\n" + output);
        assertTrue(r.completionNanos > 0, row.label + " completion\n" + output);
        assertTrue(r.threadsStarted > 0, row.label + " threads\n" + output);
      }
    }
    assertTrue(output.contains("| 40 async, cold | retrofit-auth (single flight) |"), output);
    // Section 7: two lifetimes x three contenders; retrofit-auth never sends a dead token. How many
    // calls waited is a timing (a 1 s token on a loaded machine): the full run reports it.
    assertEquals(6, report.expiry.size(), output);
    for (ExpiryStream.Result r : report.expiry) {
      assertEquals(r.calls, r.succeeded, r.contender + " lost calls\n" + output);
      assertTrue(r.waited >= 0 && r.waited <= r.calls, r.contender + " waited\n" + output);
      if (r.contender.startsWith("retrofit-auth")) {
        assertEquals(0, r.unauthorized, "401s\n" + output);
      }
    }
    assertFalse(Double.isNaN(report.bytesPerWaitingCall));
    assertFalse(Double.isNaN(report.bytesPerIdleSession));
    // 500 keyed sessions; the goal, checked by the full run, is 2 KB, and this leaves room for GC
    // noise.
    assertTrue(
        report.bytesPerIdleKeyedSession <= 4096,
        "bytes per idle keyed session: " + report.bytesPerIdleKeyedSession + "\n" + output);
    // The managers share the executor and one timer: no thread per manager.
    assertTrue(
        report.threadsAddedBySharingManagers <= 5,
        "threads added by 50 managers: " + report.threadsAddedBySharingManagers);
  }
}
