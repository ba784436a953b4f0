"""The subset of JSON Schema 2020-12 the receipt schemas use (docs/spec/schemas, copied into
schemas/ and compared with the originals by a test), so statements are checked against the same
schemas the TypeScript verifier compiles. No Debian package provides jsonschema for python3 here."""
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Optional

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    return json.loads(resources.files(__package__).joinpath("schemas").joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=None)
def _by_id() -> dict:
    out = {}
    for f in resources.files(__package__).joinpath("schemas").iterdir():
        if f.name.endswith(".json"):
            s = load(f.name)
            if "$id" in s:
                out[s["$id"]] = s
    return out


# ECMAScript's \s (WhiteSpace and LineTerminator) as class members; Python's \s differs (it has
# U+001C-U+001F and U+0085, not U+FEFF).
_ES_SPACE = "\\t\\n\\x0b\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"


@lru_cache(maxsize=None)
def _pattern(p: str) -> "re.Pattern[str]":
    out, in_class, i = [], False, 0
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            n = p[i + 1]
            out.append(("\\" + n) if n != "s" else _ES_SPACE if in_class else "[" + _ES_SPACE + "]")
            i += 2
            continue
        if c == "$" and not in_class:
            c = "\\Z"  # ECMAScript `$` (no m flag) is the end of input; Python's also matches before a final newline
        elif (c == "[" and not in_class) or (c == "]" and in_class):
            in_class = not in_class
        out.append(c)
        i += 1
    return re.compile("".join(out))


def _canon(v: Any) -> str:
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def problem(schema: dict, value: Any, root: Optional[dict] = None, path: str = "") -> Optional[str]:
    """The first reason ``value`` does not satisfy ``schema``, or None."""
    root = root or schema
    at = path or "/"
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref.startswith("#/$defs/"):
            p = problem(root["$defs"][ref[len("#/$defs/"):]], value, root, path)
        else:
            target = _by_id()[ref]
            p = problem(target, value, target, path)
        if p:
            return p
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_TYPES[x](value) for x in types):
            return f"{at} must be {' or '.join(types)}"
    if "const" in schema and _canon(value) != _canon(schema["const"]):
        return f"{at} must be {schema['const']!r}"
    if "enum" in schema and _canon(value) not in {_canon(e) for e in schema["enum"]}:
        return f"{at} must be one of {schema['enum']}"
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            return f"{at} is shorter than {schema['minLength']}"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"{at} is longer than {schema['maxLength']}"
        if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
            return f"{at} does not match {schema['pattern']}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{at} is below {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{at} is above {schema['maximum']}"
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            return f"{at} has fewer than {schema['minItems']} items"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return f"{at} has more than {schema['maxItems']} items"
        if schema.get("uniqueItems") and len({_canon(v) for v in value}) != len(value):
            return f"{at} has duplicate items"
        if isinstance(schema.get("items"), dict):
            for i, v in enumerate(value):
                p = problem(schema["items"], v, root, f"{path}/{i}")
                if p:
                    return p
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for r in schema.get("required", []):
            if r not in value:
                return f"{at} must have property {r}"
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            return f"{at} has more than {schema['maxProperties']} properties"
        for k, v in value.items():
            if "propertyNames" in schema:
                p = problem(schema["propertyNames"], k, root, f"{path}/{k}")
                if p:
                    return p
            if k in props:
                p = problem(props[k], v, root, f"{path}/{k}")
                if p:
                    return p
            elif schema.get("additionalProperties") is False:
                return f"{at} must not have property {k}"
            elif isinstance(schema.get("additionalProperties"), dict):
                p = problem(schema["additionalProperties"], v, root, f"{path}/{k}")
                if p:
                    return p
    if "anyOf" in schema and all(problem(s, value, root, path) for s in schema["anyOf"]):
        return f"{at} matches none of anyOf"
    if "oneOf" in schema and sum(1 for s in schema["oneOf"] if problem(s, value, root, path) is None) != 1:
        return f"{at} must match exactly one of oneOf"
    return None
