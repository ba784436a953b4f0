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

  /** test/sdk/vectors/proof-mutations.json: the tlog-proof of 03-decision with one byte XOR 0x01. */
  @Test
  void proofByteFlipsGiveTheTypeScriptCodes() throws Exception {
    JsonNode cases = Jcs.MAPPER.readTree(read(Path.of("..", "..", "test", "sdk", "vectors", "proof-mutations.json")));
    assertEquals(48, cases.size());
    byte[] entry = Jcs.MAPPER.readTree(read(SPEC.resolve("nodes/03-decision.json"))).get("entry").textValue().getBytes(StandardCharsets.UTF_8);
    byte[] proof = read(SPEC.resolve("log/decision-03.tlog-proof"));
    TrustRegistry r = registry();
    List<String> wrong = new ArrayList<>();
    for (JsonNode c : cases) {
      byte[] p = proof.clone();
      int offset = c.get("offset").intValue();
      p[offset] ^= 1;
      String got = code(() -> r.verifyReceipt(entry, new String(p, StandardCharsets.UTF_8)));
      String want = c.get("expect").textValue().equals("accepted") ? "OK" : c.get("expect").textValue();
      if (!got.equals(want)) wrong.add("proof byte " + offset + ": got " + got + ", want " + want);
    }
    assertEquals(List.of(), wrong);
  }

  /**
   * test/sdk/vectors/trust-event-mutations.json: the key event of 01-trust as JSON text, one byte XOR
   * 0x01, loaded with the vectors' policy. Text that is not JSON is ERR_TRUST_EVENT_INVALID there.
   */
  @Test
  void trustEventByteFlipsGiveTheTypeScriptCodes() throws Exception {
    JsonNode d = Jcs.MAPPER.readTree(read(Path.of("..", "..", "test", "sdk", "vectors", "trust-event-mutations.json")));
    assertEquals(48, d.get("cases").size());
    List<String> wrong = new ArrayList<>();
    for (JsonNode c : d.get("cases")) {
      byte[] b = d.get("event").textValue().getBytes(StandardCharsets.UTF_8);
      int offset = c.get("offset").intValue();
      b[offset] ^= 1;
      String got;
      try {
        JsonNode v = Jcs.parse(b);
        got = code(() -> new TrustRegistry(policy()).add(v));
      } catch (HelmException e) {
        got = "ERR_TRUST_EVENT_INVALID";
      }
      String want = c.get("expect").textValue().equals("accepted") ? "OK" : c.get("expect").textValue();
      if (!got.equals(want)) wrong.add("event byte " + offset + ": got " + got + ", want " + want);
    }
    assertEquals(List.of(), wrong);
  }
}
