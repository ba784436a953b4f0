use crate::checkpoint::MAX_SAFE_INTEGER;
use crate::error::{err, Error};
use crate::jcs::{canonicalize, parse_json};
use crate::keys::strict_base64;
use crate::{hex, sha256};
use serde_json::{Map, Value};

pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
const PREDICATE_BASE: &str = "https://helm.mindburn.org/proofgraph/";
const MAX_ENTRY_BYTES: usize = 65535;

/// Required body fields per node kind (receipt.md §6).
fn body_required(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "intent" => &["surface", "callId", "tool", "principal", "argsDigest"],
        "decision" => &["callId", "tool", "verdict", "reasonCode", "ruleIds", "policyDigest", "inputDigest", "engine"],
        "effect" => &["callId", "tool", "status", "confirmed"],
        "result" => &["callId", "tool", "status", "outputDigest"],
        "trust" => &["event"],
        "heartbeat" => &["reason", "intervalUs", "software"],
        "gap" => &["from", "to", "reason"],
        "approval" => &["callId", "decision", "approver", "verdict", "nonce"],
        _ => return None,
    })
}

/// A decoded ProofGraph node whose form, schema and subject digest were checked (signatures are
/// checked by TrustRegistry::verify_node).
#[derive(Debug, Clone)]
pub struct Node {
    pub kind: String,
    pub statement: Value,
    pub origin: String,
    pub index: u64,
    pub entry: Vec<u8>,
    /// sha256:<hex> of the entry.
    pub entry_hash: String,
    pub pae: Vec<u8>,
    /// (keyid, signature bytes)
    pub signatures: Vec<(String, Vec<u8>)>,
}

impl Node {
    pub fn predicate(&self) -> &Map<String, Value> {
        self.statement["predicate"].as_object().unwrap()
    }
    pub fn body(&self) -> &Map<String, Value> {
        self.statement["predicate"]["body"].as_object().unwrap()
    }
}

/// DSSE pre-authentication encoding (lengths in bytes).
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut m = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    m.extend_from_slice(payload);
    m
}

/// "sha256:" + hex(SHA-256(b)).
pub fn hash_ref(b: &[u8]) -> String {
    format!("sha256:{}", hex(&sha256(b)))
}

pub(crate) struct Envelope {
    pub payload: Vec<u8>,
    pub payload_type: String,
    pub sigs: Vec<(String, Vec<u8>)>,
}

/// The closed envelope shape of receipt.md §4.
pub(crate) fn check_envelope(raw: &Value) -> Result<Envelope, Error> {
    let bad = |m: &str| err!("ERR_ENVELOPE_MALFORMED", "{}", m);
    let o = raw.as_object().filter(|o| o.len() == 3).ok_or_else(|| bad("envelope must be an object with exactly payload, payloadType, signatures"))?;
    let (payload, typ, sigs) = match (o.get("payload").and_then(Value::as_str), o.get("payloadType").and_then(Value::as_str), o.get("signatures").and_then(Value::as_array)) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return Err(bad("envelope must be an object with exactly payload, payloadType, signatures")),
    };
    let payload = strict_base64(payload).map_err(|_| bad("payload is not canonical base64"))?;
    if sigs.is_empty() || sigs.len() > 16 {
        return Err(bad("signatures must have 1 to 16 entries"));
    }
    let mut out = Vec::new();
    for s in sigs {
        let so = s.as_object().filter(|o| o.len() == 2).ok_or_else(|| bad("each signature must be exactly {keyid, sig}"))?;
        match (so.get("keyid").and_then(Value::as_str), so.get("sig").and_then(Value::as_str)) {
            (Some(k), Some(sig)) => out.push((k.to_string(), strict_base64(sig).map_err(|_| bad("signature is not canonical base64"))?)),
            _ => return Err(bad("each signature must be exactly {keyid, sig}")),
        }
    }
    Ok(Envelope { payload, payload_type: typ.to_string(), sigs: out })
}

/// Decodes one log entry and checks it as the TypeScript verifier does (receipt.md §8 steps
/// 1-2): canonical form at both layers, envelope shape, payload type, statement schema (integers
/// only, required fields), subject digest.
pub fn decode_node(entry: &[u8]) -> Result<Node, Error> {
    if entry.len() > MAX_ENTRY_BYTES {
        return Err(err!("ERR_ENTRY_TOO_LARGE", "entry is {} bytes; the limit is {}", entry.len(), MAX_ENTRY_BYTES));
    }
    let raw = parse_json(entry)?;
    let env = check_envelope(&raw)?;
    if canonicalize(&raw)? != entry {
        return Err(err!("ERR_NOT_CANONICAL", "entry is not the JCS form of its envelope"));
    }
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(err!("ERR_PAYLOAD_TYPE", "payloadType {} is not {}", env.payload_type, IN_TOTO_PAYLOAD_TYPE));
    }
    if lone_surrogate(&env.payload) {
        return Err(err!("ERR_SCHEMA", "statement has a lone surrogate escape (\\uD800-\\uDFFF without its pair)"));
    }
    let st = parse_json(&env.payload)?;
    let pt = st.get("predicateType").and_then(Value::as_str).unwrap_or("");
    let kind = pt.strip_prefix(PREDICATE_BASE).and_then(|k| k.strip_suffix("/v1")).unwrap_or("").to_string();
    let required = body_required(&kind).ok_or_else(|| err!("ERR_PREDICATE_TYPE", "unknown predicateType {:?} (expected {}<kind>/v1)", pt, PREDICATE_BASE))?;
    if let Some(p) = crate::schema::statement_problem(&kind, &st) {
        return Err(err!("ERR_SCHEMA", "{} statement {}", kind, p));
    }
    let (origin, index) = check_statement(&kind, &st, required)?;
    if canonicalize(&st)? != env.payload {
        return Err(err!("ERR_NOT_CANONICAL", "payload is not the JCS form of its statement"));
    }
    let digest = hex(&sha256(&canonicalize(&st["predicate"]["body"])?));
    if st["subject"][0]["digest"]["sha256"].as_str() != Some(digest.as_str()) {
        return Err(err!("ERR_SUBJECT_DIGEST", "subject digest does not match the predicate body"));
    }
    Ok(Node { kind, origin, index, entry: entry.to_vec(), entry_hash: hash_ref(entry), pae: pae(&env.payload_type, &env.payload), signatures: env.sigs, statement: st })
}

