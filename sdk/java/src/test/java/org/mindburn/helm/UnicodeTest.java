package org.mindburn.helm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mindburn.helm.Support.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Receipts with non-ASCII text (docs/sdks.md §Conformance): the spec vector examples/intent-unicode.json
 * verifies, and each entry of test/sdk/vectors/unicode.json (written by the TypeScript suite) gives
 * exactly the TypeScript verifier's code.
 */
class UnicodeTest {
  @Test
  void intentUnicodeRebuiltFromItsEnvelopeVerifies() throws Exception {
    JsonNode ex = Jcs.MAPPER.readTree(read(SPEC.resolve("examples/intent-unicode.json")));
    byte[] entry = Jcs.canonicalize(ex.get("envelope"));
    for (byte b : entry) assertTrue(b >= 0x20 && b < 0x7f, "the entry is printable ASCII");
    assertEquals(ex.get("entryHash").textValue(), Hashes.hashRef(entry));
    assertArrayEquals(ex.get("payloadJcs").textValue().getBytes(StandardCharsets.UTF_8), Jcs.canonicalize(ex.get("statement")));
    Node n = Node.decode(entry);
    registry().verifyNode(n);
    assertEquals(List.of("intent", 0L, ex.get("entryHash").textValue()), List.of(n.kind(), n.index(), n.entryHash()));
    JsonNode body = n.statement().get("predicate").get("body");
    assertEquals("call_😀_01", body.get("callId").textValue());
    assertEquals("ns/agents/sa/résumé-𝄞", body.get("principal").textValue());
    assertEquals(ex.get("statement").get("predicate").get("body"), body);
  }

  @Test
  void unicodeVectorsGiveTheTypeScriptCodes() throws Exception {
    JsonNode cases = Jcs.MAPPER.readTree(read(Path.of("..", "..", "test", "sdk", "vectors", "unicode.json")));
    assertEquals(31, cases.size());
    TrustRegistry r = registry();
    List<String> wrong = new ArrayList<>();
    for (JsonNode c : cases) {
      byte[] entry = c.get("entry").textValue().getBytes(StandardCharsets.UTF_8);
      String got = code(() -> r.verifyNode(Node.decode(entry)));
      String want = c.get("expect").textValue().equals("accepted") ? "OK" : c.get("expect").textValue();
      if (!got.equals(want)) wrong.add(c.get("why").textValue() + ": got " + got + ", want " + want);
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  void bundledSchemasAreTheSpecSchemas() throws Exception {
    assertEquals(10, Schema.FILES.size());
    for (String f : Schema.FILES) assertArrayEquals(read(SPEC.resolve("../schemas").resolve(f)), Schema.bundled(f), f + " differs from docs/spec/schemas: copy it again (docs/sdks.md)");
  }

  @Test
  void schemaPatternsAreEcmaScriptPatterns() {
    String hash = "sha256:" + "0a".repeat(32);
    assertTrue(Schema.pattern("^sha256:[0-9a-f]{64}$").matcher(hash).find());
    assertTrue(!Schema.pattern("^sha256:[0-9a-f]{64}$").matcher(hash + "\n").find());
    assertTrue(!Schema.pattern("^sha256:[0-9a-f]{64}$").matcher(hash + "\u2028").find());
    assertTrue(Schema.pattern("^[^+\\s]+\\+[0-9a-f]{8}$").matcher("é😀\u0085+0123abcd").find());
    assertTrue(!Schema.pattern("^[^+\\s]+\\+[0-9a-f]{8}$").matcher("a\u00a0b+0123abcd").find());
    assertTrue(!Schema.pattern("^[^+\\s]+\\+[0-9a-f]{8}$").matcher("a\ufeff+0123abcd").find());
    assertTrue(Schema.pattern("^a\\sb$").matcher("a\u3000b").find()); // \s outside a class
    assertTrue(!Schema.pattern("^a\\sb$").matcher("a\u0085b").find());
    assertTrue(!Schema.pattern("^[^\\s]+$").matcher("a\u2029").find());
  }
}
