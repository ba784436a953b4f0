package org.mindburn.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mindburn.helm.Support.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The cross-language conformance cases (docs/sdks.md): the same tampering in every SDK, the
 * version tied to receipt.md, and the governance vectors test/sdk/vectors/governance.json that the
 * TypeScript suite writes from the sidecar's own formatters.
 */
class ConformanceTest {
  static byte[] lamportPlusOne(String entry) throws Exception {
    ObjectNode env = (ObjectNode) Jcs.parse(entry.getBytes(StandardCharsets.UTF_8));
    ObjectNode st = (ObjectNode) Jcs.parse(Base64.getDecoder().decode(env.get("payload").textValue()));
    ObjectNode p = (ObjectNode) st.get("predicate");
    p.put("lamport", p.get("lamport").longValue() + 1);
    env.put("payload", Base64.getEncoder().encodeToString(Jcs.canonicalize(st)));
    return Jcs.canonicalize(env);
  }

  @Test
  void nodes() throws Exception {
    TrustRegistry withEvents = registry();
    TrustRegistry without = new TrustRegistry(policy());
    List<Path> files;
    try (Stream<Path> s = Files.list(SPEC.resolve("nodes"))) {
      files = s.sorted().toList();
    }
    for (Path f : files) {
      String entry = Jcs.MAPPER.readTree(read(f)).get("entry").textValue();
      Node n = Node.decode(entry.getBytes(StandardCharsets.UTF_8));
      assertEquals("helm-vectors/agent-0/node+4122bc29", withEvents.verifyNode(n).handle());
      assertEquals("ERR_UNTRUSTED_SIGNER", code(() -> without.verifyNode(n)), f.toString());
      assertEquals("ERR_SIGNATURE", code(() -> withEvents.verifyNode(Node.decode(lamportPlusOne(entry)))), f.toString());
    }
  }

  @Test
  void tlogProof() throws Exception {
    TrustRegistry r = registry();
    List<byte[]> e = entries();
    String proof = readString(SPEC.resolve("log/decision-03.tlog-proof"));
    String[] lines = proof.split("\n", -1);
    byte[] h = Base64.getDecoder().decode(lines[2]);
    h[0] ^= 1;
    String flipped = proof.replace(lines[2], Base64.getEncoder().encodeToString(h));
    String rootLine = Arrays.stream(lines).filter(l -> l.startsWith("XAG24lhj")).findFirst().orElseThrow();
    byte[] sevens = new byte[32];
    Arrays.fill(sevens, (byte) 7);
    assertEquals("ERR_TLOG_PROOF_INCLUSION", code(() -> r.verifyReceipt(e.get(3), flipped)));
    assertEquals("ERR_TLOG_PROOF_INCLUSION", code(() -> r.verifyReceipt(e.get(2), proof)));
    assertEquals("ERR_TLOG_PROOF_INCLUSION", code(() -> r.verifyReceipt(e.get(3), proof.replaceFirst("index 3", "index 2"))));
    assertEquals("ERR_CHECKPOINT_BAD_SIGNATURE", code(() -> r.verifyReceipt(e.get(3), proof.replace(rootLine, Base64.getEncoder().encodeToString(sevens)))));
  }

  @Test
  void versionIsTheSpecVersion() throws Exception {
    String title = readString(Path.of("..", "..", "docs", "spec", "receipt.md")).split("\n")[0];
    assertTrue(title.endsWith("version " + Version.SPEC_VERSION), title);
    assertTrue(Version.SDK_VERSION.startsWith(Version.SPEC_VERSION + "."));
  }

  static String s(JsonNode v) {
    return v == null || v.isNull() || v.isMissingNode() ? null : v.asText();
  }

