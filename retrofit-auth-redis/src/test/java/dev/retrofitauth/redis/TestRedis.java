package dev.retrofitauth.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server on a free loopback port, started by the tests: Debian's {@code redis-server}
 * if one is on PATH, or else the binary that {@code com.github.codemonstur:embedded-redis} ships
 * for this platform. No persistence; its log stays in memory and shows only in a failure message.
 */
public final class TestRedis implements AutoCloseable {
  private static final String READY = "Ready to accept connections";

  public final int port;
  // Reconnects every 10 ms while the server is away, so that a test need not wait for Lettuce's
  // growing backoff.
  private final ClientResources resources =
      ClientResources.builder().reconnectDelay(Delay.constant(Duration.ofMillis(10))).build();
  private final List<RedisClient> clients = new ArrayList<>();
  private Process process;
  private final Deque<String> log = new ArrayDeque<>();

  private TestRedis(int port) {
    this.port = port;
  }

  /** A free port can be taken by another process before redis-server binds it: rare, and loud. */
  public static TestRedis start() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    TestRedis redis = new TestRedis(port);
    redis.startServer();
    return redis;
  }

  /** Starts redis-server again on the same port, empty, after {@link #stopServer()}. */
  void startServer() throws IOException {
    List<String> command = new ArrayList<>();
    command.add(binary().toString());
    for (String arg :
        new String[] {
          "--port",
          Integer.toString(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--daemonize",
          "no",
          "--loglevel",
          "notice",
          "--logfile",
          ""
        }) {
      command.add(arg);
    }
    process = new ProcessBuilder(command).redirectErrorStream(true).start();
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Process started = process;
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader lines =
                  new BufferedReader(
                      new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                  synchronized (log) {
                    log.addLast(line);
                    if (log.size() > 50) log.removeFirst();
                  }
                  if (line.contains(READY)) ready.complete(null);
                }
              } catch (IOException ignored) {
                // The process ended.
              }
              ready.completeExceptionally(new IOException("redis-server exited"));
            },
            "redis-server log");
    reader.setDaemon(true);
    reader.start();
    try {
      ready.get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      started.destroyForcibly();
      throw new IOException("redis-server did not start on port " + port + ":\n" + log(), e);
    }
  }

  /** Kills redis-server, as a crash would. */
  void stopServer() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) throw new AssertionError("redis-server runs on");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while stopping redis-server", e);
    }
  }

  /**
   * Freezes redis-server ({@code SIGSTOP}): connections stay open but nothing answers, as with a
   * hung server or a network partition. {@link #resume()} thaws it with its data.
   */
  void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  void resume() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    Process kill =
        new ProcessBuilder("kill", signal, Long.toString(process.pid()))
            .redirectErrorStream(true)
            .start();
    if (!kill.waitFor(20, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new AssertionError("kill " + signal + " failed");
    }
  }

  /** A new client with its own connection, which {@link #close()} shuts down. */
  StatefulRedisConnection<String, String> connect() {
    RedisClient client = RedisClient.create(resources, RedisURI.create("127.0.0.1", port));
    synchronized (clients) {
      clients.add(client);
    }
    return client.connect();
  }

  String log() {
    synchronized (log) {
      return String.join("\n", log);
    }
  }

  @Override
  public void close() {

    List<RedisClient> toClose;
    synchronized (clients) {
      toClose = new ArrayList<>(clients);
      clients.clear();
    }
    for (RedisClient client : toClose) client.shutdown(Duration.ZERO, Duration.ofSeconds(5));
    resources.shutdown(0, 5, TimeUnit.SECONDS);
    if (process != null) stopServer();
  }

  private static volatile Path binary;

  /** redis-server on PATH, or the one from embedded-redis's jar for this OS and architecture. */
  private static synchronized Path binary() throws IOException {
    if (binary != null) return binary;
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        Path candidate = new File(dir, "redis-server").toPath();
        if (Files.isExecutable(candidate)) return binary = candidate;
      }
    }
    String resource = embeddedName();
    Path file = Files.createTempFile("redis-server", "");
    file.toFile().deleteOnExit();
    try (InputStream in = TestRedis.class.getResourceAsStream("/" + resource)) {
      if (in == null) throw new IOException("embedded-redis has no " + resource);
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    }
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    return binary = file;
  }

  private static String embeddedName() throws IOException {
    String os = System.getProperty("os.name").toLowerCase();
    String arch = System.getProperty("os.arch");
    boolean arm = arch.equals("aarch64") || arch.equals("arm64");
    boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
    if (os.contains("linux") && x64) return "redis-server-6.2.6-v5-linux-amd64";
    if (os.contains("linux") && arm) return "redis-server-6.2.7-linux-arm64";
    if (os.contains("mac") && x64) return "redis-server-6.2.6-v5-darwin-amd64";
    if (os.contains("mac") && arm) return "redis-server-6.2.6-v5-darwin-arm64";
    throw new IOException(
        "no redis-server for " + os + "/" + arch + ": put one on PATH to run these tests");
  }
}
