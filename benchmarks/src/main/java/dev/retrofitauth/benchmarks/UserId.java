package dev.retrofitauth.benchmarks;

/**
 * A user of the server: the key of the keyed credential that {@link Sessions} and {@link
 * SessionPickBenchmark} measure, as an app would write it.
 */
final class UserId {
  private final String value;

  UserId(String value) {
    this.value = value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UserId && ((UserId) o).value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return "UserId(" + value + ")";
  }
}