  @Test
  void governanceVectors() throws Exception {
    JsonNode v = Jcs.MAPPER.readTree(read(Path.of("..", "..", "test", "sdk", "vectors", "governance.json")));
    JsonNode c = v.get("completion"), want = c.get("expect");
    Governance.Headers g = Governance.parseHeaders(n -> s(c.get("headers").get(n))).orElseThrow();
    assertEquals(Arrays.asList(s(want.get("verdict")), s(want.get("reasonCode")), s(want.get("receiptId")), s(want.get("approvalId")), want.get("truncated").asBoolean()), Arrays.asList(g.decision(), g.reasonCode(), g.receiptId(), g.approvalId(), g.truncated()));
    Governance.Summary sum = Governance.parseSummary(c.get("body").toString().getBytes(StandardCharsets.UTF_8)).orElseThrow();
    assertEquals(want.get("calls").size(), sum.decisions().size());
    for (int i = 0; i < sum.decisions().size(); i++) {
      JsonNode w = want.get("calls").get(i);
      Governance.DecisionView d = sum.decisions().get(i);
      assertEquals(Arrays.asList(s(w.get("toolCallId")), s(w.get("tool")), s(w.get("verdict")), s(w.get("reasonCode")), s(w.get("receiptId")), w.get("delivered").asBoolean(), s(w.get("approvalNonce"))),
          Arrays.asList(d.toolCallId(), d.tool(), d.verdict(), d.reasonCode(), d.receiptId(), d.delivered(), d.approval() == null ? null : d.approval().nonce()), "call " + i);
      assertEquals(s(w.get("toolCallId")), g.decisions().get(i).id());
    }
    assertEquals(s(want.get("toolsRemoved").get(0).get("tool")), g.toolsRemoved().get(0).id());
    JsonNode ho = v.get("headersOnly");
    Governance.Headers h2 = Governance.parseHeaders(n -> s(ho.get("headers").get(n))).orElseThrow();
    List<String> ids = new ArrayList<>();
    ho.get("expect").get("callIds").forEach(x -> ids.add(x.asText()));
    assertEquals(ids, h2.decisions().stream().map(Governance.HeaderDecision::id).toList());
    assertTrue(h2.truncated());
    List<Governance.Explanation> notices = Governance.parseHelmContent(v.get("notices").get("content").textValue());
    JsonNode wn = v.get("notices").get("expect");
    assertEquals(wn.size(), notices.size());
    for (int i = 0; i < notices.size(); i++) {
      Governance.Explanation e = notices.get(i);
      JsonNode w = wn.get(i);
      assertEquals(Arrays.asList(s(w.get("tool")), s(w.get("toolCallId")), s(w.get("verdict")), s(w.get("reasonCode")), s(w.get("kind")), s(w.get("receiptId")), s(w.get("approvalId")), s(w.get("decision"))),
          Arrays.asList(e.tool(), e.toolCallId(), e.verdict(), e.reasonCode(), e.kind(), e.receipt(), e.approvalId(), e.decision()), "notice " + i);
    }
    JsonNode m = v.get("mcp");
    Governance.McpReceipt r = Governance.parseMcpReceipt(m.get("result").get("_meta")).orElseThrow();
    assertEquals(Arrays.asList(s(m.get("resultExpect").get("verdict")), s(m.get("resultExpect").get("reasonCode")), s(m.get("resultExpect").get("receipt"))), Arrays.asList(r.verdict(), r.reasonCode(), r.receipt()));
    for (String k : List.of("denied", "pending")) {
      Governance.McpErrorData d = Governance.parseMcpErrorObject(m.get(k)).orElseThrow();
      JsonNode w = m.get(k + "Expect");
      assertEquals(Arrays.asList(s(w.get("verdict")), s(w.get("reasonCode")), s(w.get("receipt")), s(w.get("kind")), s(w.get("approvalNonce"))), Arrays.asList(d.verdict(), d.reasonCode(), d.receipt(), d.kind(), d.challenge() == null ? null : d.challenge().nonce()), k);
    }
    assertTrue(Governance.parseMcpErrorObject(m.get("otherError")).isEmpty());
    Governance.McpToolGovernance t = Governance.parseMcpToolGovernance(m.get("tool").get("_meta")).orElseThrow();
    assertTrue(t.pinned() && t.upstream().equals("crm") && t.sideEffect().equals("read") && t.definitionHash().startsWith("sha256:"));
  }

  @Test
  void loneSurrogateIsASchemaError() throws Exception {
    String jcs = Jcs.MAPPER.readTree(read(SPEC.resolve("nodes/03-decision.json"))).get("payloadJcs").textValue();
    String zeros = Base64.getEncoder().encodeToString(new byte[64]);
    for (String[] c : new String[][] {{"\"call_\\ud800\"", "ERR_SCHEMA"}, {"\"call_\\udc00x\"", "ERR_SCHEMA"}, {"\"call_\\ud83d\\ude00\"", "ERR_NOT_CANONICAL"}}) {
      String payload = jcs.replace("\"call_01\"", c[0]);
      String entry = "{\"payload\":\"" + Base64.getEncoder().encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "\",\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[{\"keyid\":\"k+00000000\",\"sig\":\"" + zeros + "\"}]}";
      assertEquals(c[1], code(() -> Node.decode(entry.getBytes(StandardCharsets.UTF_8))), c[0]);
    }
  }
}
