package org.mindburn.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mindburn.helm.Support.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * test/sdk/vectors/mutations.json (docs/sdks.md §Conformance): each node entry with one byte XOR 0x01
 * fails (or, in the approver's own signature, passes) exactly as the TypeScript verifier does.
 */
class MutationsTest {
  @Test
  void byteFlipsGiveTheTypeScriptCodes() throws Exception {
    JsonNode cases = Jcs.MAPPER.readTree(read(Path.of("..", "..", "test", "sdk", "vectors", "mutations.json")));
    assertEquals(216, cases.size());
    TrustRegistry r = registry();
    List<String> wrong = new ArrayList<>();
    for (JsonNode c : cases) {
      byte[] b = Jcs.MAPPER.readTree(read(SPEC.resolve("nodes").resolve(c.get("node").textValue()))).get("entry").textValue().getBytes(StandardCharsets.UTF_8);
      int offset = c.get("offset").intValue();
      b[offset] ^= 1;
      String got = code(() -> r.verifyNode(Node.decode(b)));
      String want = c.get("expect").textValue().equals("accepted") ? "OK" : c.get("expect").textValue();
      if (!got.equals(want)) wrong.add(c.get("node").textValue() + " byte " + offset + ": got " + got + ", want " + want);
    }
    assertEquals(List.of(), wrong);
  }
}
