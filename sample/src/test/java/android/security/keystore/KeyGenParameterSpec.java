package android.security.keystore;

import java.security.spec.AlgorithmParameterSpec;

/**
 * Compile-only stand-in for Android's class of the same name (API 23), with the builder methods the
 * README's Keystore recipe uses, so that ReadmeTest compiles the recipe on the JVM. Nothing runs it
 * here.
 */
public final class KeyGenParameterSpec implements AlgorithmParameterSpec {
  private KeyGenParameterSpec() {}

  public static final class Builder {
    public Builder(String keystoreAlias, int purposes) {}

    public Builder setBlockModes(String... blockModes) {
      return this;
    }

    public Builder setEncryptionPaddings(String... paddings) {
      return this;
    }

    public Builder setKeySize(int keySize) {
      return this;
    }

    public KeyGenParameterSpec build() {
      return new KeyGenParameterSpec();
    }
  }
}
