"""Receipts with non-ASCII text (docs/sdks.md §Conformance): the spec vector
examples/intent-unicode.json verifies, and each entry of test/sdk/vectors/unicode.json (written by
the TypeScript suite) gives exactly the TypeScript verifier's code."""
import base64
import hashlib
import json

import pytest

from helm_sdk import HelmError, jcs, load_trust, trust_events_of, verify_receipt
from conftest import REPO, SPEC_VECTORS

EXAMPLE = json.loads((SPEC_VECTORS / "examples" / "intent-unicode.json").read_text(encoding="utf-8"))
CASES = json.loads((REPO / "test" / "sdk" / "vectors" / "unicode.json").read_text(encoding="utf-8"))


def trust():
    trust_node = json.loads((SPEC_VECTORS / "nodes" / "01-trust.json").read_text(encoding="utf-8"))
    return load_trust((SPEC_VECTORS / "trust-policy.txt").read_text(encoding="utf-8"), trust_events_of([trust_node["entry"]]))


def code_of(f) -> str:
    try:
        f()
    except HelmError as e:
        return e.code
    return "accepted"


def test_intent_unicode_rebuilt_from_its_envelope_verifies():
    entry = jcs(EXAMPLE["envelope"])
    assert entry.isascii()
    assert "sha256:" + hashlib.sha256(entry).hexdigest() == EXAMPLE["entryHash"]
    assert base64.b64decode(EXAMPLE["envelope"]["payload"]) == EXAMPLE["payloadJcs"].encode("utf-8")
    assert jcs(EXAMPLE["statement"]) == EXAMPLE["payloadJcs"].encode("utf-8")
    r = verify_receipt(entry, trust())
    assert (r.kind, r.index, r.entry_hash, r.signers) == ("intent", 0, EXAMPLE["entryHash"], ["helm-vectors/agent-0/node+4122bc29"])
    assert r.body == EXAMPLE["statement"]["predicate"]["body"]
    assert list(r.body["args"]) == ["path", "é", "😀", "\ue000"]


def test_unicode_vectors_cover_every_check_they_name():
    assert len(CASES) == 31
    assert {c["expect"] for c in CASES} == {"accepted", "ERR_NOT_CANONICAL", "ERR_NOT_UTF8", "ERR_SCHEMA", "ERR_SIGNATURE", "ERR_SUBJECT_DIGEST"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["why"])
def test_unicode_vector(case):
    assert code_of(lambda: verify_receipt(case["entry"], trust())) == case["expect"]


def test_schema_patterns_are_ecmascript_patterns():
    from helm_sdk import schema

    h = "sha256:" + "0a" * 32
    assert schema._pattern("^sha256:[0-9a-f]{64}$").search(h)
    assert not schema._pattern("^sha256:[0-9a-f]{64}$").search(h + "\n")
    key = schema._pattern("^[^+\\s]+\\+[0-9a-f]{8}$")
    assert key.search("é😀\u0085\u001c+0123abcd")  # not ECMAScript white space (Python's \s has both)
    assert not key.search("a\u00a0b+0123abcd")
    assert not key.search("a\ufeff+0123abcd")  # ECMAScript white space (not Python's \s)
    assert schema._pattern("^a\\sb$").search("a\u3000b")  # \s outside a class
    assert not schema._pattern("^a\\sb$").search("a\u0085b")
    assert not schema._pattern("^[^\\s]+$").search("a\u2029")
