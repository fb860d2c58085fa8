package dev.retrofitauth.redis;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/** Checks the builder's settings, with errors that say what was passed. */
final class Settings {
  private Settings() {}

  static long positiveMillis(String name, long value, TimeUnit unit) {
    Objects.requireNonNull(unit, "unit == null");
    if (value <= 0) throw new IllegalArgumentException(name + " <= 0: " + value);
    long millis = unit.toMillis(value);
    if (millis == 0) {
      throw new IllegalArgumentException(name + " is under one millisecond: " + value + " " + unit);
    }
    return millis;
  }

  static long positiveMillis(String name, Duration value) {
    Objects.requireNonNull(value, name + " == null");
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " <= 0: " + value);
    }
    long millis = value.toMillis();
    if (millis == 0)
      throw new IllegalArgumentException(name + " is under one millisecond: " + value);
    return millis;
  }

  static String printable(String key) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c > ' ' && c < '\u007f') out.append(c);
      else out.append(String.format("\\u%04x", (int) c));
    }
    return out.toString();
  }
}
