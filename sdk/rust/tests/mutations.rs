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
