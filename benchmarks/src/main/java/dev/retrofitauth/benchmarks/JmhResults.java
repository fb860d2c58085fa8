package dev.retrofitauth.benchmarks;

import java.util.Collection;
import java.util.Locale;
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

  /**
   * The ratio of two scores, with the interval their error bars (JMH's 99.9% confidence intervals)
   * allow: {@code "1.032 (0.950–1.121)"}; the ratio alone when either has no error bar (a single
   * iteration).
   */
  static String ratio(RunResult numerator, RunResult denominator) {
    double n = numerator.getPrimaryResult().getScore();
    double nError = numerator.getPrimaryResult().getScoreError();
    double d = denominator.getPrimaryResult().getScore();
    double dError = denominator.getPrimaryResult().getScoreError();
    if (Double.isNaN(nError) || Double.isNaN(dError) || dError >= d) {
      return String.format(Locale.ROOT, "%.3f", n / d);
    }
    return String.format(
        Locale.ROOT,
        "%.3f (%.3f–%.3f)",
        n / d,
        (n - nError) / (d + dError),
        (n + nError) / (d - dError));
  }

  /** Bytes allocated per operation, from {@code -prof gc}. */
  static double allocation(RunResult result) {
    Result<?> norm = result.getSecondaryResults().get("gc.alloc.rate.norm");
    return norm != null ? norm.getScore() : Double.NaN;
  }
}
