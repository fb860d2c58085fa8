package dev.retrofitauth.sample.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Keeps README.md and its code from drifting apart. Every {@code java} and {@code kotlin} block of
 * the README must be, up to indentation, a snippet of {@link ReadmeSnippets} or of its Kotlin
 * counterpart, which the build compiles; and every snippet must still be in the README.
 */
final class ReadmeTest {
  private static final Path MODULE = Paths.get(System.getProperty("basedir", "."));
  private static final Path README = MODULE.resolve("../README.md").normalize();
  private static final Path DOCS = MODULE.resolve("../docs").normalize();
  private static final Path JAVA_SNIPPETS =
      MODULE.resolve("src/test/java/dev/retrofitauth/sample/readme/ReadmeSnippets.java");

  /** The quickstart's two files, each a whole compilation unit as the README shows it. */
  private static final Path QUICKSTART =
      MODULE.resolve("src/test/java/dev/retrofitauth/sample/readme/Quickstart.java");

  private static final Path TOKEN_JSON =
      MODULE.resolve("src/test/java/dev/retrofitauth/sample/readme/TokenJson.java");

  /** The Redis module's snippet compiles there: the sample does not depend on Redis. */
  private static final Path REDIS_SNIPPETS =
      MODULE.resolve(
          "../retrofit-auth-redis/src/test/java/dev/retrofitauth/redis/ReadmeSnippets.java");

  /** The SQL store's snippets compile in its module: the sample does not depend on it. */
  private static final Path JDBC_SNIPPETS =
      MODULE.resolve(
          "../retrofit-auth-jdbc/src/test/java/dev/retrofitauth/jdbc/ReadmeSnippets.java");

  private static final Path KOTLIN_SNIPPETS =
      MODULE.resolve("src/test/kotlin/dev/retrofitauth/sample/readme/ReadmeSnippets.kt");

  private static final String BEGIN = "// readme:begin ";
  private static final String END = "// readme:end";

  /** A fenced block of the README. */
  record Block(String language, int line, String code) {}

  /** A compiled snippet. */
  record Snippet(String language, String name, String code) {}

  /** The README and the manual's pages in {@code docs/}, by name. */
  static Map<String, List<String>> documents() throws IOException {
    Map<String, List<String>> documents = new LinkedHashMap<>();
    documents.put("README.md", Files.readAllLines(README, StandardCharsets.UTF_8));
    try (java.util.stream.Stream<Path> pages = Files.list(DOCS)) {
      for (Path page : pages.sorted().collect(Collectors.toList())) {
        if (!page.toString().endsWith(".md")) continue;
        documents.put(
            "docs/" + page.getFileName(), Files.readAllLines(page, StandardCharsets.UTF_8));
      }
    }
    return documents;
  }

  @Test
  void everyJavaAndKotlinBlockOfTheReadmeIsCompiled() throws IOException {
    int count = 0;
    StringBuilder mismatches = new StringBuilder();
    for (Map.Entry<String, List<String>> document : documents().entrySet()) {
      List<Block> blocks = blocks(document.getValue());
      count += blocks.size();
      mismatches.append(
          mismatches(blocks, snippets()).replace("README.md line", document.getKey() + " line"));
    }
    // There are more than a dozen of them: none means this parser broke.
    assertTrue(count >= 12, "found only " + count + " blocks in the README and docs/");
    assertEquals("", mismatches.toString());
  }

  @Test
  void everySnippetIsInTheReadme() throws IOException {
    List<Block> blocks = new ArrayList<>();
    for (List<String> document : documents().values()) blocks.addAll(blocks(document));
    List<String> unused = new ArrayList<>();
    for (Snippet snippet : snippets()) {
      boolean used =
          blocks.stream()
              .anyMatch(b -> b.language.equals(snippet.language) && b.code.equals(snippet.code));
      if (!used) unused.add(snippet.name);
    }
    assertEquals(
        List.of(), unused, "snippets that README.md and docs/ no longer show; delete them");
  }

  @Test
  void aBlockThatDriftedIsReportedWithItsLine() throws IOException {
    List<String> readme = new ArrayList<>(documents().get("docs/calls-and-refreshes.md"));
    int line = readme.indexOf("    .queueMode(true)");
    assertTrue(line > 0, "the queue mode example has no .queueMode(true) line");
    readme.set(line, "    .queueMode(false)");

    assertEquals(
        "README.md line "
            + firstLineOfBlockAround(readme, line)
            + ": this java block is no snippet of ReadmeSnippets.java; the closest,"
            + " queue-mode, differs at its line 3:\n"
            + "  README:  .queueMode(false)\n"
            + "  snippet: .queueMode(true)\n",
        mismatches(blocks(readme), snippets()));
  }

  @Test
  void indentationDoesNotMatter() {
    List<Block> blocks =
        blocks(List.of("text", "```java", "  if (x) {", "    y();", "  }", "```", "more text"));
    assertEquals(List.of(new Block("java", 2, "if (x) {\n  y();\n}")), blocks);
  }

