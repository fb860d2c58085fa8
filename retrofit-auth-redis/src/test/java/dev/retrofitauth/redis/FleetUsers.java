package dev.retrofitauth.redis;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Worker processes ({@link FleetUsersWorker}) on the test's own classpath, each a JVM of its own,
 * that act for the same users on one Redis and one {@link FleetUsersServer}. It starts them as
 * {@code dev.retrofitauth.fleet.Fleet} starts its workers, which run another main class; their
 * error output goes to a file that a failed assertion quotes.
 */
final class FleetUsers implements AutoCloseable {
  /** What one worker reported for one round. */
  static final class Round {
    final String worker;
    final int succeeded;
    final int failed;
    // The leases each user's session took, and its saves under them, in the order of userIds.
    final int[] leases;
    final int[] saves;
    final String firstFailure;

    Round(String worker, String line, int users) {
      this.worker = worker;
      String[] parts = line.split(" ");
      if (parts.length != 6 || !parts[0].equals("done")) {
        throw new AssertionError(worker + " reported " + line);
      }
      succeeded = Integer.parseInt(parts[1]);
      failed = Integer.parseInt(parts[2]);
      leases = counts(parts[3], users);
      saves = counts(parts[4], users);
      firstFailure = parts[5];
    }

    private static int[] counts(String field, int users) {
      String[] values = field.split(",");
      if (values.length != users) throw new AssertionError("not " + users + " counts: " + field);
      int[] counts = new int[users];
      for (int i = 0; i < users; i++) counts[i] = Integer.parseInt(values[i]);
      return counts;
    }
  }

  private static final class Worker {
    final String name;
    final Process process;
    final Writer in;
    final File errors;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    Worker(String name, Process process, File errors) {
      this.name = name;
      this.process = process;
      this.errors = errors;
      this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader out =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = out.readLine()) != null; ) lines.add(line);
                } catch (IOException ignored) {
                  // The process ended; next() reports that.
                }
                lines.add("<ended>");
              },
              "fleet " + name);
      reader.setDaemon(true);
      reader.start();
    }

    String next(long timeoutSeconds) throws InterruptedException {
      String line = lines.poll(timeoutSeconds, TimeUnit.SECONDS);
      if (line == null || line.equals("<ended>")) {
        throw new AssertionError(
            name + (line == null ? " did not answer" : " ended") + "; its errors: " + errors());
      }
      return line;
    }

    String errors() {
      try {
        String text = new String(Files.readAllBytes(errors.toPath()), StandardCharsets.UTF_8);
        return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
      } catch (IOException e) {
        return e.toString();
      }
    }

    void send(String line) throws IOException {
      in.write(line + "\n");
      in.flush();
    }
  }

  private final int users;
  private final List<Worker> workers = new ArrayList<>();

  /**
   * Starts {@code size} workers for {@code users} users, {@code callsPerUser} calls each per round,
   * and waits until every one has loaded every user's session.
   */
  FleetUsers(int size, File directory, String baseUrl, TestRedis redis, int users, int callsPerUser)
      throws IOException, InterruptedException {
    this.users = users;
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    try {
      for (int i = 0; i < size; i++) {
        String name = "worker-" + i;
        List<String> command =
            Arrays.asList(
                java,
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Xss512k",
                "-cp",
                System.getProperty("java.class.path"),
                FleetUsersWorker.class.getName(),
                baseUrl,
                Integer.toString(redis.port),
                Integer.toString(users),
                Integer.toString(callsPerUser),
                name);
        File errors = new File(directory, name + ".err");
        Process process =
            new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(errors)).start();
        workers.add(new Worker(name, process, errors));
      }
      for (Worker worker : workers) {
        String line = worker.next(60);
        if (!line.equals("ready")) throw new AssertionError(worker.name + " said " + line);
      }
    } catch (IOException | InterruptedException | RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /** Tells every worker to make its calls, and returns what each reported. */
  List<Round> round() throws IOException, InterruptedException {
    for (Worker worker : workers) worker.send("round");
    List<Round> rounds = new ArrayList<>();
    for (Worker worker : workers) rounds.add(new Round(worker.name, worker.next(90), users));
    return rounds;
  }

  @Override
  public void close() {
    for (Worker worker : workers) worker.process.destroyForcibly();
    try {
      for (Worker worker : workers) worker.process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
