"""Governance of a response, typed: X-Helm-* headers and the ``helm`` body field of the OpenAI
proxy, the ``[HELM]`` lines that replace calls the agent did not receive, and the MCP gateway's
``_meta`` and JSON-RPC error data (docs/sidecar.md, docs/mcp-gateway.md). Same model as the TS SDK."""
import re
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional
from urllib.parse import unquote

from .errors import HelmError

VERDICTS = ("ALLOW", "DENY", "ESCALATE")
META_RECEIPT = "helm.mindburn.org/receipt"
META_GOVERNANCE = "helm.mindburn.org/governance"
RPC_DENIED, RPC_APPROVAL_PENDING, RPC_UNAVAILABLE = -32060, -32061, -32062


def _verdict(v: Any, where: str) -> str:
    if v not in VERDICTS:
        raise HelmError("ERR_GOVERNANCE_MALFORMED", f"{where}: {v!r} is not ALLOW, DENY or ESCALATE")
    return v


@dataclass
class CallGovernance:
    tool_call_id: Optional[str]
    verdict: str
    reason_code: str
    call_id: Optional[str] = None
    tool: Optional[str] = None
    receipt_id: Optional[str] = None
    intent_id: Optional[str] = None
    delivered: Optional[bool] = None
    detail: Optional[str] = None
    approval: Optional[dict] = None
    retry_after_ms: Optional[int] = None


@dataclass
class Governance:
    verdict: Optional[str]
    reason_code: Optional[str]
    receipt_id: Optional[str]
    approval_id: Optional[str]
    calls: List[CallGovernance] = field(default_factory=list)
    tools_removed: List[dict] = field(default_factory=list)
    truncated: bool = False


def parse_decision_list(value: str):
    """``id=VERDICT:REASON, ...`` (ids URI-encoded, ``...`` when cut at 32) -> ([(id, verdict, reason)], truncated)."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    truncated = bool(parts) and parts[-1] == "..."
    out = []
    for p in parts[:-1] if truncated else parts:
        m = re.fullmatch(r"([^=]*)=([A-Z]+):([A-Z0-9_]+)", p)
        if not m:
            raise HelmError("ERR_GOVERNANCE_MALFORMED", f"X-Helm-Decisions: {p!r} is not id=VERDICT:REASON_CODE")
        out.append((unquote(m.group(1)), _verdict(m.group(2), "X-Helm-Decisions"), m.group(3)))
    return out, truncated


def helm_field(body: Any) -> Optional[dict]:
    if not isinstance(body, dict):
        return None
    h = body.get("helm")
    if h is None and isinstance(body.get("error"), dict):
        h = body["error"].get("helm")
    return h if isinstance(h, dict) else None


def read_governance(headers: Mapping[str, str], body: Any = None) -> Governance:
    """From a proxied chat completion's headers (any case-insensitive mapping, e.g. httpx.Headers)
    and, when given, its parsed JSON body (whose ``helm`` field is complete)."""
    h = {k.lower(): v for k, v in headers.items()}
    entries, truncated = parse_decision_list(h["x-helm-decisions"]) if "x-helm-decisions" in h else ([], False)
    helm = helm_field(body)
    views = helm.get("decisions") if helm else None
    if isinstance(views, list):
        calls = [
            CallGovernance(
                tool_call_id=v.get("toolCallId"), verdict=_verdict(v.get("verdict"), "helm.decisions[].verdict"), reason_code=str(v.get("reasonCode")),
                call_id=v.get("callId"), tool=v.get("tool"), receipt_id=v.get("receiptId"), intent_id=v.get("intentId"),
                delivered=v.get("delivered"), detail=v.get("detail"), approval=v.get("approval"), retry_after_ms=v.get("retryAfterMs"),
            )
            for v in views
        ]
        truncated = False
    else:
        calls = [CallGovernance(tool_call_id=i, verdict=v, reason_code=r) for i, v, r in entries]
    removed_views = helm.get("toolsRemoved") if helm else None
    if isinstance(removed_views, list):
        removed = [{"tool": v.get("tool"), "verdict": _verdict(v.get("verdict"), "helm.toolsRemoved[].verdict"), "reasonCode": v.get("reasonCode")} for v in removed_views]
    elif "x-helm-tools-removed" in h:
        removed = [{"tool": t, "verdict": v, "reasonCode": r} for t, v, r in parse_decision_list(h["x-helm-tools-removed"])[0]]
    else:
        removed = []
    verdict = h.get("x-helm-decision")
    return Governance(
        verdict=None if verdict is None else _verdict(verdict, "X-Helm-Decision"),
        reason_code=h.get("x-helm-reason-code"),
        receipt_id=h.get("x-helm-receipt-id"),
        approval_id=h.get("x-helm-approval-id"),
        calls=calls,
        tools_removed=removed,
        truncated=truncated,
    )


@dataclass
class HelmNotice:
    tool: str
    tool_call_id: Optional[str]
    verdict: str
    reason_code: str
    kind: str  # refused (by the proxy), blocked (by policy), approval
    receipt_id: Optional[str]
    approval_id: Optional[str]
    decision: Optional[str]
    text: str


_Q = r'"((?:[^"\\]|\\.)*)"'
_NOTICE = re.compile(
    rf"^\[HELM\] The tool call {_Q}(?: \(id {_Q}\))? (needs approval {_Q} \(\d+ of \d+ approvers\) before it can run|needs an approval before it can run|was refused by the proxy|was blocked by policy): (ALLOW|DENY|ESCALATE) ([A-Z0-9_]+)\."
)


def _unescape(s: str) -> str:
    return re.sub(r'\\u\{([0-9a-f]+)\}|\\(["\\])', lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), s)


def parse_helm_content(content: str) -> List[HelmNotice]:
    """Every ``[HELM]`` line of a message's content; other lines are ignored."""
    out = []
    for line in content.split("\n"):
        m = _NOTICE.match(line)
        if not m:
            continue
        how = m.group(3)
        receipt = re.search(r" Receipt: (sha256:[0-9a-f]{64})\.$", line)
        approval = re.search(r" Approval id ([A-Za-z0-9_-]+), decision (sha256:[0-9a-f]{64});", line)
        out.append(HelmNotice(
            tool=_unescape(m.group(1)), tool_call_id=None if m.group(2) is None else _unescape(m.group(2)),
            verdict=_verdict(m.group(5), "[HELM] verdict"), reason_code=m.group(6),
            kind="approval" if how.startswith("needs") else "refused" if "proxy" in how else "blocked",
            receipt_id=receipt.group(1) if receipt else None,
            approval_id=approval.group(1) if approval else None, decision=approval.group(2) if approval else None, text=line,
        ))
    return out


