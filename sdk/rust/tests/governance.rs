mod common;
use common::*;
use helm::{approval_message, parse_headers, parse_helm_content, parse_mcp_error, parse_mcp_receipt, parse_mcp_tool_governance, parse_signing_key, parse_summary, parse_verifier_key, sign_approval, verify_ed25519, Challenge};
use serde_json::{json, Value};
use std::collections::HashMap;

#[test]
fn parses_headers() {
    let mut h: HashMap<&str, &str> = HashMap::new();
    h.insert("x-helm-decision", "DENY");
    h.insert("x-helm-reason-code", "TOOL_NOT_GRANTED");
    h.insert("x-helm-receipt-id", "sha256:00000000000000000000000000000000000000000000000000000000000000aa");
    h.insert("x-helm-decisions", "call_1=ALLOW:ALLOWED, call%2C2=DENY:TOOL_NOT_GRANTED");
    h.insert("x-helm-tools-removed", "shell.exec=DENY:TOOL_NOT_GRANTED, ...");
    let g = parse_headers(|n| h.get(n).copied()).unwrap().unwrap();
    assert_eq!(g.decision.as_deref(), Some("DENY"));
    assert_eq!(g.decisions.len(), 2);
    assert_eq!(g.decisions[1].id, "call,2");
    assert_eq!(g.tools_removed[0].id, "shell.exec");
    assert!(g.truncated);
    h.insert("x-helm-decisions", "call_1=MAYBE:X");
    assert_eq!(parse_headers(|n| h.get(n).copied()).unwrap_err().code, "ERR_HELM_HEADER");
    assert!(parse_headers(|_| None).unwrap().is_none());
}

#[test]
fn parses_helm_content() {
    let hash = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let content = format!(
        "Sure.\n[HELM] The tool call \"mail.send\" (id \"call_1\") was blocked by policy: DENY DATA_EGRESS_BLOCKED. egress to example.com is not allowed. Receipt: {h}.\n\
[HELM] The tool call \"crm.lookup\\u{{200b}}_customer\" (id \"call_\\\"2\") was refused by the proxy: DENY INPUT_DUPLICATE_KEY. duplicate key \"query\". Receipt: {h}.\n\
[HELM] The tool call \"billing.refund\" (id \"call_3\") needs approval \"manager\" (1 of 2 approvers) before it can run: ESCALATE APPROVAL_REQUIRED. Approval id jgg1gfP9j8oWRNC1vSyxUw, decision {h}; approvals are accepted from 2026-11-22T01:50:14.950Z until 2026-11-23T01:50:14.950Z. Propose the same call again once it is approved. Retry in 5 s. Receipt: {h}.",
        h = hash
    );
    let got = parse_helm_content(&content);
    assert_eq!(got.len(), 3);
    assert_eq!((got[0].kind.as_str(), got[0].tool.as_str(), got[0].tool_call_id.as_deref(), got[0].reason_code.as_str(), got[0].receipt.as_deref()), ("blocked", "mail.send", Some("call_1"), "DATA_EGRESS_BLOCKED", Some(hash)));
    assert_eq!((got[1].kind.as_str(), got[1].tool.as_str(), got[1].tool_call_id.as_deref()), ("refused", "crm.lookup\u{200b}_customer", Some("call_\"2")));
    let a = &got[2];
    assert_eq!((a.kind.as_str(), a.verdict.as_str(), a.approval.as_deref(), a.quorum, a.approvers), ("approval", "ESCALATE", Some("manager"), Some(1), Some(2)));
    assert_eq!((a.approval_id.as_deref(), a.decision.as_deref(), a.retry_after_s, a.expires_at.as_deref()), (Some("jgg1gfP9j8oWRNC1vSyxUw"), Some(hash), Some(5), Some("2026-11-23T01:50:14.950Z")));
    assert!(parse_helm_content("[HELM] something else").is_empty());
}

