#![allow(dead_code)]
use helm::{decode_node, TrustPolicy, TrustRegistry};
use std::path::{Path, PathBuf};

pub fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/spec/vectors")
}

/// ../shared/vectors beside the repository (or HELM_SHARED_DIR/vectors); None when absent.
pub fn shared_vectors() -> Option<PathBuf> {
    let dir = std::env::var("HELM_SHARED_DIR").map(PathBuf::from).unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let v = dir.join("vectors");
    if v.exists() {
        Some(v)
    } else {
        eprintln!("{} not found: third-party vectors skipped (set HELM_SHARED_DIR to the folder holding vectors/)", v.display());
        None
    }
}

pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {}", p.display(), e))
}

pub fn read_str(p: &Path) -> String {
    String::from_utf8(read(p)).unwrap()
}

pub fn policy() -> TrustPolicy {
    TrustPolicy::parse(&read_str(&spec_dir().join("trust-policy.txt")), "trust-policy.txt").unwrap()
}

pub fn entries() -> Vec<Vec<u8>> {
    read_str(&spec_dir().join("log/entries.jsonl")).lines().map(|l| l.as_bytes().to_vec()).collect()
}

pub fn registry() -> TrustRegistry {
    let mut r = TrustRegistry::new(policy());
    for e in entries() {
        let n = decode_node(&e).unwrap();
        if n.kind == "trust" {
            r.add_trust_node(&n).unwrap();
        }
    }
    r
}
