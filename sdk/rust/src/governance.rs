use crate::error::{err, Error};
use serde_json::Value;

/// One entry of X-Helm-Decisions or X-Helm-Tools-Removed: id=VERDICT:REASON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderDecision {
    /// Tool-call id (decisions) or tool name (tools removed), URI-decoded.
    pub id: String,
    pub verdict: String,
    pub reason_code: String,
}

/// What the X-Helm-* headers of a proxied chat completion say.
#[derive(Debug, Clone, Default)]
pub struct Governance {
    /// The strictest verdict: ALLOW, DENY or ESCALATE (None when no call was judged).
    pub decision: Option<String>,
    pub reason_code: Option<String>,
    /// The DECISION node's entry hash.
    pub receipt_id: Option<String>,
    /// The challenge nonce when the decision is ESCALATE.
    pub approval_id: Option<String>,
    pub decisions: Vec<HeaderDecision>,
    pub tools_removed: Vec<HeaderDecision>,
    /// More than 32 entries: the helm body field has them all.
    pub truncated: bool,
}

fn percent_decode(s: &str) -> Result<String, Error> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(|| err!("ERR_HELM_HEADER", "header entry id {:?} is not URI-encoded", s))?;
            out.push(h);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| err!("ERR_HELM_HEADER", "header entry id {:?} is not UTF-8", s))
}

fn parse_list(v: Option<&str>) -> Result<(Vec<HeaderDecision>, bool), Error> {
    let mut out = vec![];
    let mut truncated = false;
    let v = match v.map(str::trim) {
        None | Some("") => return Ok((out, false)),
        Some(v) => v,
    };
    for part in v.split(", ") {
        if part == "..." {
            truncated = true;
            continue;
        }
        let bad = || err!("ERR_HELM_HEADER", "header entry {:?} is not id=VERDICT:REASON", part);
        let (id, rest) = part.split_once('=').ok_or_else(bad)?;
        let (verdict, reason) = rest.split_once(':').ok_or_else(bad)?;
        if id.is_empty() || !["ALLOW", "DENY", "ESCALATE"].contains(&verdict) || reason.is_empty() || !reason.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
            return Err(bad());
        }
        out.push(HeaderDecision { id: percent_decode(id)?, verdict: verdict.to_string(), reason_code: reason.to_string() });
    }
    Ok((out, truncated))
}

/// Reads the X-Helm-* headers; `header` looks a header up by name, case-insensitively (adapt it
/// to your HTTP client's header map). Returns None when the response carries none.
pub fn parse_headers<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Result<Option<Governance>, Error> {
    let own = |n: &str| header(n).map(str::to_string);
    let (decisions, t1) = parse_list(header("x-helm-decisions"))?;
    let (tools_removed, t2) = parse_list(header("x-helm-tools-removed"))?;
    let g = Governance { decision: own("x-helm-decision"), reason_code: own("x-helm-reason-code"), receipt_id: own("x-helm-receipt-id"), approval_id: own("x-helm-approval-id"), decisions, tools_removed, truncated: t1 || t2 };
    Ok(if g.decision.is_some() || g.reason_code.is_some() || !g.tools_removed.is_empty() { Some(g) } else { None })
}

/// What an approver signs for an ESCALATE (pep.md §5).
#[derive(Debug, Clone, Default)]
pub struct Challenge {
    pub call_id: String,
    pub decision: String,
    pub policy_digest: String,
    pub nonce: String,
    pub approval: String,
    pub approvers: Vec<String>,
    pub quorum: u64,
    pub not_before: String,
    pub expires_at: String,
}

fn s(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}
fn opt_s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

impl Challenge {
    pub fn from_json(v: &Value) -> Challenge {
        Challenge {
            call_id: s(v, "callId"),
            decision: s(v, "decision"),
            policy_digest: s(v, "policyDigest"),
            nonce: s(v, "nonce"),
            approval: s(v, "approval"),
            approvers: v.get("approvers").and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default(),
            quorum: v.get("quorum").and_then(Value::as_u64).unwrap_or(0),
            not_before: s(v, "notBefore"),
            expires_at: s(v, "expiresAt"),
        }
    }
}

/// One decision of the `helm` field of a completion, error or last stream chunk.
#[derive(Debug, Clone, Default)]
pub struct DecisionView {
    pub tool_call_id: Option<String>,
    pub call_id: String,
    pub tool: String,
    pub verdict: String,
    pub reason_code: String,
    pub recorded: bool,
    pub receipt_id: Option<String>,
    pub intent_id: Option<String>,
    pub lamport: Option<u64>,
    pub delivered: bool,
    pub detail: String,
    pub approval: Option<Challenge>,
    pub retry_after_ms: Option<u64>,
    pub sandbox: Option<String>,
}

