//! test/sdk/vectors/mutations.json (docs/sdks.md §Conformance): each node entry with one byte XOR
//! 0x01 fails (or, in the approver's own signature, passes) exactly as the TypeScript verifier does.
mod common;
use common::*;
use helm::decode_node;
use serde_json::Value;

#[test]
fn byte_flips_give_the_typescript_codes() {
    let cases: Value = serde_json::from_slice(&read(&spec_dir().join("../../../test/sdk/vectors/mutations.json"))).unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 216);
    let r = registry();
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let node: Value = serde_json::from_slice(&read(&spec_dir().join("nodes").join(c["node"].as_str().unwrap()))).unwrap();
            let mut b = node["entry"].as_str().unwrap().as_bytes().to_vec();
            let offset = c["offset"].as_u64().unwrap() as usize;
            b[offset] ^= 1;
            let got = match decode_node(&b) {
                Err(e) => e.code,
                Ok(n) => r.verify_node(&n).map_or_else(|e| e.code, |_| "accepted".into()),
            };
            (got != c["expect"].as_str().unwrap()).then(|| format!("{} byte {}: got {}, want {}", c["node"], offset, got, c["expect"]))
        })
        .collect();
    assert!(wrong.is_empty(), "{:#?}", wrong);
}

/// test/sdk/vectors/proof-mutations.json: the tlog-proof of 03-decision with one byte XOR 0x01.
#[test]
fn proof_byte_flips_give_the_typescript_codes() {
    let cases: Value = serde_json::from_slice(&read(&spec_dir().join("../../../test/sdk/vectors/proof-mutations.json"))).unwrap();
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 48);
    let node: Value = serde_json::from_slice(&read(&spec_dir().join("nodes/03-decision.json"))).unwrap();
    let entry = node["entry"].as_str().unwrap().as_bytes();
    let proof = read(&spec_dir().join("log/decision-03.tlog-proof"));
    let r = registry();
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let mut p = proof.clone();
            let offset = c["offset"].as_u64().unwrap() as usize;
            p[offset] ^= 1;
            let got = r.verify_receipt(entry, std::str::from_utf8(&p).unwrap()).map_or_else(|e| e.code, |_| "accepted".into());
            (got != c["expect"].as_str().unwrap()).then(|| format!("proof byte {}: got {}, want {}", offset, got, c["expect"]))
        })
        .collect();
    assert!(wrong.is_empty(), "{:#?}", wrong);
}

/// test/sdk/vectors/trust-event-mutations.json: the key event of 01-trust as JSON text, one byte XOR
/// 0x01, loaded with the vectors' policy. Text that is not JSON is ERR_TRUST_EVENT_INVALID there.
#[test]
fn trust_event_byte_flips_give_the_typescript_codes() {
    let d: Value = serde_json::from_slice(&read(&spec_dir().join("../../../test/sdk/vectors/trust-event-mutations.json"))).unwrap();
    let cases = d["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 48);
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let mut b = d["event"].as_str().unwrap().as_bytes().to_vec();
            let offset = c["offset"].as_u64().unwrap() as usize;
            b[offset] ^= 1;
            let got = match helm::parse_json(&b) {
                Err(_) => "ERR_TRUST_EVENT_INVALID".to_string(),
                Ok(v) => helm::TrustRegistry::new(policy()).add(&v).map_or_else(|e| e.code, |_| "accepted".into()),
            };
            (got != c["expect"].as_str().unwrap()).then(|| format!("event byte {}: got {}, want {}", offset, got, c["expect"]))
        })
        .collect();
    assert!(wrong.is_empty(), "{:#?}", wrong);
}
