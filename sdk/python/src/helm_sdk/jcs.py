"""RFC 8785 JSON Canonicalization Scheme (the receipt's L0), tested against ../shared/vectors/jcs.

Python has no JCS in its standard library or in Debian, so this is a small implementation:
object keys sorted by UTF-16 code units, strings escaped as ECMAScript JSON.stringify does, and
numbers in the ECMAScript Number-to-String form (shortest round trip).
"""
import json
import math
from decimal import Decimal
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1


def _number(x: float) -> str:
    if math.isnan(x) or math.isinf(x):
        raise ValueError("JCS cannot encode NaN or Infinity")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    _, digits_t, exp = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, digits_t)).rstrip("0")
    exp += len(digits_t) - len(digits)
    k = len(digits)
    n = exp + k  # position of the decimal point relative to the digits
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e > 0 else "-") + str(abs(e))
    return sign + out


def _utf16_key(s: str) -> bytes:
    return s.encode("utf-16-be", "surrogatepass")


def canonicalize(value: Any) -> str:
    """The canonical JSON text of a value parsed by ``json.loads``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            return _number(float(value))
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonicalize(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: _utf16_key(kv[0]))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonicalize(v) for k, v in items) + "}"
    raise TypeError(f"JCS cannot encode {type(value).__name__}")


def jcs(value: Any) -> bytes:
    """UTF-8 bytes of :func:`canonicalize` (lone surrogates are refused)."""
    return canonicalize(value).encode("utf-8")


def signed_profile_problem(value: Any, path: str = "") -> "str | None":
    """Why a value is outside the signed profile (integers within 2^53-1, no lone surrogates), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return f"{path or '/'}: {value!r} is not a safe integer (floats are not allowed in signed data)"
    if isinstance(value, int):
        return None if abs(value) <= MAX_SAFE_INTEGER else f"{path or '/'}: {value} is not a safe integer"
    if isinstance(value, str):
        return f"{path or '/'}: lone surrogate in a string" if any(0xD800 <= ord(c) <= 0xDFFF for c in value) else None
    if isinstance(value, list):
        for i, v in enumerate(value):
            p = signed_profile_problem(v, f"{path}/{i}")
            if p:
                return p
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            p = signed_profile_problem(k, path) or signed_profile_problem(v, f"{path}/{k}")
            if p:
                return p
        return None
    return f"{path or '/'}: {type(value).__name__} is not JSON"
