package dev.retrofitauth.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.squareup.moshi.Moshi;
import dev.retrofitauth.NoAuth;
import dev.retrofitauth.NoRetry;
import dev.retrofitauth.RefreshManager;
import dev.retrofitauth.RetryGroup;
import dev.retrofitauth.RetryPriority;
import dev.retrofitauth.sample.shrink.ShrunkApp;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import okhttp3.OkHttpClient;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.jspecify.annotations.NullMarked;
import org.junit.jupiter.api.Test;
import proguard.Configuration;
import proguard.ConfigurationParser;
import proguard.ProGuard;
import retrofit2.Retrofit;

/**
 * Proves the shrinker rules that the jar ships. ProGuard shrinks and obfuscates {@link ShrunkApp}
 * together with retrofit-auth, Retrofit, OkHttp, Okio, Moshi and the Kotlin standard library, using
 * only the app's one keep rule and the rules each jar ships in {@code META-INF/proguard/}, as R8
 * does for an Android app. Then the shrunk app runs, alone in its class loader, against a local
 * server, and every retrofit-auth annotation must still steer its call. This is as close to R8 on
 * Android as a JVM build gets.
 */
final class ShrunkAppTest {
  private static final Path OUT =
      Paths.get(System.getProperty("basedir", "."), "target", "shrunk-app");

  /** Each request the server saw: method, path and Authorization header. */
  private final List<String> requests = new CopyOnWriteArrayList<>();

  @Test
  void annotationsStillSteerTheShrunkAndObfuscatedApp() throws Exception {
    Path jar = shrink(OUT.resolve("app.jar"));

    try (JarFile shrunk = new JarFile(jar.toFile())) {
      assertTrue(
          shrunk.getJarEntry("dev/retrofitauth/sample/shrink/ShrunkApp.class") != null,
          "the entry point is kept");
      assertTrue(
          shrunk.getJarEntry("dev/retrofitauth/sample/shrink/ShrunkApp$Api.class") == null,
          "the service interface is renamed");
      assertTrue(
          shrunk.getJarEntry("dev/retrofitauth/SingleFlight.class") == null,
          "retrofit-auth's own classes are renamed");
      // What retrofit-auth.pro asks for. Without it, ProGuard still keeps them (renamed), because
      // the library's code refers to them; the rules do not leave that to the shrinker.
      for (Class<?> annotation :
          List.of(NoAuth.class, NoRetry.class, RetryGroup.class, RetryPriority.class)) {
        String entry = annotation.getName().replace('.', '/') + ".class";
        assertTrue(shrunk.getJarEntry(entry) != null, "not kept by its name: " + annotation);
      }
      assertTrue(
          shrunk.getJarEntry("dev/retrofitauth/oauth2/OAuth2TokenSource.class") == null,
          "what the app does not use is removed");
    }

    try (MockWebServer server = new MockWebServer()) {
      server.setDispatcher(new Api());
      server.start();
      String report = runShrunk(jar, server.url("/").toString());

      assertEquals(
          "status=401 poll=401 refreshes=0 queued=[-/0, -/10, feed/0] canceled=1"
              + " outcomes={checkout=200, feed=IOException: Canceled: retry group \"feed\" was canceled, news=200}"
              + " refreshes=1",
          report);
    }
    // The calls before the refresh, then the refresh, then the retries by priority.
    assertEquals(List.of("GET /status -", "GET /poll Bearer t1"), requests.subList(0, 2));
    int token = requests.indexOf("POST /token -");
    assertTrue(token > 2, requests.toString());
    for (String before : requests.subList(2, token)) {
      assertTrue(before.endsWith(" Bearer t1") && !before.startsWith("POST"), requests.toString());
    }
    assertEquals(
        List.of("GET /checkout Bearer t2", "GET /news Bearer t2"),
        requests.subList(token + 1, requests.size()));
  }