fn is_hash_ref(v: &Value) -> bool {
    v.as_str().map_or(false, |s| s.len() == 71 && s.starts_with("sha256:") && s[7..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

pub(crate) fn safe_uint(v: &Value) -> Option<u64> {
    v.as_u64().filter(|n| *n <= MAX_SAFE_INTEGER)
}

/// Finds a number that is not an integer in ±(2^53-1): signed data has no floats.
fn non_integer(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f.fract() != 0.0 || f.abs() > MAX_SAFE_INTEGER as f64 || !f.is_finite() {
                return Some(format!("{} {} is not an integer in ±(2^53-1)", path, n));
            }
            None
        }
        Value::Array(a) => a.iter().enumerate().find_map(|(i, e)| non_integer(e, &format!("{}{}/", path, i))),
        Value::Object(o) => o.iter().find_map(|(k, e)| non_integer(e, &format!("{}{}/", path, k))),
        _ => None,
    }
}

fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn check_statement(kind: &str, st: &Value, required: &[&str]) -> Result<(String, u64), Error> {
    let bad = |m: String| err!("ERR_SCHEMA", "{} statement {}", kind, m);
    if let Some(m) = non_integer(st, "/") {
        return Err(bad(m));
    }
    let o = st.as_object().filter(|o| o.len() == 4 && o.get("_type").and_then(Value::as_str) == Some(STATEMENT_TYPE)).ok_or_else(|| bad(format!("must be exactly {{_type: {}, subject, predicateType, predicate}}", STATEMENT_TYPE)))?;
    let subj = o.get("subject").and_then(Value::as_array).filter(|a| a.len() == 1).ok_or_else(|| bad("/subject must have exactly one element".into()))?;
    let s0 = subj[0].as_object().filter(|s| s.len() == 2 && s.get("name").and_then(Value::as_str).map_or(false, |n| !n.is_empty())).ok_or_else(|| bad("/subject/0 must be {name, digest}".into()))?;
    let dig = s0.get("digest").and_then(Value::as_object).filter(|d| d.len() == 1).and_then(|d| d.get("sha256")).and_then(Value::as_str);
    if !dig.map_or(false, |d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))) {
        return Err(bad("/subject/0/digest/sha256 must be 64 lowercase hex digits".into()));
    }
    let p = o.get("predicate").and_then(Value::as_object).filter(|p| p.len() == 7).ok_or_else(|| bad("/predicate must have exactly origin, index, lamport, prev, parents, time, body".into()))?;
    let origin = p.get("origin").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| bad("/predicate/origin must be a non-empty string".into()))?;
    let index = p.get("index").and_then(safe_uint);
    let lamport = p.get("lamport").and_then(safe_uint);
    let index = match (index, lamport) {
        (Some(i), Some(l)) if l >= 1 => i,
        _ => return Err(bad("/predicate/index and lamport must be integers (lamport >= 1)".into())),
    };
    let prev = p.get("prev").unwrap_or(&Value::Bool(false));
    if !prev.is_null() && !is_hash_ref(prev) {
        return Err(bad("/predicate/prev must be null or a hash reference".into()));
    }
    let parents = p.get("parents").and_then(Value::as_array).filter(|a| a.len() <= 64).ok_or_else(|| bad("/predicate/parents must be an array of at most 64 parents".into()))?;
    for (i, par) in parents.iter().enumerate() {
        if !par.as_object().map_or(false, |po| (po.len() == 1 || po.len() == 3) && po.get("hash").map_or(false, is_hash_ref)) {
            return Err(bad(format!("/predicate/parents/{} must be {{hash}} or {{origin, index, hash}}", i)));
        }
    }
    if !p.get("time").and_then(Value::as_str).map_or(false, is_time) {
        return Err(bad("/predicate/time must be RFC 3339 UTC with milliseconds".into()));
    }
    let body = p.get("body").and_then(Value::as_object).ok_or_else(|| bad("/predicate/body must be an object".into()))?;
    if let Some(f) = required.iter().find(|f| !body.contains_key(**f)) {
        return Err(bad(format!("/predicate/body must have required property '{}'", f)));
    }
    Ok((origin.to_string(), index))
}

/// A \\u escape of a UTF-16 surrogate without its pair: the TypeScript verifier refuses it as a
/// schema error (serde_json would refuse the text as JSON).
fn lone_surrogate(text: &[u8]) -> bool {
    let hex4 = |i: usize| -> Option<u32> {
        if i + 6 > text.len() || text[i] != b'\\' || text[i + 1] != b'u' {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(&text[i + 2..i + 6]).ok()?, 16).ok()
    };
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'\\' {
            i += 1;
            continue;
        }
        match hex4(i) {
            None => i += 2, // an escaped character: skip it (it may be a backslash)
            Some(v) if (0xD800..=0xDBFF).contains(&v) => match hex4(i + 6) {
                Some(w) if (0xDC00..=0xDFFF).contains(&w) => i += 12,
                _ => return true,
            },
            Some(v) if (0xDC00..=0xDFFF).contains(&v) => return true,
            Some(_) => i += 6,
        }
    }
    false
}
