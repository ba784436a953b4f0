"""Governance parsing against test/sdk/vectors/governance.json: what the sidecar's own formatters
write (regenerated and checked by test/sdk/ts/governance.test.ts) and what every SDK must read."""
import json

import pytest

from conftest import REPO
from helm_sdk import HelmError, mcp_error_governance, mcp_result_governance, mcp_tool_governance, parse_helm_content, read_governance

CASES = json.loads((REPO / "test" / "sdk" / "vectors" / "governance.json").read_text(encoding="utf-8"))


def call_view(c):
    return {"toolCallId": c.tool_call_id, "tool": c.tool, "verdict": c.verdict, "reasonCode": c.reason_code, "receiptId": c.receipt_id, "delivered": c.delivered, "approvalNonce": (c.approval or {}).get("nonce")}


def test_completion_headers_and_body():
    c = CASES["completion"]
    g = read_governance(c["headers"], c["body"])
    e = c["expect"]
    assert (g.verdict, g.reason_code, g.receipt_id, g.approval_id, g.truncated, g.tools_removed) == (e["verdict"], e["reasonCode"], e["receiptId"], e["approvalId"], e["truncated"], e["toolsRemoved"])
    assert [call_view(x) for x in g.calls] == e["calls"]
    only = read_governance(c["headers"])
    assert [(x.tool_call_id, x.verdict, x.reason_code) for x in only.calls] == [(x["toolCallId"], x["verdict"], x["reasonCode"]) for x in e["calls"]]


def test_header_lists_cut_at_32_are_truncated():
    c = CASES["headersOnly"]
    g = read_governance(c["headers"])
    assert (g.verdict, g.reason_code, g.truncated, [x.tool_call_id for x in g.calls]) == (c["expect"]["verdict"], c["expect"]["reasonCode"], True, c["expect"]["callIds"])


def test_helm_notices():
    got = [{"tool": n.tool, "toolCallId": n.tool_call_id, "verdict": n.verdict, "reasonCode": n.reason_code, "kind": n.kind, "receiptId": n.receipt_id, "approvalId": n.approval_id, "decision": n.decision} for n in parse_helm_content(CASES["notices"]["content"])]
    assert got == CASES["notices"]["expect"]


def test_mcp():
    m = CASES["mcp"]
    r = mcp_result_governance(m["result"])
    assert (r.verdict, r.reason_code, r.receipt) == (m["resultExpect"]["verdict"], m["resultExpect"]["reasonCode"], m["resultExpect"]["receipt"])
    for case, want in (("denied", "deniedExpect"), ("pending", "pendingExpect")):
        g = mcp_error_governance(m[case])
        assert {"verdict": g.verdict, "reasonCode": g.reason_code, "receipt": g.receipt, "kind": g.refusal["kind"], "approvalNonce": (g.refusal["challenge"] or {}).get("nonce")} == m[want]
    assert mcp_error_governance(m["otherError"]) is None
    assert mcp_tool_governance(m["tool"])["sideEffect"] == "read"
    assert mcp_result_governance({"content": []}) is None


def test_a_verdict_outside_the_three_is_refused():
    with pytest.raises(HelmError) as e:
        read_governance({"X-Helm-Decision": "MAYBE"})
    assert e.value.code == "ERR_GOVERNANCE_MALFORMED"