impl DecisionView {
    fn from_json(v: &Value) -> DecisionView {
        DecisionView {
            tool_call_id: opt_s(v, "toolCallId"),
            call_id: s(v, "callId"),
            tool: s(v, "tool"),
            verdict: s(v, "verdict"),
            reason_code: s(v, "reasonCode"),
            recorded: v.get("recorded").and_then(Value::as_bool).unwrap_or(false),
            receipt_id: opt_s(v, "receiptId"),
            intent_id: opt_s(v, "intentId"),
            lamport: v.get("lamport").and_then(Value::as_u64),
            delivered: v.get("delivered").and_then(Value::as_bool).unwrap_or(false),
            detail: s(v, "detail"),
            approval: v.get("approval").filter(|a| a.is_object()).map(Challenge::from_json),
            retry_after_ms: v.get("retryAfterMs").and_then(Value::as_u64),
            sandbox: opt_s(v, "sandbox"),
        }
    }
}

/// The `helm` field: every decision behind the answer and every tool removed.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub decisions: Vec<DecisionView>,
    pub tools_removed: Vec<DecisionView>,
}

/// Finds the `helm` field of a completion body or of its `error` object.
pub fn parse_summary(body: &[u8]) -> Result<Option<Summary>, Error> {
    let v: Value = serde_json::from_slice(body).map_err(|e| err!("ERR_HELM_BODY", "response body is not JSON: {}", e))?;
    let h = match (v.get("helm"), v.get("error").and_then(|e| e.get("helm"))) {
        (Some(h), _) | (None, Some(h)) if h.is_object() => h,
        _ => return Ok(None),
    };
    let list = |k: &str| h.get(k).and_then(Value::as_array).map(|a| a.iter().map(DecisionView::from_json).collect()).unwrap_or_default();
    Ok(Some(Summary { decisions: list("decisions"), tools_removed: list("toolsRemoved") }))
}

/// One [HELM] line the proxy put in place of a call the agent did not receive.
#[derive(Debug, Clone, Default)]
pub struct Explanation {
    pub tool: String,
    pub tool_call_id: Option<String>,
    /// blocked (policy DENY), refused (the proxy's own refusal), approval (ESCALATE).
    pub kind: String,
    pub verdict: String,
    pub reason_code: String,
    pub approval: Option<String>,
    pub quorum: Option<u64>,
    pub approvers: Option<u64>,
    pub approval_id: Option<String>,
    pub decision: Option<String>,
    pub not_before: Option<String>,
    pub expires_at: Option<String>,
    pub retry_after_s: Option<u64>,
    pub receipt: Option<String>,
    pub line: String,
}

/// Reads a quoted name as the proxy escapes it (\" \\ \u{hex}); returns it and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let s = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match it.next()? {
                (_, '"') => out.push('"'),
                (_, '\\') => out.push('\\'),
                (j, 'u') => {
                    let close = s[j..].find('}')? + j;
                    out.push(char::from_u32(u32::from_str_radix(s.get(j + 2..close)?, 16).ok()?)?);
                    while it.next()?.0 < close {}
                }
                _ => return None,
            },
            c => out.push(c),
        }
    }
    None
}

fn word(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| c == ' ' || c == ',' || c == ';').unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn after<'a>(s: &'a str, marker: &str) -> Option<&'a str> {
    s.find(marker).map(|i| &s[i + marker.len()..])
}

fn parse_line(line: &str) -> Option<Explanation> {
    let rest = line.strip_prefix("[HELM] The tool call ")?;
    let (tool, mut rest) = quoted(rest)?;
    let mut e = Explanation { tool, line: line.to_string(), ..Default::default() };
    if let Some(r) = rest.strip_prefix(" (id ") {
        let (id, r) = quoted(r)?;
        e.tool_call_id = Some(id);
        rest = r.strip_prefix(')')?;
    }
    if let Some(r) = rest.strip_prefix(" was blocked by policy: ") {
        e.kind = "blocked".into();
        rest = r;
    } else if let Some(r) = rest.strip_prefix(" was refused by the proxy: ") {
        e.kind = "refused".into();
        rest = r;
    } else if let Some(r) = rest.strip_prefix(" needs an approval before it can run: ") {
        e.kind = "approval".into();
        rest = r;
    } else {
        let r = rest.strip_prefix(" needs approval ")?;
        let (name, r) = quoted(r)?;
        let r = r.strip_prefix(" (")?;
        let (q, r) = r.split_once(" of ")?;
        let (n, r) = r.split_once(" approvers) before it can run: ")?;
        e.kind = "approval".into();
        e.approval = Some(name);
        e.quorum = q.parse().ok();
        e.approvers = n.parse().ok();
        rest = r;
    }
    let (verdict, r) = rest.split_once(' ')?;
    let (code, r) = r.split_once('.')?;
    if !["ALLOW", "DENY", "ESCALATE"].contains(&verdict) || code.is_empty() || !code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
        return None;
    }
    e.verdict = verdict.into();
    e.reason_code = code.into();
    if let Some(a) = after(r, "Approval id ") {
        let (id, a) = word(a);
        e.approval_id = Some(id.into());
        if let Some(d) = after(a, ", decision ") {
            e.decision = Some(word(d).0.into());
        }
        if let Some(f) = after(a, "accepted from ") {
            e.not_before = Some(word(f).0.into());
        }
        if let Some(u) = after(a, " until ") {
            e.expires_at = Some(word(u).0.trim_end_matches('.').into());
        }
    }
    if let Some(t) = after(r, "Retry in ").or_else(|| after(r, "It may be retried in ")) {
        e.retry_after_s = word(t).0.parse().ok();
    }
    if let Some(i) = r.rfind(" Receipt: sha256:") {
        let h = r[i + " Receipt: ".len()..].trim_end_matches('.');
        if h.len() == 71 {
            e.receipt = Some(h.into());
        }
    }
    Some(e)
}

