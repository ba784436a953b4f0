"""Checkpoints (C2SP signed notes), the trust policy file, RFC 6962 inclusion and
c2sp.org/tlog-proof@v1 (docs/spec/trust-policy.md, docs/spec/receipt.md §9)."""
import hashlib
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .errors import HelmError
from .keys import ALG_COSIGNATURE_V1, ALG_ED25519, VerifierKey, b64decode_strict, parse_vkey, valid_key_name, verify_ed25519

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
DASH = "\u2014 "
MAX_PROOF_HASHES = 63
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100
MAX_POLICY_CHARS = 1 << 20


@dataclass
class TrustPolicy:
    logs: List[VerifierKey] = field(default_factory=list)
    witnesses: Dict[str, VerifierKey] = field(default_factory=dict)
    groups: Dict[str, Tuple[int, List[str]]] = field(default_factory=dict)
    quorum: Optional[str] = None
    root: Optional[VerifierKey] = None
    exporters: List[VerifierKey] = field(default_factory=list)


def parse_trust_policy(text: str, source: str = "trust policy") -> TrustPolicy:
    """The policy file (docs/spec/trust-policy.md): c2sp.org/tlog-policy lines (log, witness, group,
    quorum) plus root and exporter, with the TypeScript parser's rules and ERR_POLICY_SYNTAX."""
    p = TrustPolicy()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    used_as_member: Dict[str, int] = {}
    key_lines: Dict[str, list] = {"log": [], "witness": [], "exporter": []}
    n = 1

    def fail(why: str, line: Optional[int] = None) -> HelmError:
        return HelmError("ERR_POLICY_SYNTAX", f"{source}:{n if line is None else line}: {why}")

    def defined(name: str) -> bool:
        return name == "none" or name in p.witnesses or name in p.groups

    def key(vkey: str, role: str) -> VerifierKey:
        try:
            k = parse_vkey(vkey)
        except HelmError as e:
            raise fail(f"{role} key: {e.detail}") from None
        if k.alg != (ALG_COSIGNATURE_V1 if role == "witness" else ALG_ED25519):
            raise fail(f"{role} key {k.handle} has the wrong type")
        return k

    def refuse_duplicate(k: VerifierKey, what: str, others: list) -> None:
        for pub, line in others:
            if pub == k.public_key:
                raise fail(f"duplicate {what}: same public key as line {line}")

    if len(text) > MAX_POLICY_CHARS:
        raise fail("policy file is larger than 1 MiB", 1)
    for n, raw in enumerate(lines, 1):
        bad = re.search(r"[\x00-\x08\x0b-\x1f\x7f]", raw)
        if bad:
            raise fail(f"control character U+{ord(bad.group(0)):04x} is not allowed (only tab and newline)")
        f = [x for x in re.split(r"[ \t]+", raw) if x]
        if not f or f[0].startswith("#"):
            continue
        kw, args = f[0], f[1:]
        if kw == "log":
            if not 1 <= len(args) <= 2:
                raise fail("expected: log <vkey> [<url>]")
            k = key(args[0], "log")
            refuse_duplicate(k, "log", key_lines["log"])
            refuse_duplicate(k, "log (key is also a witness key)", key_lines["witness"])
            p.logs.append(k)
            key_lines["log"].append((k.public_key, n))
        elif kw == "witness":
            if not 2 <= len(args) <= 3:
                raise fail("expected: witness <name> <vkey> [<url>]")
            if defined(args[0]):
                raise fail(f"witness name {args[0]!r} is already defined")
            k = key(args[1], "witness")
            refuse_duplicate(k, "witness", key_lines["witness"])
            refuse_duplicate(k, "witness (key is also a log key)", key_lines["log"])
            p.witnesses[args[0]] = k
            key_lines["witness"].append((k.public_key, n))
        elif kw == "group":
            if len(args) < 3:
                raise fail("expected: group <name> <all|any|k> <name>... (at least one member)")
            name, k_text, members = args[0], args[1], args[2:]
            if defined(name):
                raise fail(f"group name {name!r} is already defined")
            if k_text == "all":
                t = len(members)
            elif k_text == "any":
                t = 1
            elif re.fullmatch(r"[0-9]+", k_text):
                t = int(k_text)
                if not 1 <= t <= len(members):
                    raise fail(f"group {name} threshold {k_text} is not in 1..{len(members)}")
            else:
                raise fail(f"group {name} threshold {k_text!r} is not all, any or a decimal number")
            for m in members:
                if m == "none":
                    raise fail('"none" cannot be a group member')
                if not defined(m):
                    raise fail(f"group {name} member {m!r} is not defined on an earlier line")
                if m in used_as_member:
                    raise fail(f"{m!r} is already listed as a group member (line {used_as_member[m]})")
                used_as_member[m] = n
            p.groups[name] = (t, members)
        elif kw == "quorum":
            if len(args) != 1:
                raise fail("expected: quorum <name>")
            if p.quorum is not None:
                raise fail("second quorum line")
            if not defined(args[0]):
                raise fail(f"quorum {args[0]!r} is not a witness or group defined on an earlier line")
            p.quorum = args[0]
        elif kw == "root":
            if len(args) != 1:
                raise fail("expected: root <vkey>")
            if p.root is not None:
                raise fail("second root line")
            p.root = key(args[0], "root")
        elif kw == "exporter":
            if len(args) != 1:
                raise fail("expected: exporter <vkey>")
            k = key(args[0], "exporter")
            refuse_duplicate(k, "exporter", key_lines["exporter"])
            p.exporters.append(k)
            key_lines["exporter"].append((k.public_key, n))
        else:
            raise fail(f"unknown keyword {kw!r} (expected log, witness, group, quorum, root or exporter)")
    if p.quorum is None:
        raise fail("no quorum line (exactly one is required)", len(lines))
    return p


