mod common;
use common::*;
use helm::{canonicalize_json, decode_node, open_key_event, parse_json, verify_checkpoint, verify_ed25519, TrustPolicy};
use serde_json::Value;

fn code<T>(r: Result<T, helm::Error>) -> String {
    match r {
        Ok(_) => "OK".into(),
        Err(e) => e.code,
    }
}

#[test]
fn spec_node_vectors_verify_and_tampered_copies_fail() {
    let r = registry();
    let mut files: Vec<_> = std::fs::read_dir(spec_dir().join("nodes")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 9);
    for f in files {
        let v: Value = serde_json::from_slice(&read(&f)).unwrap();
        let entry = v["entry"].as_str().unwrap();
        let n = decode_node(entry.as_bytes()).unwrap_or_else(|e| panic!("{}: {}", f.display(), e));
        assert_eq!(n.kind, v["kind"].as_str().unwrap());
        assert_eq!(n.index, v["index"].as_u64().unwrap());
        assert_eq!(n.entry_hash, v["entryHash"].as_str().unwrap());
        r.verify_node(&n).unwrap_or_else(|e| panic!("{}: {}", f.display(), e));
        let tampered = entry.replacen("\"payload\":\"eyJ", "\"payload\":\"eyK", 1);
        let failed = match decode_node(tampered.as_bytes()) {
            Err(_) => true,
            Ok(t) => r.verify_node(&t).is_err(),
        };
        assert!(failed, "{}: tampered copy verified", f.display());
    }
}

#[test]
fn spec_negative_vectors_fail_with_their_code() {
    let r = registry();
    let negs: Value = serde_json::from_slice(&read(&spec_dir().join("negative.json"))).unwrap();
    let negs = negs.as_array().unwrap();
    assert!(negs.len() >= 6);
    for v in negs {
        let got = match decode_node(v["entry"].as_str().unwrap().as_bytes()) {
            Err(e) => e.code,
            Ok(n) => code(r.verify_node(&n)),
        };
        assert_eq!(got, v["expect"].as_str().unwrap(), "{}", v["why"]);
    }
}

#[test]
fn tlog_proof_vector_verifies_and_tampered_copies_fail() {
    let r = registry();
    let e = entries();
    let proof = read_str(&spec_dir().join("log/decision-03.tlog-proof"));
    let got = r.verify_receipt(&e[3], &proof).unwrap();
    assert_eq!(got.node.kind, "decision");
    assert_eq!(got.checkpoint.checkpoint.size, 9);
    assert_eq!(got.signed_by.handle(), "helm-vectors/agent-0/node+4122bc29");
    let cases = [
        ("other entry", e[4].clone(), proof.clone(), "ERR_TLOG_PROOF_INCLUSION"),
        ("index past size", e[3].clone(), proof.replacen("index 3", "index 9", 1), "ERR_TLOG_PROOF_INDEX"),
        ("flipped path hash", e[3].clone(), proof.replacen("SCtq5RX3", "SCtq5RX4", 1), "ERR_TLOG_PROOF_INCLUSION"),
        ("altered root", e[3].clone(), proof.replacen("XAG24lhj", "XAG24lhk", 1), "ERR_CHECKPOINT_BAD_SIGNATURE"),
        ("bad header", e[3].clone(), proof.replacen("@v1", "@v2", 1), "ERR_TLOG_PROOF_MALFORMED"),
        ("leading zero", e[3].clone(), proof.replacen("index 3", "index 03", 1), "ERR_TLOG_PROOF_MALFORMED"),
    ];
    for (name, entry, p, want) in cases.iter() {
        assert_eq!(code(r.verify_receipt(entry, p)), *want, "{}", name);
    }
}

#[test]
fn checkpoint_vectors_against_policy() {
    let p = policy();
    for f in ["checkpoint-4.note", "checkpoint-9.note", "checkpoint-9.witnessed.note"] {
        let note = read_str(&spec_dir().join("log").join(f));
        let cp = verify_checkpoint(&note, &p).unwrap_or_else(|e| panic!("{}: {}", f, e));
        assert_eq!(cp.checkpoint.origin, "helm.mindburn.org/vectors/agent-0");
        if f.contains("witnessed") {
            assert_eq!(cp.witnesses, vec!["w1".to_string()]);
        }
        let tampered = note.replacen(&format!("\n{}\n", cp.checkpoint.size), &format!("\n{}\n", cp.checkpoint.size + 1), 1);
        assert_eq!(code(verify_checkpoint(&tampered, &p)), "ERR_CHECKPOINT_BAD_SIGNATURE", "{}", f);
    }
    let q = TrustPolicy::parse(&read_str(&spec_dir().join("trust-policy.txt")).replacen("quorum none", "quorum w1", 1), "q").unwrap();
    assert_eq!(code(verify_checkpoint(&read_str(&spec_dir().join("log/checkpoint-9.note")), &q)), "ERR_QUORUM_NOT_MET");
    verify_checkpoint(&read_str(&spec_dir().join("log/checkpoint-9.witnessed.note")), &q).unwrap();
}

