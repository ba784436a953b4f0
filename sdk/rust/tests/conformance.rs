// The cross-language conformance cases (docs/sdks.md): the same tampering in every SDK, the
// version tied to receipt.md, and the governance vectors test/sdk/vectors/governance.json that the
// TypeScript suite writes from the sidecar's own formatters.
mod common;
use common::*;
use helm::{canonicalize, decode_node, parse_headers, parse_helm_content, parse_json, parse_mcp_error_object, parse_mcp_receipt, parse_mcp_tool_governance, parse_summary, TrustRegistry};
use serde_json::Value;
use std::path::Path;

fn code<T>(r: Result<T, helm::Error>) -> String {
    r.err().map(|e| e.code).unwrap_or_else(|| "OK".into())
}

fn lamport_plus_one(entry: &str) -> Vec<u8> {
    let mut env = parse_json(entry.as_bytes()).unwrap();
    let mut st = parse_json(&base64::decode(env["payload"].as_str().unwrap()).unwrap()).unwrap();
    let l = st["predicate"]["lamport"].as_u64().unwrap();
    st["predicate"]["lamport"] = Value::from(l + 1);
    env["payload"] = Value::String(base64::encode(canonicalize(&st).unwrap()));
    canonicalize(&env).unwrap()
}

#[test]
fn conformance_nodes() {
    let with_events = registry();
    let without = TrustRegistry::new(policy());
    for f in std::fs::read_dir(spec_dir().join("nodes")).unwrap() {
        let f = f.unwrap().path();
        let v: Value = serde_json::from_slice(&read(&f)).unwrap();
        let entry = v["entry"].as_str().unwrap();
        let n = decode_node(entry.as_bytes()).unwrap();
        assert_eq!(with_events.verify_node(&n).unwrap().handle(), "helm-vectors/agent-0/node+4122bc29");
        assert_eq!(code(without.verify_node(&n)), "ERR_UNTRUSTED_SIGNER", "{}", f.display());
        let t = decode_node(&lamport_plus_one(entry)).unwrap();
        assert_eq!(code(with_events.verify_node(&t)), "ERR_SIGNATURE", "{}", f.display());
    }
}

#[test]
fn conformance_tlog_proof() {
    let r = registry();
    let e = entries();
    let proof = read_str(&spec_dir().join("log/decision-03.tlog-proof"));
    let lines: Vec<&str> = proof.split('\n').collect();
    let mut h = base64::decode(lines[2]).unwrap();
    h[0] ^= 1;
    let flipped = proof.replacen(lines[2], &base64::encode(h), 1);
    let root_line = lines.iter().find(|l| l.starts_with("XAG24lhj")).unwrap();
    let sevens = proof.replacen(root_line, &base64::encode([7u8; 32]), 1);
    assert_eq!(code(r.verify_receipt(&e[3], &flipped)), "ERR_TLOG_PROOF_INCLUSION");
    assert_eq!(code(r.verify_receipt(&e[2], &proof)), "ERR_TLOG_PROOF_INCLUSION");
    assert_eq!(code(r.verify_receipt(&e[3], &proof.replacen("index 3", "index 2", 1))), "ERR_TLOG_PROOF_INCLUSION");
    assert_eq!(code(r.verify_receipt(&e[3], &sevens)), "ERR_CHECKPOINT_BAD_SIGNATURE");
}

