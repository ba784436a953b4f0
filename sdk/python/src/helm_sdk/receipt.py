"""Offline verification of one receipt (ProofGraph node, docs/spec/receipt.md §8 steps 1, 2, 4, 5)
and its tlog-proof, with the same checks in the same order as the TypeScript verifier, so both
reject the same entries with the same codes. Step 3 (prev, lamport, time along the log) needs the
neighbouring entries and is the evidence pack verifier's job (``helmctl verify``)."""
import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Union

from . import schema
from .errors import HelmError
from .jcs import jcs, signed_profile_problem
from .keys import ALG_ED25519, VerifierKey, b64decode_strict, parse_vkey, verify_ed25519
from .tlog import TrustPolicy, parse_trust_policy, verify_tlog_proof

IN_TOTO = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_BASE = "https://helm.mindburn.org/proofgraph/"
TRUST_EVENT_TYPE = "https://helm.mindburn.org/trust/key-event/v1"
KINDS = ("intent", "decision", "effect", "result", "trust", "heartbeat", "gap", "approval")
MAX_ENTRY_BYTES = 65535


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def _reject_constant(c: str) -> None:
    raise ValueError(f"{c} is not JSON")


def parse_json_strict(b: bytes, what: str) -> Any:
    try:
        # "utf-8-sig" drops one leading byte order mark, as the TypeScript verifier's decoder does:
        # such bytes then fail the canonical-form check (ERR_NOT_CANONICAL), not the JSON parse.
        text = b.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HelmError("ERR_NOT_UTF8", f"{what} is not valid UTF-8") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as e:
        raise HelmError("ERR_NOT_JSON", f"{what} is not JSON: {e}") from None


def _envelope_shape(v: Any, code: str):
    if not isinstance(v, dict):
        raise HelmError(code, "envelope is not an object")
    if sorted(v) != ["payload", "payloadType", "signatures"]:
        raise HelmError(code, f"envelope has fields {sorted(v)}, expected payload, payloadType, signatures")
    if not isinstance(v["payload"], str) or not isinstance(v["payloadType"], str):
        raise HelmError(code, "payload and payloadType must be strings")
    sigs = v["signatures"]
    if not isinstance(sigs, list) or not 1 <= len(sigs) <= 16:
        raise HelmError(code, "signatures must be an array of 1 to 16 entries")
    try:
        payload = b64decode_strict(v["payload"], "payload")
        out = []
        for i, s in enumerate(sigs):
            if not isinstance(s, dict) or sorted(s) != ["keyid", "sig"] or not isinstance(s["keyid"], str) or not isinstance(s["sig"], str):
                raise HelmError(code, f"signature {i} must have exactly string fields keyid and sig")
            out.append((s["keyid"], b64decode_strict(s["sig"], f"signature {i}")))
    except ValueError as e:
        raise HelmError(code, str(e)) from None
    return payload, out


