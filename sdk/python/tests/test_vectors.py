"""The conformance vectors every SDK runs (docs/sdks.md): docs/spec/vectors (nodes, negative
entries, the tlog-proof), ../shared/vectors (JCS, Wycheproof Ed25519), one tampered copy of each."""
import base64
import json
import re

import pytest

import helm_sdk
from helm_sdk import HelmError, jcs, load_trust, trust_events_of, verify_ed25519, verify_receipt
from conftest import REPO, SPEC_VECTORS, shared

NODES = sorted((SPEC_VECTORS / "nodes").glob("*.json"))
POLICY = (SPEC_VECTORS / "trust-policy.txt").read_text()
PROOF = (SPEC_VECTORS / "log" / "decision-03.tlog-proof").read_text()


def node(name: str) -> dict:
    return json.loads((SPEC_VECTORS / "nodes" / name).read_text())


def trust():
    return load_trust(POLICY, trust_events_of(json.loads(p.read_text())["entry"] for p in NODES))


def code_of(f) -> str:
    try:
        f()
    except HelmError as e:
        return e.code
    return "accepted"


def tamper(entry: str) -> str:
    """The tamper every SDK applies: lamport + 1 in the statement, re-encoded canonically, signatures kept."""
    env = json.loads(entry)
    st = json.loads(base64.b64decode(env["payload"]))
    st["predicate"]["lamport"] += 1
    env["payload"] = base64.b64encode(jcs(st)).decode()
    return jcs(env).decode()


def test_version_is_the_spec_version():
    title = (REPO / "docs" / "spec" / "receipt.md").read_text().split("\n")[0]
    assert title == f"# ProofGraph node (receipt) format, version {helm_sdk.SPEC_VERSION}"
    pyproject = (REPO / "sdk" / "python" / "pyproject.toml").read_text()
    assert re.search(r'^version = "(\d+)\.', pyproject, re.M).group(1) == str(helm_sdk.SPEC_VERSION)
    assert helm_sdk.__version__.split(".")[0] == str(helm_sdk.SPEC_VERSION)


def test_bundled_schemas_are_the_spec_schemas():
    bundled = REPO / "sdk" / "python" / "src" / "helm_sdk" / "schemas"
    names = sorted(p.name for p in bundled.glob("*.json"))
    assert len(names) == 10
    for n in names:
        assert (bundled / n).read_bytes() == (REPO / "docs" / "spec" / "schemas" / n).read_bytes(), n


@pytest.mark.parametrize("path", NODES, ids=lambda p: p.name)
def test_node_verifies(path):
    n = json.loads(path.read_text())
    r = verify_receipt(n["entry"], trust())
    assert (r.kind, r.index, r.entry_hash, r.signers) == (n["kind"], n["index"], n["entryHash"], ["helm-vectors/agent-0/node+4122bc29"])


@pytest.mark.parametrize("path", NODES, ids=lambda p: p.name)
def test_node_tampered_is_a_bad_signature(path):
    assert code_of(lambda: verify_receipt(tamper(json.loads(path.read_text())["entry"]), trust())) == "ERR_SIGNATURE"


def test_without_the_trust_event_no_node_key_is_reachable():
    assert code_of(lambda: verify_receipt(node("03-decision.json")["entry"], load_trust(POLICY))) == "ERR_UNTRUSTED_SIGNER"


NEGATIVE = json.loads((SPEC_VECTORS / "negative.json").read_text())


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c["why"])
def test_negative(case):
    assert code_of(lambda: verify_receipt(case["entry"], trust())) == case["expect"]


def test_tlog_proof_proves_inclusion():
    r = verify_receipt(node("03-decision.json")["entry"], trust(), proof=PROOF)
    assert (r.checkpoint_size, r.log_key) == (9, "helm.mindburn.org/vectors/agent-0+6fb09f64")


def test_tlog_proof_tampered():
    entry = node("03-decision.json")["entry"]
    lines = PROOF.split("\n")
    flipped = list(lines)
    h = bytearray(base64.b64decode(lines[2]))
    h[0] ^= 1
    flipped[2] = base64.b64encode(bytes(h)).decode()
    assert code_of(lambda: verify_receipt(entry, trust(), proof="\n".join(flipped))) == "ERR_TLOG_PROOF_INCLUSION"
    assert code_of(lambda: verify_receipt(node("02-intent.json")["entry"], trust(), proof=PROOF)) == "ERR_TLOG_PROOF_INCLUSION"
    assert code_of(lambda: verify_receipt(entry, trust(), proof=PROOF.replace("index 3", "index 2"))) == "ERR_TLOG_PROOF_INCLUSION"
    forged = list(lines)
    forged[lines.index("9") + 1] = base64.b64encode(bytes([7] * 32)).decode()
    assert code_of(lambda: verify_receipt(entry, trust(), proof="\n".join(forged))) == "ERR_CHECKPOINT_BAD_SIGNATURE"