#[test]
fn parses_summary_and_mcp_meta() {
    let body = json!({"error": {"message": "x", "helm": {"decisions": [{"toolCallId": "c1", "callId": "c1", "tool": "t", "verdict": "DENY", "reasonCode": "R", "recorded": true, "receiptId": "sha256:a", "intentId": null, "lamport": 3, "delivered": false, "detail": "d"}], "toolsRemoved": []}}});
    let s = parse_summary(body.to_string().as_bytes()).unwrap().unwrap();
    assert_eq!((s.decisions[0].verdict.as_str(), s.decisions[0].receipt_id.as_deref(), s.decisions[0].lamport), ("DENY", Some("sha256:a"), Some(3)));
    assert!(parse_summary(b"{}").unwrap().is_none());
    let meta = json!({"other": 1, "helm.mindburn.org/receipt": {"verdict": "ALLOW", "reasonCode": "ALLOWED", "callId": "mcp:1", "decision": "sha256:b", "result": "sha256:d"}});
    let r = parse_mcp_receipt(&meta).unwrap();
    assert_eq!((r.verdict.as_str(), r.result.as_deref()), ("ALLOW", Some("sha256:d")));
    let g = parse_mcp_tool_governance(&json!({"helm.mindburn.org/governance": {"upstream": "crm", "upstreamTool": "lookup", "domain": "crm", "sideEffect": "read", "approval": "none", "pinned": true, "definitionHash": "sha256:x", "conditions": ["c1"]}})).unwrap();
    assert!(g.pinned && g.side_effect == "read" && g.conditions == vec!["c1".to_string()]);
    assert!(parse_mcp_receipt(&json!({"x": 1})).is_none());
    let d = parse_mcp_error(&json!({"verdict": "ESCALATE", "reasonCode": "APPROVAL_REQUIRED", "callId": "c", "receipt": "sha256:b", "challenge": {"nonce": "n", "quorum": 1}})).unwrap();
    assert_eq!(d.challenge.unwrap().nonce, "n");
}

#[test]
fn approval_message_and_signature() {
    let keys: Value = serde_json::from_slice(&read(&spec_dir().join("keys.json"))).unwrap();
    let alice = &keys["approver"];
    let key = parse_signing_key(alice["privateKey"].as_str().unwrap()).unwrap();
    assert_eq!(key.verifier.vkey(), alice["vkey"].as_str().unwrap());
    let c = Challenge {
        decision: "sha256:12f124021483aeef49ff9b601a50a8a64231b6f1075d8ecb5ac95c89cf1f7912".into(),
        policy_digest: "sha256:87215176ad91a98772c3ebad874602f1fabc9c819caa691c926fa14bab42924e".into(),
        nonce: "bm9uY2Utdm90ZS0wMDAx".into(),
        ..Default::default()
    };
    let msg = approval_message(&c.decision, &c.policy_digest, &c.nonce, "approve").unwrap();
    assert_eq!(String::from_utf8(msg.clone()).unwrap(), format!("helm-approval/v1\n{}\n{}\n{}\napprove\n", c.decision, c.policy_digest, c.nonce));
    let s = sign_approval(&c, &key, "approve").unwrap();
    let vk = parse_verifier_key(alice["vkey"].as_str().unwrap()).unwrap();
    let sig = base64::decode(&s.signature).unwrap();
    assert_eq!(s.approver, vk.handle());
    assert!(verify_ed25519(&vk.public_key, &msg, &sig));
    let other = approval_message(&c.decision, &c.policy_digest, &c.nonce, "reject").unwrap();
    assert!(!verify_ed25519(&vk.public_key, &other, &sig), "an approve signature verifies as a reject");
    let bad = Challenge { decision: "sha256:x".into(), ..c.clone() };
    assert_eq!(sign_approval(&bad, &key, "approve").unwrap_err().code, "ERR_APPROVAL_MALFORMED");
    assert_eq!(parse_signing_key("PRIVATE+KEY+x+00000000+AQ==").err().unwrap().code, "ERR_KEY_FORMAT");
}
