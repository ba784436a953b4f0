package org.mindburn.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The examples of README.md: the first runs on the spec vectors, the second is compiled (it needs a running sidecar). */
class ReadmeTest {
  @Test
  void verifyAReceiptOffline() throws Exception {
    Path dir = Path.of("../../docs/spec/vectors");
    TrustRegistry trust = new TrustRegistry(TrustPolicy.load(dir.resolve("trust-policy.txt")));
    List<byte[]> entries = Files.readAllLines(dir.resolve("log/entries.jsonl")).stream().map(String::getBytes).toList();
    for (byte[] entry : entries) {
      Node node = Node.decode(entry);
      if (node.kind().equals("trust")) trust.addTrustNode(node); // root-signed key events publish the node keys
    }
    String proof = Files.readString(dir.resolve("log/decision-03.tlog-proof"));
    TrustRegistry.VerifiedReceipt receipt = trust.verifyReceipt(entries.get(3), proof); // HelmException.code(): ERR_SIGNATURE, ...
    assertEquals("ESCALATE", receipt.node().body().get("verdict").textValue());
    assertEquals("helm-vectors/agent-0/node+4122bc29", receipt.signedBy().handle());
  }

  static void governanceAndApproval(java.net.http.HttpResponse<byte[]> response) throws HelmException {
    Governance.Headers g = Governance.parseHeaders(n -> response.headers().firstValue(n).orElse(null)).orElseThrow();
    if ("ESCALATE".equals(g.decision())) {
      Approvals.AdminClient admin = new Approvals.AdminClient("http://127.0.0.1:9090");
      Approvals.Ceremony ceremony = admin.get(g.approvalId());
      SigningKey key = SigningKey.load(Path.of("alice.key")); // written by helmctl keygen
      Approvals.Accepted accepted = admin.submit(Approvals.sign(ceremony.challenge(), key, "approve"));
      System.out.println("approval recorded as " + accepted.receipt());
    }
  }

  @Test
  void readmeShowsTheseExamples() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    String self = Files.readString(Path.of("src/test/java/org/mindburn/helm/ReadmeTest.java"));
    List<String> blocks = Arrays.stream(readme.split("```java\n")).skip(1).map(b -> b.substring(0, b.indexOf("```"))).toList();
    assertEquals(2, blocks.size());
    for (String b : blocks) assertTrue(self.contains(b), "README block is not in ReadmeTest.java:\n" + b);
  }
}