JCS_NAMES = ["arrays.json", "french.json", "structures.json", "unicode.json", "values.json", "weird.json"]


@pytest.mark.parametrize("name", JCS_NAMES)
def test_jcs_vector_and_a_tampered_expectation(name):
    got = jcs(json.loads(shared("jcs", "input", name).read_text(encoding="utf-8")))
    want = shared("jcs", "output", name).read_bytes()
    assert got == want
    tampered = bytearray(want)
    tampered[len(tampered) // 2] ^= 0x20
    assert got != bytes(tampered)


def test_wycheproof_ed25519_and_flipped_signatures():
    data = json.loads(shared("ed25519", "wycheproof_ed25519_test.json").read_text())
    cases = [(t, bytes.fromhex(g["publicKey"]["pk"])) for g in data["testGroups"] for t in g["tests"]]
    assert len(cases) == 151

    def sig(t):
        return bytes.fromhex(t["sig"]) if re.fullmatch(r"([0-9a-f]{2})*", t["sig"]) else b""

    got = [(t["tcId"], verify_ed25519(pk, bytes.fromhex(t["msg"]), sig(t))) for t, pk in cases]
    assert got == [(t["tcId"], t["result"] == "valid") for t, _ in cases]
    valid = [(t, pk) for t, pk in cases if t["result"] == "valid"]
    assert valid
    flipped = [(t["tcId"], verify_ed25519(pk, bytes.fromhex(t["msg"]), bytes([sig(t)[0] ^ 1]) + sig(t)[1:])) for t, pk in valid]
    assert flipped == [(t["tcId"], False) for t, _ in valid]


MUTATIONS = json.loads((REPO / "test" / "sdk" / "vectors" / "mutations.json").read_text())


def test_byte_flips_give_the_typescript_verifiers_codes():
    """test/sdk/vectors/mutations.json: each entry with one byte XOR 0x01 fails (or, in the
    approver's own signature, passes) exactly as the TypeScript verifier does."""
    t = trust()
    got = []
    for m in MUTATIONS:
        b = bytearray(node(m["node"])["entry"].encode("utf-8"))
        b[m["offset"]] ^= 1
        got.append(code_of(lambda: verify_receipt(bytes(b), t)))
    assert len(MUTATIONS) == 216
    assert [(m["node"], m["offset"], c) for m, c in zip(MUTATIONS, got)] == [(m["node"], m["offset"], m["expect"]) for m in MUTATIONS]


def test_proof_byte_flips_give_the_typescript_verifiers_codes():
    """test/sdk/vectors/proof-mutations.json: the tlog-proof of 03-decision with one byte XOR 0x01."""
    cases = json.loads((REPO / "test" / "sdk" / "vectors" / "proof-mutations.json").read_text())
    entry, t = node("03-decision.json")["entry"], trust()
    got = []
    for m in cases:
        b = bytearray(PROOF.encode("utf-8"))
        b[m["offset"]] ^= 1
        got.append(code_of(lambda: verify_receipt(entry, t, proof=b.decode("utf-8"))))
    assert len(cases) == 48
    assert [(m["offset"], c) for m, c in zip(cases, got)] == [(m["offset"], m["expect"]) for m in cases]


def test_trust_event_byte_flips_give_the_typescript_verifiers_codes():
    """test/sdk/vectors/trust-event-mutations.json: the key event of 01-trust as JSON text, one byte XOR 0x01."""
    d = json.loads((REPO / "test" / "sdk" / "vectors" / "trust-event-mutations.json").read_text())
    got = []
    for m in d["cases"]:
        b = bytearray(d["event"].encode("utf-8"))
        b[m["offset"]] ^= 1
        got.append(code_of(lambda: load_trust(POLICY, [b.decode("utf-8")])))
    assert len(d["cases"]) == 48
    assert [(m["offset"], c) for m, c in zip(d["cases"], got)] == [(m["offset"], m["expect"]) for m in d["cases"]]


@pytest.mark.parametrize("case", json.loads((REPO / "test" / "sdk" / "vectors" / "policies.json").read_text()), ids=lambda c: c["why"])
def test_trust_policy_texts_as_the_typescript_parser_judges_them(case):
    assert code_of(lambda: load_trust(case["text"])) == case["expect"]
