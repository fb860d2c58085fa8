package dev.retrofitauth.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

final class SampleTest {
  @Test
  void everyStepBehavesAsExpected() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int status;
    try (DemoServer server = new DemoServer();
        PrintStream out = new PrintStream(bytes, true, "UTF-8")) {
      status = new Sample(out, server).run();
    }
    String output = bytes.toString(StandardCharsets.UTF_8.name());

    assertEquals(0, status, output);
    assertTrue(output.endsWith("All steps behaved as expected.\n"), output);
  }
}
