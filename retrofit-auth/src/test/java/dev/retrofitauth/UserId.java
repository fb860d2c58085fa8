package dev.retrofitauth;

/** A user of a server: the key of the tests' keyed credentials, compared by value. */
final class UserId {
  final String value;

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
}
