package dev.retrofitauth;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.codehaus.mojo.animal_sniffer.IgnoreJRERequirement;

/** Checks and converts the builders' durations; a message names the option and the bad value. */
final class Durations {
  private Durations() {}

  static long toMillis(String name, long value, TimeUnit unit) {
    Objects.requireNonNull(unit, "unit == null");
    if (value < 0) throw new IllegalArgumentException(name + " < 0: " + value);
    return unit.toMillis(value);
  }

  @IgnoreJRERequirement // Only the callers' java.time overloads get here.
  static long toMillis(String name, Duration value) {
    Objects.requireNonNull(value, name + " == null");
    if (value.isNegative()) throw new IllegalArgumentException(name + " < 0: " + value);
    return value.toMillis();
  }

  static void checkOrder(Object initial, boolean maxBelowInitial, Object max) {
    if (maxBelowInitial) {
      throw new IllegalArgumentException("max < initial: " + max + " < " + initial);
    }
  }
}
