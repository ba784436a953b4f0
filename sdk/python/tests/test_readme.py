"""The examples of sdk/python/README.md run as written against the live sidecar (see test_live.py)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import REPO

ENV = os.environ
pytestmark = pytest.mark.skipif("HELM_SDK_BASE_URL" not in ENV, reason="no live sidecar: run through jest (test/sdk/python.test.ts), which starts one and sets HELM_SDK_*")
SRC = REPO / "sdk" / "python" / "src"


def run(code: str, args, env) -> list:
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env={"PATH": ENV.get("PATH", ""), "PYTHONPATH": str(SRC), **env}, timeout=60)
    assert (r.returncode, r.stderr) == (0, "")
    return r.stdout.strip().split("\n")


def test_readme_examples():
    govern, verify = re.findall(r"```python\n(.*?)```", (REPO / "sdk" / "python" / "README.md").read_text(), re.S)
    out = run(govern, [], {"HELM_BASE_URL": ENV["HELM_SDK_BASE_URL"], "HELM_ADMIN_URL": ENV["HELM_SDK_ADMIN_URL"], "PROMPT": ENV["HELM_SDK_PROMPT_ESCALATED"], "APPROVER_KEY": ENV["HELM_SDK_APPROVER_KEY"]})
    assert re.match(r'^\[HELM\] The tool call "billing\.refund" \(id "call_sdk_\d+"\) needs approval "manager"', out[0])
    verdict, reason, receipt = out[-1].split(" ")
    assert (verdict, reason) == ("ALLOW", "APPROVAL_GRANTED")

    assert httpx.post(ENV["HELM_SDK_EXPORT_URL"], timeout=30).status_code == 200
    pack = Path(ENV["HELM_SDK_PACK_DIR"])
    hexid = receipt.split(":", 1)[1]
    files = [str(pack / "receipts" / f"{hexid}.json"), str(pack / "receipts" / f"{hexid}.tlog-proof"), ENV["HELM_SDK_TRUST_POLICY"], str(pack / "trust-events.jsonl")]
    lines = run(verify, files, {})
    assert len(lines) == 1 and re.fullmatch(r"decision ALLOW APPROVAL_GRANTED index \d+ of helm\.test/agent-pod-1, checkpoint \d+", lines[0]), lines