#[test]
fn trust_policy_rules() {
    let base = read_str(&spec_dir().join("trust-policy.txt"));
    let lines: Vec<&str> = base.split('\n').collect();
    let log_vkey = lines[1].split_whitespace().nth(1).unwrap();
    let bad = [
        ("crlf", base.replacen('\n', "\r\n", 1)),
        ("unknown keyword", format!("{}logs x\n", base)),
        ("two quorums", format!("{}quorum none\n", base)),
        ("two roots", format!("{}{}\n", base, lines[4])),
        ("undefined group", format!("{}group g 1 nobody\n", base)),
        ("k too large", format!("{}group g 2 w1\n", base)),
        ("log as witness", format!("{}witness w2 {}\n", base, log_vkey)),
        ("no quorum", base.replacen("quorum none\n", "", 1)),
    ];
    for (name, text) in bad.iter() {
        assert_eq!(code(TrustPolicy::parse(text, "p")), "ERR_POLICY_SYNTAX", "{}", name);
    }
}

#[test]
fn log_key_certification_vector() {
    let v: Value = serde_json::from_slice(&read(&spec_dir().join("trust/log-key-certification.json"))).unwrap();
    let root = policy().root.unwrap();
    let ev = open_key_event(&v["envelope"], &root).unwrap();
    assert_eq!((ev.purpose.as_str(), ev.event.as_str()), ("log", "KEY_PUBLISH"));
    assert_eq!(ev.key.name, ev.origin);
    let mut t = v["envelope"].clone();
    t["payload"] = Value::String(t["payload"].as_str().unwrap().replacen("eyJ", "eyK", 1));
    assert!(open_key_event(&t, &root).is_err());
}

#[test]
fn jcs_vectors() {
    let dir = match shared_vectors() {
        Some(v) => v.join("jcs"),
        None => return,
    };
    let mut n = 0;
    for f in std::fs::read_dir(dir.join("input")).unwrap() {
        let f = f.unwrap().path();
        let want = read(&dir.join("output").join(f.file_name().unwrap()));
        let got = canonicalize_json(&read(&f)).unwrap_or_else(|e| panic!("{}: {}", f.display(), e));
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "{}", f.display());
        let mut tampered = want.clone();
        let mid = tampered.len() / 2;
        tampered[mid] ^= 0x20;
        assert_ne!(got, tampered);
        n += 1;
    }
    assert!(n > 0);
    // Numbers format as ECMAScript does.
    assert_eq!(helm::format_es6(1e21), "1e+21");
    assert_eq!(helm::format_es6(1e-7), "1e-7");
    assert_eq!(helm::format_es6(123456789012345680000.0), "123456789012345680000");
    assert_eq!(String::from_utf8(canonicalize_json(b"[0.000001, -0.0]").unwrap()).unwrap(), "[0.000001,0]");
    assert!(parse_json(b"\xff").is_err());
}

/// Hex to bytes; text that is not hex is an empty signature (the cross-SDK rule).
fn unhex(s: &str) -> Vec<u8> {
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return vec![];
    }
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

#[test]
fn wycheproof_ed25519() {
    let dir = match shared_vectors() {
        Some(v) => v,
        None => return,
    };
    let suite: Value = serde_json::from_slice(&read(&dir.join("ed25519/wycheproof_ed25519_test.json"))).unwrap();
    let mut count = 0;
    let mut wrong = vec![];
    for g in suite["testGroups"].as_array().unwrap() {
        let pk = unhex(g["publicKey"]["pk"].as_str().unwrap());
        for c in g["tests"].as_array().unwrap() {
            let msg = unhex(c["msg"].as_str().unwrap());
            let sig = unhex(c["sig"].as_str().unwrap());
            let ok = verify_ed25519(&pk, &msg, &sig);
            if ok != (c["result"] == "valid") {
                wrong.push(c["tcId"].as_u64().unwrap());
            }
            if ok {
                let mut m = msg.clone();
                m.push(0);
                let mut s = sig.clone();
                s[0] ^= 1;
                assert!(!verify_ed25519(&pk, &m, &sig) && !verify_ed25519(&pk, &msg, &s), "tcId {}: tampered message or signature verified", c["tcId"]);
            }
            count += 1;
        }
    }
    assert!(wrong.is_empty(), "Wycheproof cases answered wrongly: {:?}", wrong);
    assert!(count >= 100);
}
