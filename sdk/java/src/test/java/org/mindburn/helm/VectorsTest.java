package org.mindburn.helm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mindburn.helm.Support.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class VectorsTest {
  @Test
  void specNodeVectorsVerifyAndTamperedCopiesFail() throws Exception {
    TrustRegistry r = registry();
    List<Path> files;
    try (Stream<Path> s = Files.list(SPEC.resolve("nodes"))) {
      files = s.sorted().toList();
    }
    assertEquals(9, files.size());
    for (Path f : files) {
      JsonNode v = Jcs.MAPPER.readTree(read(f));
      String entry = v.get("entry").textValue();
      Node n = Node.decode(entry.getBytes(StandardCharsets.UTF_8));
      assertEquals(v.get("kind").textValue(), n.kind(), f.toString());
      assertEquals(v.get("index").longValue(), n.index());
      assertEquals(v.get("entryHash").textValue(), n.entryHash());
      r.verifyNode(n);
      String tampered = entry.replaceFirst("\"payload\":\"eyJ", "\"payload\":\"eyK");
      assertNotEquals("OK", code(() -> r.verifyNode(Node.decode(tampered.getBytes(StandardCharsets.UTF_8)))), f + ": tampered copy verified");
    }
  }

  @Test
  void specNegativeVectorsFailWithTheirCode() throws Exception {
    TrustRegistry r = registry();
    JsonNode negs = Jcs.MAPPER.readTree(read(SPEC.resolve("negative.json")));
    assertTrue(negs.size() >= 6);
    for (JsonNode v : negs) {
      byte[] entry = v.get("entry").textValue().getBytes(StandardCharsets.UTF_8);
      assertEquals(v.get("expect").textValue(), code(() -> r.verifyNode(Node.decode(entry))), v.get("why").textValue());
    }
  }

  @Test
  void tlogProofVectorVerifiesAndTamperedCopiesFail() throws Exception {
    TrustRegistry r = registry();
    List<byte[]> e = entries();
    String proof = readString(SPEC.resolve("log/decision-03.tlog-proof"));
    TrustRegistry.VerifiedReceipt got = r.verifyReceipt(e.get(3), proof);
    assertEquals("decision", got.node().kind());
    assertEquals(9, got.checkpoint().checkpoint().size());
    assertEquals("helm-vectors/agent-0/node+4122bc29", got.signedBy().handle());
    assertEquals("ERR_TLOG_PROOF_INCLUSION", code(() -> r.verifyReceipt(e.get(4), proof)), "other entry");
    assertEquals("ERR_TLOG_PROOF_INDEX", code(() -> r.verifyReceipt(e.get(3), proof.replaceFirst("index 3", "index 9"))), "index past size");
    assertEquals("ERR_TLOG_PROOF_INCLUSION", code(() -> r.verifyReceipt(e.get(3), proof.replaceFirst("SCtq5RX3", "SCtq5RX4"))), "flipped path hash");
    assertEquals("ERR_CHECKPOINT_BAD_SIGNATURE", code(() -> r.verifyReceipt(e.get(3), proof.replaceFirst("XAG24lhj", "XAG24lhk"))), "altered root");
    assertEquals("ERR_TLOG_PROOF_MALFORMED", code(() -> r.verifyReceipt(e.get(3), proof.replaceFirst("@v1", "@v2"))), "bad header");
    assertEquals("ERR_TLOG_PROOF_MALFORMED", code(() -> r.verifyReceipt(e.get(3), proof.replaceFirst("index 3", "index 03"))), "leading zero");
  }

  @Test
  void checkpointVectorsAgainstPolicy() throws Exception {
    TrustPolicy p = policy();
    for (String f : List.of("checkpoint-4.note", "checkpoint-9.note", "checkpoint-9.witnessed.note")) {
      String note = readString(SPEC.resolve("log").resolve(f));
      Checkpoints.Verified cp = Checkpoints.verify(note, p);
      assertEquals("helm.mindburn.org/vectors/agent-0", cp.checkpoint().origin());
      if (f.contains("witnessed")) assertEquals(List.of("w1"), cp.witnesses());
      long size = cp.checkpoint().size();
      assertEquals("ERR_CHECKPOINT_BAD_SIGNATURE", code(() -> Checkpoints.verify(note.replaceFirst("\n" + size + "\n", "\n" + (size + 1) + "\n"), p)), f);
    }
    TrustPolicy q = TrustPolicy.parse(readString(SPEC.resolve("trust-policy.txt")).replaceFirst("quorum none", "quorum w1"), "q");
    assertEquals("ERR_QUORUM_NOT_MET", code(() -> Checkpoints.verify(readString(SPEC.resolve("log/checkpoint-9.note")), q)));
    Checkpoints.verify(readString(SPEC.resolve("log/checkpoint-9.witnessed.note")), q);
  }

  @Test
  void trustPolicyRules() throws Exception {
    String base = readString(SPEC.resolve("trust-policy.txt"));
    String[] lines = base.split("\n");
    String logVkey = lines[1].split("\\s+")[1];
    for (String text : List.of(base.replaceFirst("\n", "\r\n"), base + "logs x\n", base + "quorum none\n", base + lines[4] + "\n", base + "group g 1 nobody\n", base + "group g 2 w1\n", base + "witness w2 " + logVkey + "\n", base.replaceFirst("quorum none\n", ""))) {
      assertEquals("ERR_POLICY_SYNTAX", code(() -> TrustPolicy.parse(text, "p")), text);
    }
  }

  @Test
  void logKeyCertificationVector() throws Exception {
    JsonNode v = Jcs.MAPPER.readTree(read(SPEC.resolve("trust/log-key-certification.json")));
    VerifierKey root = policy().root;
    TrustRegistry.KeyEvent ev = TrustRegistry.openKeyEvent(v.get("envelope"), root);
    assertEquals("log", ev.purpose());
    assertEquals("KEY_PUBLISH", ev.event());
    assertEquals(ev.origin(), ev.key().name());
    ObjectNode t = v.get("envelope").deepCopy();
    t.put("payload", t.get("payload").textValue().replaceFirst("eyJ", "eyK"));
    assertNotEquals("OK", code(() -> TrustRegistry.openKeyEvent(t, root)));
  }

  @Test
  void jcsVectors() throws Exception {
    Path dir = sharedVectors();
    if (dir == null) return;
    List<Path> inputs;
    try (Stream<Path> s = Files.list(dir.resolve("jcs/input"))) {
      inputs = s.sorted().toList();
    }
    assertFalse(inputs.isEmpty());
    for (Path f : inputs) {
      byte[] want = read(dir.resolve("jcs/output").resolve(f.getFileName()));
      byte[] got = Jcs.canonicalize(read(f));
      assertEquals(new String(want, StandardCharsets.UTF_8), new String(got, StandardCharsets.UTF_8), f.toString());
      byte[] tampered = want.clone();
      tampered[tampered.length / 2] ^= 0x20;
      assertFalse(java.util.Arrays.equals(got, tampered));
    }
    assertEquals("1e+21", Jcs.formatEs6(1e21));
    assertEquals("1e-7", Jcs.formatEs6(1e-7));
    assertEquals("333333333.3333333", Jcs.formatEs6(333333333.33333333));
    assertArrayEquals("[0.000001,0]".getBytes(StandardCharsets.UTF_8), Jcs.canonicalize("[0.000001, -0.0]".getBytes(StandardCharsets.UTF_8)));
    assertEquals("ERR_NOT_UTF8", code(() -> Jcs.parse(new byte[] {(byte) 0xff})));
  }

  @Test
  void wycheproofEd25519() throws Exception {
    Path dir = sharedVectors();
    if (dir == null) return;
    JsonNode suite = Jcs.MAPPER.readTree(read(dir.resolve("ed25519/wycheproof_ed25519_test.json")));
    int count = 0;
    StringBuilder wrong = new StringBuilder();
    HexFormat hex = HexFormat.of();
    for (JsonNode g : suite.get("testGroups")) {
      byte[] pk = hex.parseHex(g.get("publicKey").get("pk").textValue());
      for (JsonNode c : g.get("tests")) {
        byte[] msg = hex.parseHex(c.get("msg").textValue());
        byte[] sig;
        try {
          sig = hex.parseHex(c.get("sig").textValue());
        } catch (IllegalArgumentException e) {
          sig = new byte[0]; // the cross-SDK rule: a sig that is not hex is an empty signature
        }
        boolean ok = VerifierKey.verifyEd25519(pk, msg, sig);
        if (ok != c.get("result").textValue().equals("valid")) wrong.append(c.get("tcId").asInt()).append(' ');
        if (ok) {
          byte[] flipped = sig.clone();
          flipped[0] ^= 1;
          assertFalse(VerifierKey.verifyEd25519(pk, java.util.Arrays.copyOf(msg, msg.length + 1), sig) || VerifierKey.verifyEd25519(pk, msg, flipped), "tampered message or signature verified");
        }
        count++;
      }
    }
    assertEquals("", wrong.toString(), "Wycheproof cases answered wrongly");
    assertTrue(count >= 100);
  }
}
