//! The subset of JSON Schema 2020-12 the receipt schemas use, over bundled copies of
//! docs/spec/schemas (a test compares them byte for byte), so statements are checked against the
//! same schemas the TypeScript verifier compiles: string lengths in code points, patterns anchored
//! at the end of the string, body fields and their types, not only the required ones.
use crate::jcs::{canonicalize, parse_json};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Once;

/// The bundled schemas: file name and text.
pub const SCHEMA_FILES: [(&str, &str); 10] = [
    ("approval.v1.json", include_str!("../schemas/approval.v1.json")),
    ("decision.v1.json", include_str!("../schemas/decision.v1.json")),
    ("effect.v1.json", include_str!("../schemas/effect.v1.json")),
    ("gap.v1.json", include_str!("../schemas/gap.v1.json")),
    ("heartbeat.v1.json", include_str!("../schemas/heartbeat.v1.json")),
    ("intent.v1.json", include_str!("../schemas/intent.v1.json")),
    ("result.v1.json", include_str!("../schemas/result.v1.json")),
    ("trust.v1.json", include_str!("../schemas/trust.v1.json")),
    ("trust-event.v1.json", include_str!("../schemas/trust-event.v1.json")),
    ("dsse-envelope.json", include_str!("../schemas/dsse-envelope.json")),
];

struct Schemas {
    by_file: HashMap<&'static str, Value>,
    by_id: HashMap<String, Value>,
}

fn schemas() -> &'static Schemas {
    static ONCE: Once = Once::new();
    static mut SCHEMAS: Option<Schemas> = None;
    // SAFETY: written once under ONCE, read only after.
    unsafe {
        ONCE.call_once(|| {
            let mut s = Schemas { by_file: HashMap::new(), by_id: HashMap::new() };
            for (name, text) in SCHEMA_FILES {
                let v = parse_json(text.as_bytes()).unwrap_or_else(|e| panic!("bundled schema {}: {}", name, e));
                if let Some(id) = v.get("$id").and_then(Value::as_str) {
                    s.by_id.insert(id.to_string(), v.clone());
                }
                s.by_file.insert(name, v);
            }
            SCHEMAS = Some(s);
        });
        SCHEMAS.as_ref().unwrap()
    }
}

/// The first reason a statement of this kind fails its schema, or None.
pub(crate) fn statement_problem(kind: &str, st: &Value) -> Option<String> {
    bundled_problem(&format!("{}.v1.json", kind), st)
}

/// The first reason a value fails the bundled schema of this file name, or None.
pub(crate) fn bundled_problem(file: &str, v: &Value) -> Option<String> {
    let s = schemas().by_file.get(file)?;
    problem(s, v, s, "")
}

