package android.security.keystore;

/**
 * Compile-only stand-in for Android's class of the same name (API 23), with the members the
 * README's Keystore recipe uses and the values Android gives them, so that ReadmeTest compiles the
 * recipe on the JVM. Nothing runs it here.
 */
public final class KeyProperties {
  public static final int PURPOSE_ENCRYPT = 1;
  public static final int PURPOSE_DECRYPT = 2;
  public static final String BLOCK_MODE_GCM = "GCM";
  public static final String ENCRYPTION_PADDING_NONE = "NoPadding";

  private KeyProperties() {}
}
