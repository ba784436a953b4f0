//! Receipts with non-ASCII text (docs/sdks.md §Conformance): the spec vector
//! examples/intent-unicode.json verifies, and each entry of test/sdk/vectors/unicode.json (written by
//! the TypeScript suite) gives exactly the TypeScript verifier's code.
mod common;
use common::*;
use helm::{canonicalize, decode_node, hash_ref, TrustRegistry};
use serde_json::{json, Value};

fn verify(r: &TrustRegistry, entry: &[u8]) -> String {
    match decode_node(entry) {
        Err(e) => e.code,
        Ok(n) => match r.verify_node(&n) {
            Err(e) => e.code,
            Ok(_) => "accepted".into(),
        },
    }
}

#[test]
fn intent_unicode_rebuilt_from_its_envelope_verifies() {
    let ex: Value = serde_json::from_slice(&read(&spec_dir().join("examples/intent-unicode.json"))).unwrap();
    let entry = canonicalize(&ex["envelope"]).unwrap();
    assert!(entry.iter().all(|b| (0x20..0x7f).contains(b)), "the entry is printable ASCII");
    assert_eq!(hash_ref(&entry), ex["entryHash"].as_str().unwrap());
    assert_eq!(canonicalize(&ex["statement"]).unwrap(), ex["payloadJcs"].as_str().unwrap().as_bytes());
    let n = decode_node(&entry).unwrap();
    registry().verify_node(&n).unwrap();
    assert_eq!((n.kind.as_str(), n.index, n.entry_hash.as_str()), ("intent", 0, ex["entryHash"].as_str().unwrap()));
    assert_eq!(n.body()["callId"], json!("call_😀_01"));
    assert_eq!(n.body()["principal"], json!("ns/agents/sa/résumé-𝄞"));
    assert_eq!(n.body()["args"], json!({"path": "/reports/café-€-😀.csv", "\u{e000}": "private use", "😀": "astral key", "é": 1}));
}

#[test]
fn unicode_vectors_give_the_typescript_codes() {
    let cases: Value = serde_json::from_slice(&read(&spec_dir().join("../../../test/sdk/vectors/unicode.json"))).unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 31);
    let r = registry();
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let got = verify(&r, c["entry"].as_str().unwrap().as_bytes());
            (got != c["expect"].as_str().unwrap()).then(|| format!("{}: got {}, want {}", c["why"], got, c["expect"]))
        })
        .collect();
    assert!(wrong.is_empty(), "{:#?}", wrong);
}

#[test]
fn bundled_schemas_are_the_spec_schemas() {
    for (name, text) in helm::SCHEMA_FILES {
        assert_eq!(text, read_str(&spec_dir().join("../schemas").join(name)), "{} differs from docs/spec/schemas: copy it again (docs/sdks.md)", name);
    }
}