#[test]
fn version_is_the_spec_version() {
    let receipt = read_str(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/spec/receipt.md"));
    let title = receipt.lines().next().unwrap();
    let v = title.rsplit(' ').next().unwrap();
    assert!(title.ends_with(&format!("version {}", helm::SPEC_VERSION)), "{}", title);
    assert!(helm::VERSION.starts_with(&format!("{}.", v)), "crate {} for spec {}", helm::VERSION, v);
}

#[test]
fn governance_vectors() {
    let v: Value = serde_json::from_slice(&read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test/sdk/vectors/governance.json"))).unwrap();
    let s = |x: &Value| x.as_str().map(str::to_string);
    let c = &v["completion"];
    let want = &c["expect"];
    let g = parse_headers(|n| c["headers"][n].as_str()).unwrap().unwrap();
    assert_eq!((g.decision.clone(), g.reason_code.clone(), g.receipt_id.clone(), g.approval_id.clone(), g.truncated), (s(&want["verdict"]), s(&want["reasonCode"]), s(&want["receiptId"]), s(&want["approvalId"]), want["truncated"].as_bool().unwrap()));
    let sum = parse_summary(c["body"].to_string().as_bytes()).unwrap().unwrap();
    let calls = want["calls"].as_array().unwrap();
    assert_eq!(sum.decisions.len(), calls.len());
    for (i, w) in calls.iter().enumerate() {
        let d = &sum.decisions[i];
        assert_eq!(
            (d.tool_call_id.clone(), d.tool.clone(), d.verdict.clone(), d.reason_code.clone(), d.receipt_id.clone(), d.delivered, d.approval.as_ref().map(|a| a.nonce.clone())),
            (s(&w["toolCallId"]), s(&w["tool"]).unwrap(), s(&w["verdict"]).unwrap(), s(&w["reasonCode"]).unwrap(), s(&w["receiptId"]), w["delivered"].as_bool().unwrap(), s(&w["approvalNonce"])),
            "call {}",
            i
        );
        assert_eq!(Some(g.decisions[i].id.clone()), s(&w["toolCallId"]));
    }
    assert_eq!(g.tools_removed[0].id, want["toolsRemoved"][0]["tool"].as_str().unwrap());
    let ho = &v["headersOnly"];
    let g = parse_headers(|n| ho["headers"][n].as_str()).unwrap().unwrap();
    assert_eq!((g.decision.clone(), g.truncated), (s(&ho["expect"]["verdict"]), true));
    let ids: Vec<String> = g.decisions.iter().map(|d| d.id.clone()).collect();
    let want_ids: Vec<String> = ho["expect"]["callIds"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
    assert_eq!(ids, want_ids);
    let notices = parse_helm_content(v["notices"]["content"].as_str().unwrap());
    let want = v["notices"]["expect"].as_array().unwrap();
    assert_eq!(notices.len(), want.len());
    for (e, w) in notices.iter().zip(want) {
        assert_eq!(
            (Some(e.tool.clone()), e.tool_call_id.clone(), Some(e.verdict.clone()), Some(e.reason_code.clone()), Some(e.kind.clone()), e.receipt.clone(), e.approval_id.clone(), e.decision.clone()),
            (s(&w["tool"]), s(&w["toolCallId"]), s(&w["verdict"]), s(&w["reasonCode"]), s(&w["kind"]), s(&w["receiptId"]), s(&w["approvalId"]), s(&w["decision"]))
        );
    }
    let m = &v["mcp"];
    let r = parse_mcp_receipt(&m["result"]["_meta"]).unwrap();
    assert_eq!((Some(r.verdict.clone()), Some(r.reason_code.clone()), r.receipt().map(str::to_string)), (s(&m["resultExpect"]["verdict"]), s(&m["resultExpect"]["reasonCode"]), s(&m["resultExpect"]["receipt"])));
    for k in ["denied", "pending"] {
        let d = parse_mcp_error_object(&m[k]).unwrap();
        let w = &m[format!("{}Expect", k)];
        assert_eq!((Some(d.verdict), Some(d.reason_code), d.receipt, d.kind, d.challenge.map(|c| c.nonce)), (s(&w["verdict"]), s(&w["reasonCode"]), s(&w["receipt"]), s(&w["kind"]), s(&w["approvalNonce"])), "{}", k);
    }
    assert!(parse_mcp_error_object(&m["otherError"]).is_none());
    let t = parse_mcp_tool_governance(&m["tool"]["_meta"]).unwrap();
    assert!(t.pinned && t.upstream == "crm" && t.side_effect == "read" && t.definition_hash.starts_with("sha256:"));
}

#[test]
fn lone_surrogate_is_a_schema_error() {
    let v: Value = serde_json::from_slice(&read(&spec_dir().join("nodes/03-decision.json"))).unwrap();
    let jcs = v["payloadJcs"].as_str().unwrap();
    for (with, want) in [("\"call_\\ud800\"", "ERR_SCHEMA"), ("\"call_\\udc00x\"", "ERR_SCHEMA"), ("\"call_\\ud83d\\ude00\"", "ERR_NOT_CANONICAL")] {
        let payload = jcs.replacen("\"call_01\"", with, 1);
        let entry = format!("{{\"payload\":\"{}\",\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[{{\"keyid\":\"k+00000000\",\"sig\":\"{}\"}}]}}", base64::encode(payload), base64::encode([0u8; 64]));
        assert_eq!(code(decode_node(entry.as_bytes())), want, "{}", with);
    }
}
