package org.mindburn.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mindburn.helm.Support.code;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Drives a real helmctl serve that test/sdk-native/java.test.ts starts (HELM_SDK_* of test/sdk/live-sidecar.ts). */
class LiveTest {
  static String env(String n) {
    String v = System.getenv(n);
    return v == null ? "" : v;
  }

  record Answer(Governance.Headers headers, Governance.Summary summary, String content) {}

  static final HttpClient HTTP = HttpClient.newHttpClient();

  static Answer chat(String prompt) throws Exception {
    String body = Jcs.MAPPER.writeValueAsString(Map.of("model", env("HELM_SDK_MODEL"), "messages", List.of(Map.of("role", "user", "content", prompt))));
    HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create(env("HELM_SDK_BASE_URL") + "/chat/completions")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
    Governance.Headers h = Governance.parseHeaders(n -> r.headers().firstValue(n).orElse(null)).orElseThrow();
    JsonNode v = Jcs.MAPPER.readTree(r.body());
    return new Answer(h, Governance.parseSummary(r.body()).orElse(null), v.path("choices").path(0).path("message").path("content").asText(""));
  }

  @Test
  void liveSidecar() throws Exception {
    Assumptions.assumeFalse(env("HELM_SDK_BASE_URL").isEmpty(), "HELM_SDK_BASE_URL is not set: the live test runs from test/sdk-native/java.test.ts, which starts helmctl serve");
    Answer allowed = chat(env("HELM_SDK_PROMPT_ALLOWED"));
    assertEquals("ALLOW", allowed.headers().decision());
    assertEquals(env("HELM_SDK_TOOL_ALLOWED"), allowed.summary().decisions().get(0).tool());
    assertTrue(allowed.summary().decisions().get(0).delivered());
    assertEquals(allowed.headers().receiptId(), allowed.summary().decisions().get(0).receiptId());

    Answer denied = chat(env("HELM_SDK_PROMPT_DENIED"));
    assertEquals("DENY", denied.headers().decision());
    List<Governance.Explanation> ex = Governance.parseHelmContent(denied.content());
    assertEquals(1, ex.size(), denied.content());
    assertEquals(List.of(env("HELM_SDK_TOOL_DENIED"), "DENY", denied.headers().reasonCode(), denied.headers().receiptId()), List.of(ex.get(0).tool(), ex.get(0).verdict(), ex.get(0).reasonCode(), ex.get(0).receipt()));

    Answer esc = chat(env("HELM_SDK_PROMPT_ESCALATED"));
    assertEquals("ESCALATE", esc.headers().decision());
    String nonce = esc.headers().approvalId();
    assertNotNull(nonce);
    assertEquals(nonce, Governance.parseHelmContent(esc.content()).get(0).approvalId());
    Approvals.AdminClient admin = new Approvals.AdminClient(env("HELM_SDK_ADMIN_URL"));
    Approvals.Ceremony ceremony = admin.pending().stream().filter(c -> nonce.equals(c.challenge().nonce())).findFirst().orElseThrow();
    assertEquals(env("HELM_SDK_TOOL_ESCALATED"), ceremony.tool());
    assertEquals(ceremony.challenge().decision(), admin.get(nonce).challenge().decision());
    SigningKey key = SigningKey.load(Path.of(env("HELM_SDK_APPROVER_KEY")));
    Approvals.Submission good = Approvals.sign(ceremony.challenge(), key, "approve");
    Approvals.Submission forged = new Approvals.Submission(good.decision(), good.policyDigest(), good.nonce(), good.approver(), "reject", good.signature());
    assertEquals("ERR_APPROVAL_BAD_SIGNATURE", code(() -> admin.submit(forged)));
    assertEquals(env("HELM_SDK_APPROVER_HANDLE"), good.approver());
    Approvals.Accepted acc = admin.submit(good);
    assertTrue(acc.receipt().startsWith("sha256:"));
    Answer granted = chat(env("HELM_SDK_PROMPT_ESCALATED"));
    assertEquals(List.of("ALLOW", "APPROVAL_GRANTED"), List.of(granted.headers().decision(), granted.headers().reasonCode()));

    // The MCP gateway: governance of a listed tool, of an executed call (_meta) and of a refused one
    // (JSON-RPC error data); their receipts are verified offline below.
    Map<String, String[]> mcpCases = new java.util.HashMap<>();
    String mcpUrl = env("HELM_SDK_MCP_URL");
    if (!mcpUrl.isEmpty()) {
      JsonNode tool = mcpCall(mcpUrl, "tools/list", Map.of()).path("result").path("tools").path(0);
      Governance.McpToolGovernance g = Governance.parseMcpToolGovernance(tool.path("_meta")).orElseThrow();
      assertTrue(!g.upstream().isEmpty() && g.definitionHash().startsWith("sha256:"));
      String name = tool.get("name").textValue();
      Governance.McpReceipt r = Governance.parseMcpReceipt(mcpCall(mcpUrl, "tools/call", Map.of("name", name, "arguments", Map.of("message", "hello"))).path("result").path("_meta")).orElseThrow();
      assertEquals("ALLOW", r.verdict());
      Governance.McpErrorData d = Governance.parseMcpErrorObject(mcpCall(mcpUrl, "tools/call", Map.of("name", name, "arguments", Map.of("message", "my password"))).path("error")).orElseThrow();
      assertEquals(List.of("DENY", "denied"), List.of(d.verdict(), d.kind()));
      mcpCases.put("mcp decision", new String[] {r.decision(), "ALLOW"});
      mcpCases.put("mcp result", new String[] {r.receipt(), null});
      mcpCases.put("mcp denied", new String[] {d.receipt(), "DENY"});
    }

    HttpResponse<String> exp = HTTP.send(HttpRequest.newBuilder(URI.create(env("HELM_SDK_EXPORT_URL"))).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, exp.statusCode(), exp.body());
    Path pack = Path.of(env("HELM_SDK_PACK_DIR"));
    TrustRegistry reg = new TrustRegistry(TrustPolicy.load(Path.of(env("HELM_SDK_TRUST_POLICY"))));
    for (String line : Files.readString(pack.resolve("trust-events.jsonl")).split("\n")) if (!line.isEmpty()) reg.add(Jcs.parse(line.getBytes(StandardCharsets.UTF_8)));
    Map<String, String[]> cases = new java.util.HashMap<>(mcpCases);
    cases.putAll(Map.of("allowed", new String[] {allowed.headers().receiptId(), "ALLOW"}, "denied", new String[] {denied.headers().receiptId(), "DENY"}, "granted", new String[] {granted.headers().receiptId(), "ALLOW"}, "approval", new String[] {acc.receipt(), null}));
    for (Map.Entry<String, String[]> c : cases.entrySet()) {
      String hex = c.getValue()[0].substring("sha256:".length());
      byte[] entry = Files.readAllBytes(pack.resolve("receipts").resolve(hex + ".json"));
      String proof = Files.readString(pack.resolve("receipts").resolve(hex + ".tlog-proof"));
      TrustRegistry.VerifiedReceipt v = reg.verifyReceipt(entry, proof);
      assertEquals(c.getValue()[0], v.node().entryHash(), c.getKey());
      if (c.getValue()[1] != null) assertEquals(c.getValue()[1], v.node().body().get("verdict").textValue(), c.getKey());
      else if (c.getKey().equals("mcp result")) assertEquals(List.of("result", "ok"), List.of(v.node().kind(), v.node().body().get("status").textValue()));
      else assertEquals(List.of("approval", good.approver()), List.of(v.node().kind(), v.node().body().get("approver").textValue()));
      byte[] tampered = new String(entry, StandardCharsets.UTF_8).replaceFirst("\"payload\":\"eyJ", "\"payload\":\"eyK").getBytes(StandardCharsets.UTF_8);
      assertNotEquals("OK", code(() -> reg.verifyReceipt(tampered, proof)), c.getKey() + ": tampered receipt verified");
    }
    System.out.println("liveSidecar: " + cases.size() + " receipts verified offline (" + mcpCases.size() + " from the MCP gateway)");
  }

  /** One JSON-RPC request to the gateway (stateless Streamable HTTP): the response message, from a JSON body or the SSE stream's data line. */
  static JsonNode mcpCall(String url, String method, Object params) throws Exception {
    String body = Jcs.MAPPER.writeValueAsString(Map.of("jsonrpc", "2.0", "id", 1, "method", method, "params", params));
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json").header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2025-06-18").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    String data = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).findFirst().orElse(r.body());
    return Jcs.MAPPER.readTree(data);
  }
}
