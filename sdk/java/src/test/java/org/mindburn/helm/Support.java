package org.mindburn.helm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Paths of the vectors: docs/spec/vectors in the repository, ../shared/vectors beside it (or HELM_SHARED_DIR). */
final class Support {
  static final Path SPEC = Path.of("..", "..", "docs", "spec", "vectors");

  private Support() {}

  /** null (and a message) when the third-party vectors are absent. */
  static Path sharedVectors() {
    String dir = System.getenv("HELM_SHARED_DIR");
    Path v = (dir != null && !dir.isEmpty() ? Path.of(dir) : Path.of("..", "..", "..", "shared")).resolve("vectors");
    if (Files.isDirectory(v)) return v;
    System.out.println(v + " not found: third-party vectors skipped (set HELM_SHARED_DIR to the folder holding vectors/)");
    return null;
  }

  static byte[] read(Path p) throws IOException {
    return Files.readAllBytes(p);
  }

  static String readString(Path p) throws IOException {
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  static TrustPolicy policy() throws Exception {
    return TrustPolicy.parse(readString(SPEC.resolve("trust-policy.txt")), "trust-policy.txt");
  }

  static List<byte[]> entries() throws IOException {
    List<byte[]> out = new ArrayList<>();
    for (String l : readString(SPEC.resolve("log/entries.jsonl")).split("\n")) if (!l.isEmpty()) out.add(l.getBytes(StandardCharsets.UTF_8));
    return out;
  }

  static TrustRegistry registry() throws Exception {
    TrustRegistry r = new TrustRegistry(policy());
    for (byte[] e : entries()) {
      Node n = Node.decode(e);
      if (n.kind().equals("trust")) r.addTrustNode(n);
    }
    return r;
  }

  interface Thrower {
    void run() throws Exception;
  }

  /** The code of the HelmException the block throws, or "OK". */
  static String code(Thrower t) throws Exception {
    try {
      t.run();
      return "OK";
    } catch (HelmException e) {
      return e.code();
    }
  }
}