@dataclass
class McpCallGovernance:
    verdict: str
    reason_code: str
    receipts: dict
    receipt: Optional[str]
    refusal: Optional[dict]


def _last(r: dict) -> Optional[str]:
    return r.get("result") or r.get("effect") or r.get("decision") or r.get("intent")


def mcp_result_governance(result: Mapping[str, Any]) -> Optional[McpCallGovernance]:
    """A CallToolResult's ``_meta`` receipt (the call ran); None without one."""
    m = (result.get("_meta") or {}).get(META_RECEIPT)
    if not isinstance(m, dict):
        return None
    receipts = {k: v for k, v in m.items() if k not in ("verdict", "reasonCode")}
    return McpCallGovernance(_verdict(m.get("verdict"), f"_meta[{META_RECEIPT}].verdict"), str(m.get("reasonCode")), receipts, _last(receipts), None)


def mcp_error_governance(error: Mapping[str, Any]) -> Optional[McpCallGovernance]:
    """A gateway JSON-RPC error (-32060 denied, -32061 approval pending, -32062 unavailable); None for others."""
    kinds = {RPC_DENIED: "denied", RPC_APPROVAL_PENDING: "approval-pending", RPC_UNAVAILABLE: "unavailable"}
    d = error.get("data")
    if error.get("code") not in kinds or not isinstance(d, dict):
        return None
    receipts = d.get("receipts") or {"callId": d.get("callId")}
    refusal = {"code": error["code"], "kind": kinds[error["code"]], "message": error.get("message"), "failure": d.get("failure"), "challenge": d.get("challenge"), "retryAfterMs": d.get("retryAfterMs")}
    return McpCallGovernance(_verdict(d.get("verdict"), "error.data.verdict"), str(d.get("reasonCode")), receipts, d.get("receipt") or _last(receipts), refusal)


def mcp_tool_governance(tool: Mapping[str, Any]) -> Optional[dict]:
    """How the gateway governs a listed tool (tools/list ``_meta``)."""
    g = (tool.get("_meta") or {}).get(META_GOVERNANCE)
    return g if isinstance(g, dict) else None
