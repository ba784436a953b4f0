"""Against a live ``helmctl serve`` started by test/sdk/python.test.ts (env contract:
test/sdk/live-sidecar.ts). The agent keeps the OpenAI wire format over httpx; the SDK's event hook
reads the governance, receipts verify offline, and an approval signed here is accepted."""
import json
import os
from pathlib import Path

import httpx
import pytest

from helm_sdk import ApprovalsClient, GovernanceRecorder, HelmError, SigningKey, load_trust, parse_helm_content, verify_receipt

ENV = os.environ
pytestmark = pytest.mark.skipif("HELM_SDK_BASE_URL" not in ENV, reason="no live sidecar: run through jest (test/sdk/python.test.ts), which starts one and sets HELM_SDK_*")


def ask(http: httpx.Client, prompt: str) -> dict:
    r = http.post(f"{ENV['HELM_SDK_BASE_URL']}/chat/completions", json={"model": ENV["HELM_SDK_MODEL"], "messages": [{"role": "user", "content": prompt}]}, headers={"authorization": "Bearer agent-own-key"})
    assert r.status_code == 200, r.text
    return r.json()


def receipt(receipt_id: str, events):
    pack = Path(ENV["HELM_SDK_PACK_DIR"]) / "receipts"
    hexid = receipt_id.split(":", 1)[1]
    trust = load_trust(Path(ENV["HELM_SDK_TRUST_POLICY"]).read_text(), events)
    return verify_receipt((pack / f"{hexid}.json").read_bytes(), trust, proof=(pack / f"{hexid}.tlog-proof").read_text())


def test_allowed_denied_escalated_and_approved():
    rec = GovernanceRecorder()
    http = httpx.Client(timeout=20, event_hooks={"response": [rec.hook]})

    ask(http, ENV["HELM_SDK_PROMPT_ALLOWED"])
    a = rec.last
    assert (a.verdict, a.reason_code, [(c.tool, c.verdict, c.delivered) for c in a.calls]) == ("ALLOW", "ALLOWED", [(ENV["HELM_SDK_TOOL_ALLOWED"], "ALLOW", True)])

    denied = ask(http, ENV["HELM_SDK_PROMPT_DENIED"])
    d = rec.last
    assert (d.verdict, [(c.tool, c.verdict, c.delivered) for c in d.calls]) == ("DENY", [(ENV["HELM_SDK_TOOL_DENIED"], "DENY", False)])
    notices = parse_helm_content(denied["choices"][0]["message"]["content"])
    assert [(n.tool, n.verdict, n.reason_code, n.receipt_id) for n in notices] == [(ENV["HELM_SDK_TOOL_DENIED"], "DENY", d.reason_code, d.receipt_id)]

    ask(http, ENV["HELM_SDK_PROMPT_ESCALATED"])
    e = rec.last
    assert (e.verdict, e.reason_code) == ("ESCALATE", "APPROVAL_REQUIRED")
    approvals = ApprovalsClient(ENV["HELM_SDK_ADMIN_URL"])
    assert [(p["nonce"], p["tool"]) for p in approvals.list()] == [(e.approval_id, ENV["HELM_SDK_TOOL_ESCALATED"])]
    key = SigningKey.from_file(ENV["HELM_SDK_APPROVER_KEY"])
    assert key.verifier.handle == ENV["HELM_SDK_APPROVER_HANDLE"]
    accepted = approvals.answer(e.approval_id, key)
    assert (accepted["accepted"], accepted["approvals"], accepted["quorum"]) == (True, 1, 1)
    ask(http, ENV["HELM_SDK_PROMPT_ESCALATED"])
    r = rec.last
    assert (r.verdict, r.reason_code) == ("ALLOW", "APPROVAL_GRANTED")

    assert httpx.post(ENV["HELM_SDK_EXPORT_URL"], timeout=30).status_code == 200
    events = [json.loads(line) for line in (Path(ENV["HELM_SDK_PACK_DIR"]) / "trust-events.jsonl").read_text().splitlines()]
    verified = [receipt(h, events) for h in (a.receipt_id, d.receipt_id, accepted["receipt"], r.receipt_id)]
    assert [(v.kind, v.body["verdict"], v.body.get("reasonCode"), v.checkpoint_size is not None) for v in verified] == [
        ("decision", "ALLOW", "ALLOWED", True),
        ("decision", "DENY", d.reason_code, True),
        ("approval", "approve", None, True),
        ("decision", "ALLOW", "APPROVAL_GRANTED", True),
    ]
    with pytest.raises(HelmError) as err:
        receipt(a.receipt_id, [])
    assert err.value.code == "ERR_UNTRUSTED_SIGNER"


def test_a_signature_by_another_key_is_refused_by_the_sidecar():
    http = httpx.Client(timeout=20)
    ask(http, ENV["HELM_SDK_PROMPT_ESCALATED"])
    approvals = ApprovalsClient(ENV["HELM_SDK_ADMIN_URL"])
    pending = approvals.list()[-1]
    stranger = SigningKey("PRIVATE+KEY+sdk-stranger+" + _stranger_suffix())
    with pytest.raises(HelmError) as err:
        approvals.answer(pending["nonce"], stranger)
    assert (err.value.code, err.value.status) == ("ERR_APPROVAL_WRONG_KEY", 403)


def _stranger_suffix() -> str:
    """key id + base64(0x01 || seed) of a fixed key no bundle lists."""
    import base64
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from helm_sdk.keys import key_id

    seed = bytes(range(32))
    pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{key_id('sdk-stranger', 1, pub)}+{base64.b64encode(bytes([1]) + seed).decode()}"


def test_async_hook_reports_the_same_governance():
    import asyncio

    from helm_sdk import async_governance_hook

    seen = []

    async def main():
        async with httpx.AsyncClient(timeout=20, event_hooks={"response": [async_governance_hook(lambda g, _r: seen.append(g))]}) as http:
            r = await http.post(f"{ENV['HELM_SDK_BASE_URL']}/chat/completions", json={"model": ENV["HELM_SDK_MODEL"], "messages": [{"role": "user", "content": ENV["HELM_SDK_PROMPT_DENIED"]}]})
            return r.json()

    body = asyncio.run(main())
    assert [(g.verdict, [c.tool for c in g.calls]) for g in seen] == [("DENY", [ENV["HELM_SDK_TOOL_DENIED"]])]
    assert body["helm"]["decisions"][0]["receiptId"] == seen[0].receipt_id