def _quorum_holds(p: TrustPolicy, name: str, cosigners: set) -> bool:
    if name == "none":
        return True
    if name in p.witnesses:
        return name in cosigners
    if name in p.groups:
        t, members = p.groups[name]
        return sum(1 for m in members if _quorum_holds(p, m, cosigners)) >= t
    return False


@dataclass
class Checkpoint:
    origin: str
    size: int
    root: bytes
    log_key: VerifierKey
    witnesses: List[str]


def parse_note(note: str, code: str = "ERR_CHECKPOINT_MALFORMED") -> Tuple[str, List[Tuple[str, str, bytes]]]:
    """A signed note's text and its signature lines as (name, key id, signature); structural errors raise ``code``."""

    def bad(why: str) -> HelmError:
        return HelmError(code, f"checkpoint: {why}")

    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise bad("note is too large")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise bad("note has no signature block")
    text = note[: split + 1]
    if re.search(r"[\x00-\x09\x0b-\x1f]", text):
        raise bad("note text contains control characters")
    lines = note[split + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise bad("too many signatures")
    sigs = []
    for line in lines:
        rest = line[len(DASH) :]
        if not line.startswith(DASH) or " " not in rest or not valid_key_name(rest.split(" ", 1)[0]):
            raise bad(f"malformed signature line {line!r}")
        name, sig64 = rest.split(" ", 1)
        try:
            raw = b64decode_strict(sig64, f"signature line for {name}")
        except ValueError:
            raise bad(f"signature line for {name} is not base64") from None
        if len(raw) < 5:
            raise bad(f"signature line for {name} is too short")
        sigs.append((name, raw[:4].hex(), raw[4:]))
    return text, sigs


def verify_checkpoint(note: str, policy: TrustPolicy) -> Checkpoint:
    """A checkpoint note signed by a policy log key named after its origin, with the witness quorum."""
    text, sigs = parse_note(note)
    known = [*policy.logs, *policy.witnesses.values()]
    verified: List[VerifierKey] = []
    for name, kid, sig in sigs:
        key = next((k for k in known if k.name == name and k.key_id == kid), None)
        if key is None:
            continue
        if any(v.handle == key.handle for v in verified):
            raise HelmError("ERR_CHECKPOINT_MALFORMED", f"checkpoint: two signatures by {key.handle}")
        if key.alg == ALG_ED25519:
            ok = verify_ed25519(key.public_key, text.encode("utf-8"), sig)
        else:
            ts = int.from_bytes(sig[:8], "big") if len(sig) == 72 else -1
            ok = 0 <= ts < 2**63 and verify_ed25519(key.public_key, f"cosignature/v1\ntime {ts}\n{text}".encode("utf-8"), sig[8:])
        if not ok:
            raise HelmError("ERR_CHECKPOINT_BAD_SIGNATURE", f"checkpoint: invalid signature by {key.handle}")
        verified.append(key)
    if not verified:
        raise HelmError("ERR_CHECKPOINT_UNTRUSTED", "checkpoint: no signature by a known key")
    lines = text.split("\n")
    if len(lines) < 4 or not re.fullmatch(r"0|[1-9][0-9]{0,18}", lines[1]):
        raise HelmError("ERR_CHECKPOINT_MALFORMED", "checkpoint text must be origin, size, base64 root")
    try:
        root = b64decode_strict(lines[2], "checkpoint root")
    except ValueError as e:
        raise HelmError("ERR_CHECKPOINT_MALFORMED", str(e)) from None
    if len(root) != 32 or not lines[0]:
        raise HelmError("ERR_CHECKPOINT_MALFORMED", "checkpoint root must be 32 bytes and the origin non-empty")
    origin = lines[0]
    log_key = next((k for k in verified if k.alg == ALG_ED25519 and k.name == origin and k in policy.logs), None)
    if log_key is None:
        raise HelmError("ERR_CHECKPOINT_UNTRUSTED", f"checkpoint for {origin!r} is not signed by a log of the policy (a log key's name must equal the origin)")
    witnesses = [n for n, w in policy.witnesses.items() if w in verified]
    if not _quorum_holds(policy, policy.quorum or "none", set(witnesses)):
        raise HelmError("ERR_QUORUM_NOT_MET", f"checkpoint {origin}@{lines[1]}: cosigned by {witnesses}, which does not satisfy quorum {policy.quorum}")
    return Checkpoint(origin, int(lines[1]), root, log_key, witnesses)


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: List[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def parse_tlog_proof(text: str) -> Tuple[int, List[bytes], str]:
    def bad(why: str) -> HelmError:
        return HelmError("ERR_TLOG_PROOF_MALFORMED", why)

    lines = text.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise bad(f"first line must be {TLOG_PROOF_HEADER}")
    i = 1
    if i < len(lines) and lines[i].startswith("extra "):
        i += 1
    m = re.fullmatch(r"index (0|[1-9][0-9]*)", lines[i] if i < len(lines) else "")
    if not m or len(m.group(1)) > 16 or int(m.group(1)) > 2**53 - 1:
        raise bad('expected "index <decimal without leading zeros>"')
    i += 1
    proof: List[bytes] = []
    while i < len(lines) and lines[i] != "":
        try:
            h = b64decode_strict(lines[i], f"proof line {len(proof) + 1}")
        except ValueError as e:
            raise bad(str(e)) from None
        if len(h) != 32 or len(proof) == MAX_PROOF_HASHES:
            raise bad(f"proof line {len(proof) + 1} is not a SHA-256 hash, or there are too many")
        proof.append(h)
        i += 1
    if i >= len(lines):
        raise bad("no empty line before the checkpoint")
    note = "\n".join(lines[i + 1 :])
    parse_note(note, "ERR_TLOG_PROOF_MALFORMED")  # as the TypeScript parser: a broken note is a broken proof
    return int(m.group(1)), proof, note


def verify_tlog_proof(text: str, entry: bytes, policy: TrustPolicy) -> Tuple[int, Checkpoint]:
    """The checkpoint satisfies the policy, and the entry is included at the proof's index."""
    index, proof, note = parse_tlog_proof(text)
    cp = verify_checkpoint(note, policy)
    if index >= cp.size:
        raise HelmError("ERR_TLOG_PROOF_INDEX", f"index {index} is not below the checkpoint size {cp.size} of {cp.origin}")
    if not verify_inclusion(index, cp.size, leaf_hash(entry), proof, cp.root):
        raise HelmError("ERR_TLOG_PROOF_INCLUSION", f"entry is not included at index {index} of {cp.origin}@{cp.size}")
    return index, cp
