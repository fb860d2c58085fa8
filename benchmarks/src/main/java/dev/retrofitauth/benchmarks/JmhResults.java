package dev.retrofitauth.benchmarks;

import java.util.Collection;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/** Reads what the report needs from JMH's results. */
final class JmhResults {
  private JmhResults() {}

  static RunResult find(Collection<RunResult> results, String method) {
    for (RunResult result : results) {
      if (result.getParams().getBenchmark().endsWith("." + method)) return result;
    }
    throw new AssertionError("no result for " + method);
  }

  /** Bytes allocated per operation, from {@code -prof gc}. */
  static double allocation(RunResult result) {
    Result<?> norm = result.getSecondaryResults().get("gc.alloc.rate.norm");
    return norm != null ? norm.getScore() : Double.NaN;
  }
}