  /** Rejects t1, answers t2, and swaps refresh token r1 for t2. */
  private final class Api extends Dispatcher {
    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String authorization = request.getHeader("Authorization");
      requests.add(
          request.getMethod()
              + " "
              + request.getPath()
              + " "
              + (authorization != null ? authorization : "-"));
      if (request.getPath().equals("/token")) {
        return request.getBody().readUtf8().equals("refresh_token=r1")
            ? new MockResponse().setBody("t2 r2")
            : new MockResponse().setResponseCode(400);
      }
      if (request.getPath().equals("/status") || !"Bearer t2".equals(authorization)) {
        return new MockResponse()
            .setResponseCode(401)
            .setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      }
      return new MockResponse().setBody("ok");
    }
  }

  /** Runs the shrunk app in a class loader that sees only the JDK and the shrunk jar. */
  private static String runShrunk(Path jar, String baseUrl) throws Exception {
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    try (URLClassLoader loader =
        new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
      thread.setContextClassLoader(loader);
      Class<?> app = loader.loadClass(ShrunkApp.class.getName());
      assertFalse(app == ShrunkApp.class, "the app must come from the shrunk jar");
      return (String) app.getMethod("run", String.class).invoke(null, baseUrl);
    } catch (InvocationTargetException e) {
      throw new AssertionError("the shrunk app failed", e.getCause());
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  /** Shrinks the app and its libraries into {@code out}, with the rules their jars ship. */
  static Path shrink(Path out) throws Exception {
    Files.createDirectories(out.getParent());
    Files.deleteIfExists(out);
    // The app's classes, and each library jar it runs with.
    Set<File> jars = new LinkedHashSet<>();
    for (Class<?> type :
        List.of(
            RefreshManager.class,
            Retrofit.class,
            OkHttpClient.class,
            okio.Buffer.class,
            Moshi.class,
            kotlin.Unit.class,
            org.jetbrains.annotations.NotNull.class,
            NullMarked.class)) {
      jars.add(location(type));
    }
    StringBuilder rules = new StringBuilder();
    File appClasses = location(ShrunkApp.class);
    rules
        .append("-injars ")
        .append(quote(appClasses))
        .append("(dev/retrofitauth/sample/shrink/**)\n");
    for (File jar : jars) {
      rules.append("-injars ").append(quote(jar));
      rules.append("(!META-INF/**,!**/module-info.class)\n");
    }
    rules.append("-outjars ").append(quote(out.toFile())).append("\n");
    File jmods = new File(System.getProperty("java.home"), "jmods");
    for (String module : List.of("java.base", "java.logging")) {
      File jmod = new File(jmods, module + ".jmod");
      assertTrue(jmod.isFile(), "ProGuard needs the JDK's jmods: " + jmod + " is missing");
      rules.append("-libraryjars ").append(quote(jmod)).append("(!**.jar;!module-info.class)\n");
    }
    rules.append("-printmapping ").append(quote(out.resolveSibling("mapping.txt").toFile()));
    rules.append("\n-dontnote\n");
    // Shrinking and obfuscation are what the rules are for. ProGuard's optimizer, unlike R8's,
    // writes okio code that fails verification, and it would triple the time this test takes.
    rules.append("-dontoptimize\n");
    // The app's own rules: its entry point, and no android.jar on the JVM (the Android platform
    // classes that Retrofit and OkHttp look for at run time). Everything else comes from the jars.
    rules.append("-dontwarn android.**\n");
    rules.append("-keep class ").append(ShrunkApp.class.getName());
    rules.append(" { public static java.lang.String run(java.lang.String); }\n");
    for (File jar : jars) rules.append(consumerRules(jar));
    if (consumerRules(location(OkHttpClient.class)).isEmpty()) {
      // OkHttp 5's JVM jar ships no rules (OkHttp 4's jar and OkHttp 5's Android artifact do):
      // what its optional TLS providers and GraalVM support refer to is absent here.
      for (String absent :
          List.of(
              "org.conscrypt",
              "org.bouncycastle",
              "org.openjsse",
              "org.graalvm",
              "com.oracle.svm")) {
        rules.append("-dontwarn ").append(absent).append(".**\n");
      }
    }
    Files.writeString(out.resolveSibling("rules.pro"), rules);

    Configuration configuration = new Configuration();
    try (ConfigurationParser parser =
        new ConfigurationParser(
            rules.toString(), "rules.pro", out.getParent().toFile(), System.getProperties())) {
      parser.parse(configuration);
    }
    new ProGuard(configuration).execute();
    return out;
  }

  /** What a jar ships for R8 and ProGuard in {@code META-INF/proguard/}. */
  private static String consumerRules(File file) throws IOException {
    if (!file.isFile()) return "";
    StringBuilder rules = new StringBuilder();
    try (JarFile jar = new JarFile(file)) {
      List<JarEntry> entries = Collections.list(jar.entries());
      for (JarEntry entry : entries) {
        String name = entry.getName();
        if (!name.startsWith("META-INF/proguard/") || !name.endsWith(".pro")) continue;
        try (InputStream in = jar.getInputStream(entry)) {
          rules.append("# ").append(file.getName()).append('!').append(name).append('\n');
          rules.append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append('\n');
        }
      }
    }
    return rules.toString();
  }

  private static File location(Class<?> type) throws Exception {
    return new File(type.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  private static String quote(File file) {
    return "'" + file.getAbsolutePath() + "'";
  }
}
