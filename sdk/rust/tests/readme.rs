// The examples of README.md: the first runs on the spec vectors, the second is compiled (it needs
// a running sidecar). readme_shows_these_examples checks the README shows them as they are.
use helm::{decode_node, parse_headers, sign_approval, AdminClient, SigningKey, TrustPolicy, TrustRegistry};

#[test]
fn verify_a_receipt_offline() -> Result<(), helm::Error> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/spec/vectors");
    let mut trust = TrustRegistry::new(TrustPolicy::load(&format!("{}/trust-policy.txt", dir))?);
    let log = std::fs::read_to_string(format!("{}/log/entries.jsonl", dir)).unwrap();
    let entries: Vec<&[u8]> = log.lines().map(str::as_bytes).collect();
    for entry in &entries {
        let node = decode_node(entry)?;
        if node.kind == "trust" {
            trust.add_trust_node(&node)?; // root-signed key events publish the node keys
        }
    }
    let proof = std::fs::read_to_string(format!("{}/log/decision-03.tlog-proof", dir)).unwrap();
    let receipt = trust.verify_receipt(entries[3], &proof)?; // Err(e): e.code is ERR_SIGNATURE, ...
    assert_eq!(receipt.node.body()["verdict"], "ESCALATE");
    assert_eq!(receipt.signed_by.handle(), "helm-vectors/agent-0/node+4122bc29");
    Ok(())
}

#[allow(dead_code)]
fn governance_and_approval(response_headers: &std::collections::HashMap<String, String>) -> Result<(), helm::Error> {
    // Adapt parse_headers to your HTTP client's header map (names are looked up in lower case).
    let g = parse_headers(|name| response_headers.get(name).map(String::as_str))?;
    if let Some(g) = g.filter(|g| g.decision.as_deref() == Some("ESCALATE")) {
        let admin = AdminClient::new("http://127.0.0.1:9090");
        let ceremony = admin.get(g.approval_id.as_deref().unwrap_or_default())?;
        let key = SigningKey::load("alice.key")?; // written by helmctl keygen
        let accepted = admin.submit(&sign_approval(&ceremony.challenge, &key, "approve")?)?;
        println!("approval recorded as {}", accepted.receipt);
    }
    Ok(())
}

#[test]
fn readme_shows_these_examples() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let this = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/readme.rs")).unwrap();
    let blocks: Vec<&str> = readme.split("```rust\n").skip(1).map(|b| &b[..b.find("```").unwrap()]).collect();
    assert_eq!(blocks.len(), 2);
    for b in blocks {
        assert!(this.contains(b), "README block is not in tests/readme.rs:\n{}", b);
    }
}