fn same(a: &Value, b: &Value) -> bool {
    matches!((canonicalize(a), canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().map_or(false, |f| f.fract() == 0.0),
        _ => false,
    }
}

fn num(s: &Map<String, Value>, k: &str) -> Option<f64> {
    s.get(k).and_then(Value::as_f64)
}

fn problem(schema: &Value, v: &Value, root: &Value, path: &str) -> Option<String> {
    let at = if path.is_empty() { "/" } else { path };
    let s = schema.as_object()?;
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let p = match r.strip_prefix("#/$defs/") {
            Some(name) => problem(&root["$defs"][name], v, root, path),
            None => match schemas().by_id.get(r) {
                Some(target) => problem(target, v, target, path),
                None => Some(format!("{} refers to an unknown schema {}", at, r)),
            },
        };
        if p.is_some() {
            return p;
        }
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().unwrap_or(""), v)),
            _ => false,
        };
        if !ok {
            return Some(format!("{} must be {}", at, t));
        }
    }
    if let Some(c) = s.get("const") {
        if !same(c, v) {
            return Some(format!("{} must be {}", at, c));
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.iter().any(|x| same(x, v)) {
            return Some(format!("{} must be one of {}", at, Value::Array(e.clone())));
        }
    }
    if let Some(text) = v.as_str() {
        let n = text.chars().count() as f64; // code points, as ajv counts
        if num(s, "minLength").map_or(false, |m| n < m) {
            return Some(format!("{} is shorter than {}", at, s["minLength"]));
        }
        if num(s, "maxLength").map_or(false, |m| n > m) {
            return Some(format!("{} is longer than {}", at, s["maxLength"]));
        }
        if let Some(p) = s.get("pattern").and_then(Value::as_str) {
            if !pattern_matches(p, text) {
                return Some(format!("{} does not match {}", at, p));
            }
        }
    }
    if let Some(n) = v.as_f64() {
        if num(s, "minimum").map_or(false, |m| n < m) {
            return Some(format!("{} is below {}", at, s["minimum"]));
        }
        if num(s, "maximum").map_or(false, |m| n > m) {
            return Some(format!("{} is above {}", at, s["maximum"]));
        }
    }
    if let Some(a) = v.as_array() {
        let n = a.len() as f64;
        if num(s, "minItems").map_or(false, |m| n < m) {
            return Some(format!("{} has fewer than {} items", at, s["minItems"]));
        }
        if num(s, "maxItems").map_or(false, |m| n > m) {
            return Some(format!("{} has more than {} items", at, s["maxItems"]));
        }
        if let Some(items) = s.get("items").filter(|i| i.is_object()) {
            for (i, e) in a.iter().enumerate() {
                if let Some(p) = problem(items, e, root, &format!("{}/{}", path, i)) {
                    return Some(p);
                }
            }
        }
    }
    if let Some(o) = v.as_object() {
        for r in s.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !o.contains_key(r.as_str().unwrap_or("")) {
                return Some(format!("{} must have property {}", at, r));
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, e) in o {
            let sub = format!("{}/{}", path, k);
            if let Some(ps) = props.and_then(|p| p.get(k)) {
                if let Some(p) = problem(ps, e, root, &sub) {
                    return Some(p);
                }
            } else {
                match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => return Some(format!("{} must not have property {:?}", at, k)),
                    Some(ap @ Value::Object(_)) => {
                        if let Some(p) = problem(ap, e, root, &sub) {
                            return Some(p);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
        if any.iter().all(|x| problem(x, v, root, path).is_some()) {
            return Some(format!("{} matches none of anyOf", at));
        }
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        if one.iter().filter(|x| problem(x, v, root, path).is_none()).count() != 1 {
            return Some(format!("{} must match exactly one of oneOf", at));
        }
    }
    None
}

/// One element of a pattern: a set of characters (ranges; negated or not) repeated min..=max times.
struct Piece {
    ranges: Vec<(char, char)>,
    negated: bool,
    min: usize,
    max: usize,
}

impl Piece {
    fn accepts(&self, c: char) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= c && c <= b) != self.negated
    }
}

/// ECMAScript's \s: white space and line terminators (ECMA-262 WhiteSpace, LineTerminator).
const ES_SPACE: [(char, char); 10] = [('\t', '\r'), (' ', ' '), ('\u{a0}', '\u{a0}'), ('\u{1680}', '\u{1680}'), ('\u{2000}', '\u{200a}'), ('\u{2028}', '\u{2029}'), ('\u{202f}', '\u{202f}'), ('\u{205f}', '\u{205f}'), ('\u{3000}', '\u{3000}'), ('\u{feff}', '\u{feff}')];

/// Compiles the pattern syntax the receipt schemas use: `^`, then literals, `\`-escapes and
/// `[...]` classes (ranges, `^`, `\s`) each with an optional `{n}`, `{n,m}`, `+`, `*` or `?`, then `$`.
/// Anything else panics: the bundled-schema test compiles every pattern, so a new construct is noticed.
fn compile(p: &str) -> Vec<Piece> {
    let inner = p.strip_prefix('^').and_then(|r| r.strip_suffix('$')).unwrap_or_else(|| panic!("pattern {} is not ^...$", p));
    let cs: Vec<char> = inner.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let escaped = |c: char| -> Vec<(char, char)> {
        match c {
            's' => ES_SPACE.to_vec(),
            c if c.is_ascii_punctuation() => vec![(c, c)],
            c => panic!("pattern {}: unsupported escape \\{}", p, c),
        }
    };
    while i < cs.len() {
        let (ranges, negated) = match cs[i] {
            '[' => {
                i += 1;
                let negated = cs.get(i) == Some(&'^');
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                while cs.get(i) != Some(&']') {
                    let c = *cs.get(i).unwrap_or_else(|| panic!("pattern {}: unclosed class", p));
                    if c == '\\' {
                        ranges.extend(escaped(cs[i + 1]));
                        i += 2;
                    } else if cs.get(i + 1) == Some(&'-') && cs.get(i + 2).map_or(false, |&e| e != ']') {
                        ranges.push((c, cs[i + 2]));
                        i += 3;
                    } else {
                        ranges.push((c, c));
                        i += 1;
                    }
                }
                i += 1;
                (ranges, negated)
            }
            '\\' => {
                i += 2;
                (escaped(cs[i - 1]), false)
            }
            c if "()|.*+?{}^$".contains(c) => panic!("pattern {}: unsupported {}", p, c),
            c => {
                i += 1;
                (vec![(c, c)], false)
            }
        };
        let quantified = matches!(cs.get(i), Some('+' | '*' | '?' | '{'));
        let (min, max) = match cs.get(i) {
            Some('+') => (1, usize::MAX),
            Some('*') => (0, usize::MAX),
            Some('?') => (0, 1),
            Some('{') => {
                let end = i + cs[i..].iter().position(|&c| c == '}').unwrap_or_else(|| panic!("pattern {}: unclosed {{", p));
                let body: String = cs[i + 1..end].iter().collect();
                let n = |s: &str| s.parse::<usize>().unwrap_or_else(|_| panic!("pattern {}: bad repeat {{{}}}", p, body));
                let r = match body.split_once(',') {
                    Some((a, b)) => (n(a), n(b)),
                    None => (n(&body), n(&body)),
                };
                i = end;
                r
            }
            _ => (1, 1),
        };
        if quantified {
            i += 1;
        }
        out.push(Piece { ranges, negated, min, max });
    }
    out
}

fn match_from(pieces: &[Piece], text: &[char]) -> bool {
    let (first, rest) = match pieces.split_first() {
        Some(x) => x,
        None => return text.is_empty(),
    };
    let mut n = 0;
    while n < first.max && n < text.len() && first.accepts(text[n]) {
        n += 1;
    }
    // Longest first, then back off (the patterns here are small: this stays linear in practice).
    (first.min..=n).rev().any(|k| match_from(rest, &text[k..]))
}

/// Whether `text` matches `pattern` as ECMAScript's RegExp with the `u` flag does, for the syntax above.
pub(crate) fn pattern_matches(pattern: &str, text: &str) -> bool {
    let cs: Vec<char> = text.chars().collect();
    match_from(&compile(pattern), &cs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_pattern_compiles_and_matches_as_ecmascript() {
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(o) => o.iter().for_each(|(k, x)| if k == "pattern" { out.push(x.as_str().unwrap().to_string()) } else { walk(x, out) }),
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        let mut pats = Vec::new();
        SCHEMA_FILES.iter().for_each(|(_, t)| walk(&parse_json(t.as_bytes()).unwrap(), &mut pats));
        assert!(pats.len() > 20);
        pats.iter().for_each(|p| drop(compile(p)));
        let hash = format!("sha256:{}", "0a".repeat(32));
        assert!(pattern_matches("^sha256:[0-9a-f]{64}$", &hash));
        assert!(!pattern_matches("^sha256:[0-9a-f]{64}$", &format!("{}\n", hash)));
        assert!(!pattern_matches("^sha256:[0-9a-f]{64}$", &format!("{}0", hash)));
        assert!(pattern_matches("^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$", "a/b-c:d.e_f"));
        assert!(!pattern_matches("^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$", "-a"));
        assert!(pattern_matches("^[^+\\s]+\\+[0-9a-f]{8}$", "alice+0123abcd"));
        assert!(pattern_matches("^[^+\\s]+\\+[0-9a-f]{8}$", "é😀\u{85}+0123abcd")); // U+0085 is not ECMAScript \s
        assert!(!pattern_matches("^[^+\\s]+\\+[0-9a-f]{8}$", "a\u{a0}b+0123abcd"));
        assert!(!pattern_matches("^[^+\\s]+\\+[0-9a-f]{8}$", "a\u{feff}+0123abcd"));
        assert!(pattern_matches("^a\\sb$", "a\u{3000}b")); // \s outside a class
        assert!(!pattern_matches("^a\\sb$", "a\u{85}b"));
        assert!(!pattern_matches("^[^\\s]+$", "a\u{2029}"));
        assert!(pattern_matches("^[A-Za-z0-9+/]{86}==$", &format!("{}==", "A".repeat(86))));
        assert!(!pattern_matches("^[A-Za-z0-9+/]{86}==$", &format!("{}==", "A".repeat(85))));
    }
}
