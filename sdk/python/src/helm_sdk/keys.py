"""Ed25519 keys in the C2SP signed-note formats our files use (docs/spec/receipt.md §3).

vkey: ``name+<8 hex key id>+base64(type || public key)``; private key file: one line
``PRIVATE+KEY+name+<key id>+base64(type || 32-byte seed)``; key id = first 4 bytes of
SHA-256(name || 0x0A || type || public key).
"""
import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import HelmError

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
_BAD_NAME = re.compile(r"[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000+]")


def b64decode_strict(s: str, what: str) -> bytes:
    """Standard base64 with padding, and only its one canonical encoding (receipt.md §4)."""
    if not isinstance(s, str) or len(s) % 4 != 0:
        raise ValueError(f"{what}: invalid base64 (length is not a multiple of 4)")
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"{what}: invalid base64 ({e})") from None
    if base64.b64encode(raw).decode("ascii") != s:
        raise ValueError(f"{what}: not the canonical base64 encoding of its bytes")
    return raw


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def valid_key_name(name: str) -> bool:
    return len(name) > 0 and not _BAD_NAME.search(name)


def key_id(name: str, alg: int, public_key: bytes) -> str:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()[:4].hex()


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Strict RFC 8032 verification (OpenSSL: canonical S, cofactorless)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


@dataclass(frozen=True)
class VerifierKey:
    name: str
    alg: int
    public_key: bytes
    key_id: str

    @property
    def handle(self) -> str:
        return f"{self.name}+{self.key_id}"

    @property
    def vkey(self) -> str:
        return f"{self.handle}+{b64(bytes([self.alg]) + self.public_key)}"


def parse_vkey(vkey: str) -> VerifierKey:
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or not valid_key_name(parts[0]) or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise HelmError("ERR_KEY_FORMAT", f"verifier key {vkey!r} is not name+keyid+base64")
    try:
        raw = b64decode_strict(parts[2], "verifier key")
    except ValueError as e:
        raise HelmError("ERR_KEY_FORMAT", str(e)) from None
    if len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise HelmError("ERR_KEY_FORMAT", f"verifier key {parts[0]}: expected a type byte 0x01 or 0x04 and 32 key bytes")
    k = VerifierKey(parts[0], raw[0], raw[1:], parts[1])
    if key_id(k.name, k.alg, k.public_key) != k.key_id:
        raise HelmError("ERR_KEY_FORMAT", f"verifier key {k.name}: key id {k.key_id} does not match the key")
    return k


class SigningKey:
    """An Ed25519 private key from a key file as ``helmctl keygen`` writes it."""

    def __init__(self, text: str) -> None:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY" or not valid_key_name(parts[2]):
            raise HelmError("ERR_APPROVER_KEY", "a private key file holds one line PRIVATE+KEY+name+keyid+base64 (helmctl keygen writes it)")
        try:
            raw = b64decode_strict(parts[4], "private key")
        except ValueError as e:
            raise HelmError("ERR_APPROVER_KEY", str(e)) from None
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise HelmError("ERR_APPROVER_KEY", "private key material must be the type byte 0x01 and a 32-byte seed")
        self._key = Ed25519PrivateKey.from_private_bytes(raw[1:])
        pub = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.verifier = VerifierKey(parts[2], ALG_ED25519, pub, key_id(parts[2], ALG_ED25519, pub))
        if self.verifier.key_id != parts[3]:
            raise HelmError("ERR_APPROVER_KEY", f"private key id {parts[3]} does not match its key (expected {self.verifier.key_id})")

    @classmethod
    def from_file(cls, path: str) -> "SigningKey":
        with open(path, encoding="utf-8") as f:
            return cls(f.read())

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)
