package org.mindburn.helm;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The governance HELM attaches to responses: X-Helm-* headers, the helm body field, [HELM] lines, MCP _meta. */
public final class Governance {
  private Governance() {}

  /** One entry of X-Helm-Decisions or X-Helm-Tools-Removed: id=VERDICT:REASON (id URI-decoded). */
  public record HeaderDecision(String id, String verdict, String reasonCode) {}

  /**
   * What the X-Helm-* headers say: the strictest verdict with its reason code, receipt id (the
   * DECISION node's entry hash) and approval id (the challenge nonce of an ESCALATE), and every call.
   */
  public record Headers(String decision, String reasonCode, String receiptId, String approvalId, List<HeaderDecision> decisions, List<HeaderDecision> toolsRemoved, boolean truncated) {}

  private static final Pattern ENTRY = Pattern.compile("([^=,\\s]+)=(ALLOW|DENY|ESCALATE):([A-Z0-9_]+)");

  private static boolean parseList(String v, List<HeaderDecision> out) throws HelmException {
    boolean truncated = false;
    if (v == null || v.isBlank()) return false;
    for (String part : v.split(", ")) {
      if (part.equals("...")) {
        truncated = true;
        continue;
      }
      Matcher m = ENTRY.matcher(part);
      if (!m.matches()) throw new HelmException("ERR_HELM_HEADER", "header entry " + part + " is not id=VERDICT:REASON");
      String id;
      try {
        id = URLDecoder.decode(m.group(1).replace("+", "%2B"), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new HelmException("ERR_HELM_HEADER", "header entry id " + m.group(1) + " is not URI-encoded");
      }
      out.add(new HeaderDecision(id, m.group(2), m.group(3)));
    }
    return truncated;
  }

  /**
   * Reads the X-Helm-* headers; {@code header} looks one up by name case-insensitively (for
   * java.net.http: {@code n -> response.headers().firstValue(n).orElse(null)}). Empty when the
   * response carries none.
   */
  public static Optional<Headers> parseHeaders(Function<String, String> header) throws HelmException {
    List<HeaderDecision> decisions = new ArrayList<>(), removed = new ArrayList<>();
    boolean t = parseList(header.apply("x-helm-decisions"), decisions) | parseList(header.apply("x-helm-tools-removed"), removed);
    Headers h = new Headers(header.apply("x-helm-decision"), header.apply("x-helm-reason-code"), header.apply("x-helm-receipt-id"), header.apply("x-helm-approval-id"), decisions, removed, t);
    return h.decision() != null || h.reasonCode() != null || !removed.isEmpty() ? Optional.of(h) : Optional.empty();
  }

  /** What an approver signs for an ESCALATE (pep.md §5). */
  public record Challenge(String callId, String decision, String policyDigest, String nonce, String approval, List<String> approvers, long quorum, String notBefore, String expiresAt) {
    public static Challenge fromJson(JsonNode v) {
      List<String> a = new ArrayList<>();
      v.path("approvers").forEach(x -> a.add(x.asText()));
      return new Challenge(text(v, "callId"), text(v, "decision"), text(v, "policyDigest"), text(v, "nonce"), text(v, "approval"), a, v.path("quorum").asLong(0), text(v, "notBefore"), text(v, "expiresAt"));
    }
  }

  static String text(JsonNode v, String k) {
    return v.path(k).isTextual() ? v.get(k).textValue() : null;
  }

  /** One decision of the helm field of a completion, error or last stream chunk. */
  public record DecisionView(String toolCallId, String callId, String tool, String verdict, String reasonCode, boolean recorded, String receiptId, String intentId, Long lamport, boolean delivered, String detail, Challenge approval, Long retryAfterMs, String sandbox) {
    static DecisionView fromJson(JsonNode v) {
      return new DecisionView(text(v, "toolCallId"), text(v, "callId"), text(v, "tool"), text(v, "verdict"), text(v, "reasonCode"), v.path("recorded").asBoolean(false), text(v, "receiptId"), text(v, "intentId"),
          v.path("lamport").isIntegralNumber() ? v.get("lamport").longValue() : null, v.path("delivered").asBoolean(false), text(v, "detail"),
          v.path("approval").isObject() ? Challenge.fromJson(v.get("approval")) : null, v.path("retryAfterMs").isIntegralNumber() ? v.get("retryAfterMs").longValue() : null, text(v, "sandbox"));
    }
  }

  /** The helm field: every decision behind the answer and every tool removed. */
  public record Summary(List<DecisionView> decisions, List<DecisionView> toolsRemoved) {}

  /** Finds the helm field of a completion body or of its error object. */
  public static Optional<Summary> parseSummary(byte[] body) throws HelmException {
    JsonNode v;
    try {
      v = Jcs.MAPPER.readTree(body);
    } catch (java.io.IOException e) {
      throw new HelmException("ERR_HELM_BODY", "response body is not JSON: " + e.getMessage());
    }
    JsonNode h = v.path("helm").isObject() ? v.get("helm") : v.path("error").path("helm");
    if (!h.isObject()) return Optional.empty();
    List<DecisionView> d = new ArrayList<>(), r = new ArrayList<>();
    h.path("decisions").forEach(x -> d.add(DecisionView.fromJson(x)));
    h.path("toolsRemoved").forEach(x -> r.add(DecisionView.fromJson(x)));
    return Optional.of(new Summary(d, r));
  }

  /**
   * One [HELM] line the proxy put in place of a call the agent did not receive; kind is blocked
   * (policy DENY), refused (the proxy's own refusal) or approval (ESCALATE).
   */
  public record Explanation(String tool, String toolCallId, String kind, String verdict, String reasonCode, String approval, Integer quorum, Integer approvers, String approvalId, String decision, String notBefore, String expiresAt, Integer retryAfterS, String receipt, String line) {}

  private static final String Q = "\"((?:[^\"\\\\]|\\\\.)*)\"";
  private static final Pattern LINE = Pattern.compile("^\\[HELM\\] The tool call " + Q + "(?: \\(id " + Q + "\\))? (was blocked by policy|was refused by the proxy|needs approval " + Q + " \\((\\d+) of (\\d+) approvers\\) before it can run|needs an approval before it can run): (ALLOW|DENY|ESCALATE) ([A-Z0-9_]+)\\.(.*)$");
  private static final Pattern APPROVAL = Pattern.compile("Approval id ([A-Za-z0-9_-]+), decision (sha256:[0-9a-f]{64}); approvals are accepted from (\\S+) until (\\S+)\\.");
  private static final Pattern RETRY = Pattern.compile("(?:Retry in|It may be retried in) (\\d+) s\\.");
  private static final Pattern RECEIPT = Pattern.compile(" Receipt: (sha256:[0-9a-f]{64})\\.$");
  private static final Pattern ESCAPE = Pattern.compile("\\\\(\\\\|\"|u\\{[0-9a-f]+\\})");

  /** Reverses the proxy's escaping of names (\" \\ \\u{hex}). */
  static String unescape(String s) {
    if (s == null) return null;
    return ESCAPE.matcher(s).replaceAll(m -> {
      String g = m.group(1);
      if (g.equals("\\") || g.equals("\"")) return Matcher.quoteReplacement(g);
      return Matcher.quoteReplacement(new String(Character.toChars(Integer.parseInt(g.substring(2, g.length() - 1), 16))));
    });
  }

  /** Finds the [HELM] lines of an assistant message's content. */
  public static List<Explanation> parseHelmContent(String content) {
    List<Explanation> out = new ArrayList<>();
    for (String line : content.split("\n", -1)) {
      Matcher m = LINE.matcher(line);
      if (!m.matches()) continue;
      String kind = m.group(3).equals("was blocked by policy") ? "blocked" : m.group(3).equals("was refused by the proxy") ? "refused" : "approval";
      String rest = m.group(9);
      Matcher a = APPROVAL.matcher(rest), r = RETRY.matcher(rest), rc = RECEIPT.matcher(rest);
      boolean ha = a.find();
      out.add(new Explanation(unescape(m.group(1)), unescape(m.group(2)), kind, m.group(7), m.group(8), unescape(m.group(4)), m.group(5) == null ? null : Integer.valueOf(m.group(5)), m.group(6) == null ? null : Integer.valueOf(m.group(6)),
          ha ? a.group(1) : null, ha ? a.group(2) : null, ha ? a.group(3) : null, ha ? a.group(4) : null, r.find() ? Integer.valueOf(r.group(1)) : null, rc.find() ? rc.group(1) : null, line));
    }
    return out;
  }

  /** MCP _meta keys of the gateway (docs/mcp-gateway.md). */
  public static final String META_GOVERNANCE = "helm.mindburn.org/governance", META_RECEIPT = "helm.mindburn.org/receipt", META_TOOL_CALL_ID = "helm.mindburn.org/toolCallId", META_IDEMPOTENCY_KEY = "helm.mindburn.org/idempotencyKey";

  /** _meta["helm.mindburn.org/governance"] of a listed tool; approval is none, conditional or required. */
  public record McpToolGovernance(String upstream, String upstreamTool, String domain, String sideEffect, String approval, boolean pinned, String definitionHash, List<String> conditions) {}

  /** _meta["helm.mindburn.org/receipt"] of a tools/call result. */
  public record McpReceipt(String verdict, String reasonCode, String callId, String intent, String decision, String effect, String result) {
    /** The most specific node: the result, else the effect, else the decision. */
    public String receipt() {
      return result != null ? result : effect != null ? effect : decision;
    }
  }

  /** error.data of a refused tools/call; kind (from the JSON-RPC code) is denied (-32060), approval-pending (-32061) or unavailable (-32062). */
  public record McpErrorData(String verdict, String reasonCode, String callId, String receipt, String failure, Challenge challenge, Long retryAfterMs, String kind) {}

  /** Reads a whole JSON-RPC error {code, message, data}; empty when it is not a HELM refusal. */
  public static Optional<McpErrorData> parseMcpErrorObject(JsonNode error) {
    String kind = switch (error.path("code").asInt(0)) {
      case -32060 -> "denied";
      case -32061 -> "approval-pending";
      case -32062 -> "unavailable";
      default -> null;
    };
    if (kind == null) return Optional.empty();
    try {
      McpErrorData d = parseMcpError(error.path("data"));
      return Optional.of(new McpErrorData(d.verdict(), d.reasonCode(), d.callId(), d.receipt(), d.failure(), d.challenge(), d.retryAfterMs(), kind));
    } catch (HelmException e) {
      return Optional.empty();
    }
  }

  public static Optional<McpToolGovernance> parseMcpToolGovernance(JsonNode meta) {
    JsonNode g = meta.path(META_GOVERNANCE);
    if (!g.isObject()) return Optional.empty();
    List<String> c = new ArrayList<>();
    g.path("conditions").forEach(x -> c.add(x.asText()));
    return Optional.of(new McpToolGovernance(text(g, "upstream"), text(g, "upstreamTool"), text(g, "domain"), text(g, "sideEffect"), text(g, "approval"), g.path("pinned").asBoolean(false), text(g, "definitionHash"), c));
  }

  public static Optional<McpReceipt> parseMcpReceipt(JsonNode meta) {
    JsonNode r = meta.path(META_RECEIPT);
    if (!r.isObject()) return Optional.empty();
    return Optional.of(new McpReceipt(text(r, "verdict"), text(r, "reasonCode"), text(r, "callId"), text(r, "intent"), text(r, "decision"), text(r, "effect"), text(r, "result")));
  }

  public static McpErrorData parseMcpError(JsonNode data) throws HelmException {
    if (text(data, "verdict") == null) throw new HelmException("ERR_HELM_META", "error.data is not a HELM refusal");
    return new McpErrorData(text(data, "verdict"), text(data, "reasonCode"), text(data, "callId"), text(data, "receipt"), text(data, "failure"), data.path("challenge").isObject() ? Challenge.fromJson(data.get("challenge")) : null,
        data.path("retryAfterMs").isIntegralNumber() ? data.get("retryAfterMs").longValue() : null, null);
  }
}