/// Finds the [HELM] lines of an assistant message's content.
pub fn parse_helm_content(content: &str) -> Vec<Explanation> {
    content.split('\n').filter_map(parse_line).collect()
}

/// MCP `_meta` keys of the gateway (docs/mcp-gateway.md).
pub const META_GOVERNANCE: &str = "helm.mindburn.org/governance";
pub const META_RECEIPT: &str = "helm.mindburn.org/receipt";
pub const META_TOOL_CALL_ID: &str = "helm.mindburn.org/toolCallId";
pub const META_IDEMPOTENCY_KEY: &str = "helm.mindburn.org/idempotencyKey";

/// _meta["helm.mindburn.org/governance"] of a listed tool.
#[derive(Debug, Clone, Default)]
pub struct McpToolGovernance {
    pub upstream: String,
    pub upstream_tool: String,
    pub domain: String,
    pub side_effect: String,
    /// none, conditional or required.
    pub approval: String,
    pub pinned: bool,
    pub definition_hash: String,
    pub conditions: Vec<String>,
}

/// _meta["helm.mindburn.org/receipt"] of a tools/call result.
#[derive(Debug, Clone, Default)]
pub struct McpReceipt {
    pub verdict: String,
    pub reason_code: String,
    pub call_id: String,
    pub intent: Option<String>,
    pub decision: Option<String>,
    pub effect: Option<String>,
    pub result: Option<String>,
}

impl McpReceipt {
    /// The most specific node: the result, else the effect, else the decision.
    pub fn receipt(&self) -> Option<&str> {
        self.result.as_deref().or(self.effect.as_deref()).or(self.decision.as_deref())
    }
}

/// error.data of a refused tools/call (-32060 denied, -32061 approval pending, -32062 unavailable).
#[derive(Debug, Clone, Default)]
pub struct McpErrorData {
    pub verdict: String,
    pub reason_code: String,
    pub call_id: String,
    pub receipt: Option<String>,
    pub failure: Option<String>,
    pub challenge: Option<Challenge>,
    pub retry_after_ms: Option<u64>,
    /// From the JSON-RPC code (parse_mcp_error_object): denied, approval-pending or unavailable.
    pub kind: Option<String>,
}

/// Reads a whole JSON-RPC error {code, message, data}; None when it is not a HELM refusal.
pub fn parse_mcp_error_object(error: &Value) -> Option<McpErrorData> {
    let kind = match error.get("code").and_then(Value::as_i64)? {
        -32060 => "denied",
        -32061 => "approval-pending",
        -32062 => "unavailable",
        _ => return None,
    };
    let mut d = parse_mcp_error(error.get("data")?).ok()?;
    d.kind = Some(kind.to_string());
    Some(d)
}

/// Reads a listed tool's governance from its _meta.
pub fn parse_mcp_tool_governance(meta: &Value) -> Option<McpToolGovernance> {
    let g = meta.get(META_GOVERNANCE).filter(|g| g.is_object())?;
    Some(McpToolGovernance {
        upstream: s(g, "upstream"),
        upstream_tool: s(g, "upstreamTool"),
        domain: s(g, "domain"),
        side_effect: s(g, "sideEffect"),
        approval: s(g, "approval"),
        pinned: g.get("pinned").and_then(Value::as_bool).unwrap_or(false),
        definition_hash: s(g, "definitionHash"),
        conditions: g.get("conditions").and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default(),
    })
}

/// Reads the receipt references from a tools/call result's _meta.
pub fn parse_mcp_receipt(meta: &Value) -> Option<McpReceipt> {
    let r = meta.get(META_RECEIPT).filter(|r| r.is_object())?;
    Some(McpReceipt { verdict: s(r, "verdict"), reason_code: s(r, "reasonCode"), call_id: s(r, "callId"), intent: opt_s(r, "intent"), decision: opt_s(r, "decision"), effect: opt_s(r, "effect"), result: opt_s(r, "result") })
}

/// Reads error.data of a refused tools/call.
pub fn parse_mcp_error(data: &Value) -> Result<McpErrorData, Error> {
    let verdict = s(data, "verdict");
    if verdict.is_empty() {
        return Err(err!("ERR_HELM_META", "error.data is not a HELM refusal"));
    }
    Ok(McpErrorData {
        verdict,
        reason_code: s(data, "reasonCode"),
        call_id: s(data, "callId"),
        receipt: opt_s(data, "receipt"),
        failure: opt_s(data, "failure"),
        challenge: data.get("challenge").filter(|c| c.is_object()).map(Challenge::from_json),
        retry_after_ms: data.get("retryAfterMs").and_then(Value::as_u64),
        kind: None,
    })
}
