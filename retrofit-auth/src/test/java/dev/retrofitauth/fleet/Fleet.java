package dev.retrofitauth.fleet;

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
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Worker processes ({@link FleetWorker}) on the test's own classpath, each a JVM of its own, that
 * share one store and one {@link FleetServer}. Their error output goes to a file that a failed
 * assertion quotes.
 */
public final class Fleet implements AutoCloseable {
  /** What one worker reported for one round. */
  public static final class Round {
    public final String worker;
    public final int succeeded;
    public final int failed;
    public final List<Long> leaseWaitMicros;
    public final List<Long> windowMicros;
    public final String firstFailure;

    Round(String worker, String line) {
      this.worker = worker;
      String[] parts = line.split(" ");
      if (parts.length != 6 || !parts[0].equals("done")) {
        throw new AssertionError(worker + " reported " + line);
      }
      succeeded = Integer.parseInt(parts[1]);
      failed = Integer.parseInt(parts[2]);
      leaseWaitMicros = micros(parts[3]);
      windowMicros = micros(parts[4]);
      firstFailure = parts[5];
    }

    private static List<Long> micros(String field) {
      List<Long> values = new ArrayList<>();
      if (!field.equals("-")) {
        for (String value : field.split(",")) values.add(Long.parseLong(value));
      }
      return Collections.unmodifiableList(values);
    }
  }

  final class Worker {
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

  private final List<Worker> workers = new ArrayList<>();

  /**
   * Starts {@code size} workers and waits until every one is ready. {@code args} are the worker's
   * arguments after the base URL and before its name: store, calls per round, mode.
   */
  public Fleet(int size, File directory, String baseUrl, String... args)
      throws IOException, InterruptedException {
    String java =
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    for (int i = 0; i < size; i++) {
      String name = "worker-" + i;
      List<String> command =
          new ArrayList<>(
              Arrays.asList(
                  java,
                  "-XX:+UseSerialGC",
                  "-XX:TieredStopAtLevel=1",
                  "-Xss512k",
                  "-cp",
                  System.getProperty("java.class.path"),
                  FleetWorker.class.getName(),
                  baseUrl));
      command.addAll(Arrays.asList(args));
      command.add(name);
      File errors = new File(directory, name + ".err");
      Process process =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(errors)).start();
      workers.add(new Worker(name, process, errors));
    }
    for (Worker worker : workers) {
      String line = worker.next(60);
      if (!line.equals("ready")) throw new AssertionError(worker.name + " said " + line);
    }
  }

  /** Tells every live worker to make its calls, and returns what each reported. */
  public List<Round> round() throws IOException, InterruptedException {
    startRound();
    return finishRound();
  }

  /** Kills the worker {@code name} at once, as {@code kill -9} does. */
  public void kill(String name) throws InterruptedException {
    for (Worker worker : workers) {
      if (worker.name.equals(name)) {
        worker.process.destroyForcibly();
        if (!worker.process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("still alive");
        return;
      }
    }
    throw new IllegalArgumentException("no worker " + name);
  }

  /** Sends {@code round} to every live worker without waiting for them. */
  public void startRound() throws IOException {
    for (Worker worker : workers) {
      if (worker.process.isAlive()) worker.send("round");
    }
  }

  /** Waits for the round that {@link #startRound()} began, from every worker still alive. */
  public List<Round> finishRound() throws InterruptedException {
    List<Round> rounds = new ArrayList<>();
    for (Worker worker : workers) {
      if (worker.process.isAlive() || !worker.lines.isEmpty()) {
        String line = worker.lines.poll(90, TimeUnit.SECONDS);
        if (line == null)
          throw new AssertionError(worker.name + " did not answer: " + worker.errors());
        if (line.equals("<ended>")) continue; // Killed.
        rounds.add(new Round(worker.name, line));
      }
    }
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