class TrustRegistry:
    """Node keys the policy's root published (KEY_PUBLISH / KEY_ROTATE / KEY_REVOKE), by log position."""

    def __init__(self, root: Optional[VerifierKey]) -> None:
        self.root = root
        self._records: Dict[tuple, dict] = {}

    def _record(self, origin: str, key: VerifierKey) -> dict:
        return self._records.setdefault((origin, key.handle), {"key": key, "from": None, "rotated": None, "revoked": None})

    def apply(self, envelope: Any) -> dict:
        """Verifies a root-signed key event (DSSE envelope, object or JSON text) and folds it in."""
        if self.root is None:
            raise HelmError("ERR_TRUST_NO_ROOT", "the trust policy names no root key, so no trust event can be accepted")
        if isinstance(envelope, (str, bytes)):
            try:
                envelope = json.loads(envelope, parse_constant=_reject_constant)
            except ValueError as e:
                raise HelmError("ERR_TRUST_EVENT_INVALID", f"trust event is not JSON: {e}") from None
        payload, sigs = _envelope_shape(envelope, "ERR_TRUST_EVENT_INVALID")
        if envelope["payloadType"] != IN_TOTO:
            raise HelmError("ERR_TRUST_EVENT_INVALID", "trust event payloadType is not in-toto")
        try:
            st = parse_json_strict(payload, "trust event")
        except HelmError as e:
            raise HelmError("ERR_TRUST_EVENT_INVALID", e.detail) from None
        if jcs(st) != payload:
            raise HelmError("ERR_TRUST_EVENT_INVALID", "trust event payload is not canonical JSON")
        p = schema.problem(schema.load("trust-event.v1.json"), st)
        if p:
            raise HelmError("ERR_TRUST_EVENT_INVALID", f"trust event {p}")
        ev = st["predicate"]
        if hashlib.sha256(jcs(ev)).hexdigest() != st["subject"][0]["digest"]["sha256"]:
            raise HelmError("ERR_TRUST_EVENT_INVALID", "trust event subject digest mismatch")
        try:
            key = parse_vkey(ev["key"])
            new_key = parse_vkey(ev["newKey"]) if "newKey" in ev else None
        except HelmError as e:
            raise HelmError("ERR_TRUST_EVENT_INVALID", f"trust event key: {e.detail}") from None
        if ev.get("purpose") == "log":
            if ev["event"] != "KEY_PUBLISH" or ev["fromIndex"] != 0 or key.name != ev["origin"]:
                raise HelmError("ERR_TRUST_EVENT_INVALID", "a log-key event must be a KEY_PUBLISH from index 0 of a key named after the origin")
            named = [key]
        elif ev["event"] == "KEY_PUBLISH":
            named = [key]
        elif ev["event"] == "KEY_ROTATE":
            if new_key is None:
                raise HelmError("ERR_TRUST_EVENT_INVALID", "KEY_ROTATE needs newKey")
            named = [key, new_key]
        else:
            named = []
        if any(k.alg != ALG_ED25519 for k in named):
            raise HelmError("ERR_TRUST_EVENT_INVALID", "node keys must be Ed25519 note keys (type 0x01)")
        msg = pae(IN_TOTO, payload)
        for need in [self.root, *named]:
            sig = next((s for kid, s in sigs if kid == need.handle), None)
            if sig is None:
                raise HelmError("ERR_TRUST_EVENT_UNAUTHORISED", f"{ev['event']} for {ev['origin']} lacks a signature by {need.handle}")
            if not verify_ed25519(need.public_key, msg, sig):
                raise HelmError("ERR_TRUST_EVENT_UNAUTHORISED", f"{ev['event']} for {ev['origin']}: bad signature by {need.handle}")
        if ev.get("purpose") == "log":
            return ev  # log keys never sign nodes
        i = ev["fromIndex"]
        if ev["event"] == "KEY_PUBLISH":
            r = self._record(ev["origin"], key)
            r["from"] = i if r["from"] is None else min(r["from"], i)
        elif ev["event"] == "KEY_ROTATE":
            old = self._record(ev["origin"], key)
            old["rotated"] = i if old["rotated"] is None else min(old["rotated"], i)
            new = self._record(ev["origin"], named[1])
            new["from"] = i if new["from"] is None else min(new["from"], i)
        else:
            r = self._record(ev["origin"], key)
            r["revoked"] = i if r["revoked"] is None else min(r["revoked"], i)
        return ev

    def resolve(self, handle: str, origin: str, index: int) -> Union[VerifierKey, str]:
        """The key valid for (origin, index), or the reason there is none."""
        if self.root is None:
            return "no root key in the trust policy"
        r = self._records.get((origin, handle))
        if r is None or r["from"] is None:
            return f"key {handle} was never published by the root key for {origin}"
        if r["revoked"] is not None and index >= r["revoked"]:
            return f"key {handle} is revoked for {origin} from index {r['revoked']}"
        if r["rotated"] is not None and index >= r["rotated"]:
            return f"key {handle} was rotated out of {origin} at index {r['rotated']}"
        if index < r["from"]:
            return f"key {handle} is valid for {origin} only from index {r['from']}"
        return r["key"]


@dataclass
class Trust:
    policy: TrustPolicy
    registry: TrustRegistry


def load_trust(policy_text: str, events: Iterable[Any] = (), source: str = "trust policy") -> Trust:
    """A trust policy file plus the root-signed key events that publish node keys."""
    policy = parse_trust_policy(policy_text, source)
    registry = TrustRegistry(policy.root)
    for ev in events:
        registry.apply(ev)
    return Trust(policy, registry)


@dataclass
class Node:
    kind: str
    statement: dict
    entry: bytes
    entry_hash: str
    pae: bytes
    signatures: List[tuple]

    @property
    def body(self) -> dict:
        return self.statement["predicate"]["body"]


