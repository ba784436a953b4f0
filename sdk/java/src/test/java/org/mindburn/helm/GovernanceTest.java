package org.mindburn.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mindburn.helm.Support.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GovernanceTest {
  static final String HASH = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

  @Test
  void parsesHeaders() throws Exception {
    Map<String, String> h = new HashMap<>();
    h.put("x-helm-decision", "DENY");
    h.put("x-helm-reason-code", "TOOL_NOT_GRANTED");
    h.put("x-helm-receipt-id", HASH);
    h.put("x-helm-decisions", "call_1=ALLOW:ALLOWED, call%2C2=DENY:TOOL_NOT_GRANTED");
    h.put("x-helm-tools-removed", "shell.exec=DENY:TOOL_NOT_GRANTED, ...");
    Governance.Headers g = Governance.parseHeaders(h::get).orElseThrow();
    assertEquals("DENY", g.decision());
    assertEquals(List.of(new Governance.HeaderDecision("call_1", "ALLOW", "ALLOWED"), new Governance.HeaderDecision("call,2", "DENY", "TOOL_NOT_GRANTED")), g.decisions());
    assertEquals("shell.exec", g.toolsRemoved().get(0).id());
    assertTrue(g.truncated());
    h.put("x-helm-decisions", "call_1=MAYBE:X");
    assertEquals("ERR_HELM_HEADER", code(() -> Governance.parseHeaders(h::get)));
    assertTrue(Governance.parseHeaders(n -> null).isEmpty());
  }

  @Test
  void parsesHelmContent() {
    String content = "Sure.\n[HELM] The tool call \"mail.send\" (id \"call_1\") was blocked by policy: DENY DATA_EGRESS_BLOCKED. egress to example.com is not allowed. Receipt: " + HASH + ".\n"
        + "[HELM] The tool call \"crm.lookup\\u{200b}_customer\" (id \"call_\\\"2\") was refused by the proxy: DENY INPUT_DUPLICATE_KEY. duplicate key \"query\". Receipt: " + HASH + ".\n"
        + "[HELM] The tool call \"billing.refund\" (id \"call_3\") needs approval \"manager\" (1 of 2 approvers) before it can run: ESCALATE APPROVAL_REQUIRED. Approval id jgg1gfP9j8oWRNC1vSyxUw, decision " + HASH
        + "; approvals are accepted from 2026-11-22T01:50:14.950Z until 2026-11-23T01:50:14.950Z. Propose the same call again once it is approved. Retry in 5 s. Receipt: " + HASH + ".";
    List<Governance.Explanation> got = Governance.parseHelmContent(content);
    assertEquals(3, got.size());
    assertEquals(List.of("blocked", "mail.send", "call_1", "DATA_EGRESS_BLOCKED", HASH), List.of(got.get(0).kind(), got.get(0).tool(), got.get(0).toolCallId(), got.get(0).reasonCode(), got.get(0).receipt()));
    assertEquals(List.of("refused", "crm.lookup\u200b_customer", "call_\"2"), List.of(got.get(1).kind(), got.get(1).tool(), got.get(1).toolCallId()));
    Governance.Explanation a = got.get(2);
    assertEquals(List.of("approval", "ESCALATE", "manager", "jgg1gfP9j8oWRNC1vSyxUw", HASH, "2026-11-23T01:50:14.950Z"), List.of(a.kind(), a.verdict(), a.approval(), a.approvalId(), a.decision(), a.expiresAt()));
    assertEquals(List.of(1, 2, 5), List.of(a.quorum(), a.approvers(), a.retryAfterS()));
    assertTrue(Governance.parseHelmContent("[HELM] something else").isEmpty());
  }

  @Test
  void parsesSummaryAndMcpMeta() throws Exception {
    String body = "{\"error\":{\"message\":\"x\",\"helm\":{\"decisions\":[{\"toolCallId\":\"c1\",\"callId\":\"c1\",\"tool\":\"t\",\"verdict\":\"DENY\",\"reasonCode\":\"R\",\"recorded\":true,\"receiptId\":\"sha256:a\",\"intentId\":null,\"lamport\":3,\"delivered\":false,\"detail\":\"d\"}],\"toolsRemoved\":[]}}}";
    Governance.Summary s = Governance.parseSummary(body.getBytes(StandardCharsets.UTF_8)).orElseThrow();
    assertEquals("DENY", s.decisions().get(0).verdict());
    assertEquals(3L, s.decisions().get(0).lamport());
    assertTrue(Governance.parseSummary("{}".getBytes(StandardCharsets.UTF_8)).isEmpty());
    JsonNode meta = Jcs.MAPPER.readTree("{\"other\":1,\"helm.mindburn.org/receipt\":{\"verdict\":\"ALLOW\",\"reasonCode\":\"ALLOWED\",\"callId\":\"mcp:1\",\"decision\":\"sha256:b\",\"result\":\"sha256:d\"}}");
    assertEquals("sha256:d", Governance.parseMcpReceipt(meta).orElseThrow().result());
    Governance.McpToolGovernance g = Governance.parseMcpToolGovernance(Jcs.MAPPER.readTree("{\"helm.mindburn.org/governance\":{\"upstream\":\"crm\",\"upstreamTool\":\"lookup\",\"domain\":\"crm\",\"sideEffect\":\"read\",\"approval\":\"none\",\"pinned\":true,\"definitionHash\":\"sha256:x\",\"conditions\":[\"c1\"]}}")).orElseThrow();
    assertTrue(g.pinned());
    assertEquals(List.of("c1"), g.conditions());
    assertTrue(Governance.parseMcpReceipt(Jcs.MAPPER.readTree("{\"x\":1}")).isEmpty());
    assertEquals("n", Governance.parseMcpError(Jcs.MAPPER.readTree("{\"verdict\":\"ESCALATE\",\"reasonCode\":\"APPROVAL_REQUIRED\",\"callId\":\"c\",\"challenge\":{\"nonce\":\"n\",\"quorum\":1}}")).challenge().nonce());
  }

  @Test
  void approvalMessageAndSignature() throws Exception {
    JsonNode alice = Jcs.MAPPER.readTree(read(SPEC.resolve("keys.json"))).get("approver");
    SigningKey key = SigningKey.parse(alice.get("privateKey").textValue());
    assertEquals(alice.get("vkey").textValue(), key.verifier().vkey());
    Governance.Challenge c = new Governance.Challenge(null, "sha256:12f124021483aeef49ff9b601a50a8a64231b6f1075d8ecb5ac95c89cf1f7912", "sha256:87215176ad91a98772c3ebad874602f1fabc9c819caa691c926fa14bab42924e", "bm9uY2Utdm90ZS0wMDAx", null, List.of(), 1, null, null);
    byte[] msg = Approvals.message(c.decision(), c.policyDigest(), c.nonce(), "approve");
    assertEquals("helm-approval/v1\n" + c.decision() + "\n" + c.policyDigest() + "\n" + c.nonce() + "\napprove\n", new String(msg, StandardCharsets.UTF_8));
    Approvals.Submission s = Approvals.sign(c, key, "approve");
    VerifierKey vk = VerifierKey.parse(alice.get("vkey").textValue());
    byte[] sig = Base64.getDecoder().decode(s.signature());
    assertEquals(vk.handle(), s.approver());
    assertTrue(vk.verify(msg, sig));
    assertFalse(vk.verify(Approvals.message(c.decision(), c.policyDigest(), c.nonce(), "reject"), sig), "an approve signature verifies as a reject");
    assertEquals("ERR_APPROVAL_MALFORMED", code(() -> Approvals.message("sha256:x", c.policyDigest(), c.nonce(), "approve")));
    assertEquals("ERR_KEY_FORMAT", code(() -> SigningKey.parse("PRIVATE+KEY+x+00000000+AQ==")));
  }
}