  private static int firstLineOfBlockAround(List<String> lines, int index) {
    int i = index;
    while (!lines.get(i).startsWith("```")) i--;
    return i + 1;
  }

  /** The README's {@code java} and {@code kotlin} blocks, with 1-based line numbers. */
  static List<Block> blocks(List<String> lines) {
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String fence = lines.get(i).trim();
      if (!fence.startsWith("```")) continue;
      String language = fence.substring(3).trim();
      int start = i;
      List<String> code = new ArrayList<>();
      for (i++; i < lines.size() && !lines.get(i).trim().equals("```"); i++) {
        code.add(lines.get(i));
      }
      if (language.equals("java") || language.equals("kotlin")) {
        blocks.add(new Block(language, start + 1, normalize(code)));
      }
    }
    return blocks;
  }

  static List<Snippet> snippets() throws IOException {
    List<Snippet> snippets = new ArrayList<>();
    snippets.addAll(snippets("java", JAVA_SNIPPETS));
    snippets.addAll(snippets("java", QUICKSTART));
    snippets.addAll(snippets("java", TOKEN_JSON));
    snippets.addAll(snippets("java", REDIS_SNIPPETS));
    snippets.addAll(snippets("java", JDBC_SNIPPETS));
    snippets.addAll(snippets("kotlin", KOTLIN_SNIPPETS));
    return snippets;
  }

  private static List<Snippet> snippets(String language, Path file) throws IOException {
    Map<String, String> byName = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (!line.startsWith(BEGIN)) continue;
      String name = line.substring(BEGIN.length()).trim();
      List<String> code = new ArrayList<>();
      for (i++; i < lines.size() && !lines.get(i).trim().equals(END); i++) {
        if (lines.get(i).trim().startsWith(BEGIN)) {
          throw new AssertionError(file + ": snippet " + name + " has no " + END);
        }
        code.add(lines.get(i));
      }
      if (i == lines.size()) throw new AssertionError(file + ": snippet " + name + " has no end");
      if (byName.put(name, normalize(code)) != null) {
        throw new AssertionError(file + ": two snippets are named " + name);
      }
    }
    return byName.entrySet().stream()
        .map(e -> new Snippet(language, e.getKey(), e.getValue()))
        .collect(Collectors.toList());
  }

  /**
   * Describes each block that is no snippet: its line, the snippet that shares the most leading
   * lines with it, and the first line where they differ. Empty if every block is a snippet.
   */
  static String mismatches(List<Block> blocks, List<Snippet> snippets) {
    StringBuilder result = new StringBuilder();
    for (Block block : blocks) {
      List<Snippet> candidates =
          snippets.stream().filter(s -> s.language.equals(block.language)).toList();
      if (candidates.stream().anyMatch(s -> s.code.equals(block.code))) continue;
      String[] lines = block.code.split("\n", -1);
      Snippet closest = null;
      int closestShared = -1;
      for (Snippet snippet : candidates) {
        int shared = sharedLeadingLines(lines, snippet.code.split("\n", -1));
        if (shared > closestShared) {
          closest = snippet;
          closestShared = shared;
        }
      }
      String file = block.language.equals("java") ? "ReadmeSnippets.java" : "ReadmeSnippets.kt";
      result.append("README.md line ").append(block.line).append(": this ");
      result.append(block.language).append(" block is no snippet of ").append(file);
      if (closest == null) {
        result.append("\n");
        continue;
      }
      String[] other = closest.code.split("\n", -1);
      result.append("; the closest, ").append(closest.name);
      result.append(", differs at its line ").append(closestShared + 1).append(":\n");
      result.append("  README:  ").append(lineOrEnd(lines, closestShared)).append("\n");
      result.append("  snippet: ").append(lineOrEnd(other, closestShared)).append("\n");
    }
    return result.toString();
  }

  private static int sharedLeadingLines(String[] a, String[] b) {
    int i = 0;
    while (i < a.length && i < b.length && a[i].equals(b[i])) i++;
    return i;
  }

  private static String lineOrEnd(String[] lines, int index) {
    return index < lines.length ? lines[index].trim() : "(end of block)";
  }

  /**
   * Drops trailing spaces, leading and trailing blank lines, and the indentation all lines share.
   */
  static String normalize(List<String> lines) {
    List<String> stripped = lines.stream().map(String::stripTrailing).collect(Collectors.toList());
    while (!stripped.isEmpty() && stripped.get(0).isEmpty()) stripped.remove(0);
    while (!stripped.isEmpty() && stripped.get(stripped.size() - 1).isEmpty()) {
      stripped.remove(stripped.size() - 1);
    }
    int indent =
        stripped.stream()
            .filter(l -> !l.isEmpty())
            .mapToInt(l -> l.length() - l.stripLeading().length())
            .min()
            .orElse(0);
    return stripped.stream()
        .map(l -> l.isEmpty() ? l : l.substring(indent))
        .collect(Collectors.joining("\n"));
  }
}
