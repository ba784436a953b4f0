"""The SDK on the MCP surface of the live sidecar (HELM_SDK_MCP_URL; server-everything's echo):
governance from a result's ``_meta`` and from a refusal's JSON-RPC error, receipts verified offline.
A minimal Streamable HTTP JSON-RPC client stands in for an MCP SDK (none is packaged in Debian)."""
import json
import os
import time
from pathlib import Path

import httpx
import pytest

from helm_sdk import load_trust, mcp_error_governance, mcp_result_governance, mcp_tool_governance, verify_receipt

ENV = os.environ
pytestmark = pytest.mark.skipif(not ENV.get("HELM_SDK_MCP_URL"), reason="no live MCP gateway: run through jest (test/sdk/python.test.ts), which starts one and sets HELM_SDK_MCP_URL")


class Rpc:
    def __init__(self, url: str) -> None:
        self.url, self.http, self.session, self.seq = url, httpx.Client(timeout=20), None, 0

    def _post(self, msg: dict) -> httpx.Response:
        headers = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}
        if self.session:
            headers["mcp-session-id"] = self.session
        return self.http.post(self.url, json=msg, headers=headers)

    def call(self, method: str, params: dict) -> dict:
        self.seq += 1
        r = self._post({"jsonrpc": "2.0", "id": self.seq, "method": method, "params": params})
        self.session = r.headers.get("mcp-session-id", self.session)
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            datas = [line[len("data:"):].strip() for line in r.text.splitlines() if line.startswith("data:")]
            return next(m for m in map(json.loads, datas) if m.get("id") == self.seq)
        return r.json()

    def notify(self, method: str) -> None:
        self._post({"jsonrpc": "2.0", "method": method})


def test_mcp_result_and_refusal_governance():
    rpc = Rpc(ENV["HELM_SDK_MCP_URL"])
    rpc.call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "helm-sdk-python-test", "version": "1"}})
    rpc.notify("notifications/initialized")
    tool = None
    for _ in range(200):  # the upstream starts in parallel with the sidecar
        tool = next((t for t in rpc.call("tools/list", {})["result"]["tools"] if t["name"] == "everything__echo"), None)
        if tool:
            break
        time.sleep(0.05)
    assert mcp_tool_governance(tool)["upstreamTool"] == "echo"

    ok = mcp_result_governance(rpc.call("tools/call", {"name": "everything__echo", "arguments": {"message": "hello"}})["result"])
    assert (ok.verdict, ok.reason_code, ok.receipt == ok.receipts["result"]) == ("ALLOW", "ALLOWED", True)
    denied = mcp_error_governance(rpc.call("tools/call", {"name": "everything__echo", "arguments": {"message": "my password is hunter2"}})["error"])
    assert (denied.verdict, denied.reason_code, denied.refusal["kind"], denied.receipt == denied.receipts["decision"]) == ("DENY", "POLICY_VIOLATION", "denied", True)

    assert httpx.post(ENV["HELM_SDK_EXPORT_URL"], timeout=30).status_code == 200
    pack = Path(ENV["HELM_SDK_PACK_DIR"])
    events = [json.loads(line) for line in (pack / "trust-events.jsonl").read_text().splitlines()]
    trust = load_trust(Path(ENV["HELM_SDK_TRUST_POLICY"]).read_text(), events)

    def verify(h: str):
        hexid = h.split(":", 1)[1]
        return verify_receipt((pack / "receipts" / f"{hexid}.json").read_bytes(), trust, proof=(pack / "receipts" / f"{hexid}.tlog-proof").read_text())

    result, decision = verify(ok.receipt), verify(denied.receipt)
    assert (result.kind, result.body["status"], decision.kind, decision.body["verdict"], decision.body["tool"]) == ("result", "ok", "decision", "DENY", "everything__echo")
