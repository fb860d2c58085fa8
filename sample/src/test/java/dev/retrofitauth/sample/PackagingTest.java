package dev.retrofitauth.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.retrofitauth.RefreshManager;
import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * Checks the library's jar as a user gets it. The reactor builds the sample after the library is
 * packaged, so the library is on this test's class path as its jar ({@code mvn verify}).
 */
final class PackagingTest {
  private static File libraryJar() {
    File location =
        new File(
            RefreshManager.class.getProtectionDomain().getCodeSource().getLocation().getPath());
    assertTrue(
        location.getName().endsWith(".jar"),
        "expected the packaged library, run 'mvn verify' from the top: " + location);
    return location;
  }

  @Test
  void manifestNamesTheModule() throws Exception {
    try (JarFile jar = new JarFile(libraryJar())) {
      assertEquals(
          "dev.retrofitauth",
          jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name"));
    }
  }

  @Test
  void shrinkerRulesKeepEveryAnnotation() throws Exception {
    try (JarFile jar = new JarFile(libraryJar())) {
      JarEntry rules = jar.getJarEntry("META-INF/proguard/retrofit-auth.pro");
      assertTrue(rules != null, "META-INF/proguard/retrofit-auth.pro is missing");
      String text;
      try (InputStream in = jar.getInputStream(rules)) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      int annotations = 0;
      for (JarEntry entry : java.util.Collections.list(jar.entries())) {
        String name = entry.getName();
        if (!name.startsWith("dev/retrofitauth/") || !name.endsWith(".class")) continue;
        Class<?> type = Class.forName(name.replace('/', '.').replace(".class", ""));
        if (type.isAnnotation() && java.lang.reflect.Modifier.isPublic(type.getModifiers())) {
          annotations++;
          assertTrue(text.contains("-keep @interface " + type.getName()), type + " is not kept");
        }
      }
      assertTrue(annotations >= 2, "found " + annotations + " annotations");
    }
  }

  @Test
  void sourcesAndJavadocJarsAreBuilt() {
    File jar = libraryJar();
    String base = jar.getName().substring(0, jar.getName().length() - ".jar".length());
    assertTrue(new File(jar.getParentFile(), base + "-sources.jar").isFile());
    assertTrue(new File(jar.getParentFile(), base + "-javadoc.jar").isFile());
  }
}