def decode_node(entry: Union[bytes, str]) -> Node:
    """receipt.md §8 steps 1-2: canonical form at both layers, envelope shape, payload type, schema, subject digest."""
    b = entry.encode("utf-8") if isinstance(entry, str) else bytes(entry)
    if len(b) > MAX_ENTRY_BYTES:
        raise HelmError("ERR_ENTRY_TOO_LARGE", f"entry is {len(b)} bytes")
    raw = parse_json_strict(b, "entry")
    payload, sigs = _envelope_shape(raw, "ERR_ENVELOPE_MALFORMED")
    if jcs(raw) != b:
        raise HelmError("ERR_NOT_CANONICAL", "entry is not the JCS form of its envelope")
    if raw["payloadType"] != IN_TOTO:
        raise HelmError("ERR_PAYLOAD_TYPE", f"payloadType {raw['payloadType']} is not {IN_TOTO}")
    st = parse_json_strict(payload, "payload")
    pt = st.get("predicateType") if isinstance(st, dict) else None
    kind = pt[len(PREDICATE_BASE) : -len("/v1")] if isinstance(pt, str) and pt.startswith(PREDICATE_BASE) and pt.endswith("/v1") else None
    if kind not in KINDS:
        raise HelmError("ERR_PREDICATE_TYPE", f"unknown predicateType {pt} (expected {PREDICATE_BASE}<kind>/v1)")
    p = schema.problem(schema.load(f"{kind}.v1.json"), st)
    if p:
        raise HelmError("ERR_SCHEMA", f"{kind} statement {p}")
    for what, v in (("body", st["predicate"]["body"]), ("parents", st["predicate"]["parents"])):
        p = signed_profile_problem(v)
        if p:
            raise HelmError("ERR_SCHEMA", f"{what}: {p}")
    if jcs(st) != payload:
        raise HelmError("ERR_NOT_CANONICAL", "payload is not the JCS form of its statement")
    if hashlib.sha256(jcs(st["predicate"]["body"])).hexdigest() != st["subject"][0]["digest"]["sha256"]:
        raise HelmError("ERR_SUBJECT_DIGEST", "subject digest does not match the predicate body")
    return Node(kind, st, b, "sha256:" + hashlib.sha256(b).hexdigest(), pae(IN_TOTO, payload), sigs)


def trust_events_of(entries: Iterable[Union[bytes, str]]) -> List[dict]:
    """The key events carried by the ``trust`` receipts among ``entries``."""
    return [n.body["event"] for n in map(decode_node, entries) if n.kind == "trust"]


@dataclass
class VerifiedReceipt:
    kind: str
    entry_hash: str
    origin: str
    index: int
    statement: dict
    body: dict
    signers: List[str]
    checkpoint_size: Optional[int]
    log_key: Optional[str]


def verify_receipt(entry: Union[bytes, str], trust: Trust, proof: Optional[str] = None) -> VerifiedReceipt:
    """Verifies one receipt (the entry bytes exactly as logged) and, with ``proof``, its inclusion.
    Raises HelmError with the code of the first failed check."""
    node = decode_node(entry)
    origin, index = node.statement["predicate"]["origin"], node.statement["predicate"]["index"]
    signers, refused = [], []
    for keyid, sig in node.signatures:
        key = trust.registry.resolve(keyid, origin, index)
        if isinstance(key, str):
            refused.append(f"{keyid}: {key}")
            continue
        if not verify_ed25519(key.public_key, node.pae, sig):
            raise HelmError("ERR_SIGNATURE", f"signature by {keyid} does not verify: the receipt was altered after signing")
        signers.append(keyid)
    if not signers:
        raise HelmError("ERR_UNTRUSTED_SIGNER", f"no signature by a key the trust policy reaches for {origin} at index {index} ({'; '.join(refused)})")
    size = log_key = None
    if proof is not None:
        pi, cp = verify_tlog_proof(proof, node.entry, trust.policy)
        if cp.origin != origin:
            raise HelmError("ERR_TLOG_PROOF_ORIGIN", f"the proof's checkpoint is for {cp.origin}, the receipt for {origin}")
        if pi != index:
            raise HelmError("ERR_TLOG_PROOF_INDEX", f"the proof is for index {pi}, the receipt says {index}")
        size, log_key = cp.size, cp.log_key.handle
    return VerifiedReceipt(node.kind, node.entry_hash, origin, index, node.statement, node.body, signers, size, log_key)
