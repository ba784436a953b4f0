// The trust policy vectors test/sdk/vectors/policies.json (written by the TypeScript suite from its
// parser): each text is accepted or refused ERR_POLICY_SYNTAX exactly as there.
use helm::TrustPolicy;
use serde_json::Value;

#[test]
fn policy_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test/sdk/vectors/policies.json");
    let vs: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vs = vs.as_array().unwrap();
    assert!(vs.len() >= 20);
    for v in vs {
        let got = match TrustPolicy::parse(v["text"].as_str().unwrap(), "p") {
            Ok(_) => "accepted".to_string(),
            Err(e) => e.code,
        };
        assert_eq!(got, v["expect"].as_str().unwrap(), "{}", v["why"]);
    }
}
