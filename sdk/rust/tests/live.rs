// Drives a real `helmctl serve` that test/sdk-native/rust.test.ts starts, with the HELM_SDK_*
// environment of test/sdk/live-sidecar.ts. Without it the test says so and does nothing.
mod common;
use common::*;
use helm::http::request;
use helm::{parse_headers, parse_helm_content, parse_json, parse_mcp_error_object, parse_mcp_receipt, parse_mcp_tool_governance, parse_summary, sign_approval, AdminClient, Governance, SigningKey, TrustPolicy, TrustRegistry};
use serde_json::{json, Value};
use std::path::Path;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

fn chat(prompt: &str) -> (Governance, Option<helm::Summary>, String) {
    let body = json!({"model": env("HELM_SDK_MODEL"), "messages": [{"role": "user", "content": prompt}]}).to_string();
    let r = request(&format!("{}/chat/completions", env("HELM_SDK_BASE_URL")), "POST", Some(body.as_bytes())).unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let g = parse_headers(|n| r.header(n)).unwrap().expect("X-Helm headers");
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    let content = v["choices"][0]["message"]["content"].as_str().unwrap_or("").to_string();
    (g, parse_summary(&r.body).unwrap(), content)
}

#[test]
fn live_sidecar() {
    if env("HELM_SDK_BASE_URL").is_empty() {
        eprintln!("HELM_SDK_BASE_URL is not set: the live test runs from test/sdk-native/rust.test.ts, which starts helmctl serve");
        return;
    }
    // An allowed call.
    let (allowed, summary, _) = chat(&env("HELM_SDK_PROMPT_ALLOWED"));
    assert_eq!(allowed.decision.as_deref(), Some("ALLOW"));
    let s = summary.expect("helm field");
    assert_eq!(s.decisions[0].tool, env("HELM_SDK_TOOL_ALLOWED"));
    assert!(s.decisions[0].delivered);
    assert_eq!(s.decisions[0].receipt_id, allowed.receipt_id);

    // A denied call: the headers and the [HELM] line agree.
    let (denied, _, content) = chat(&env("HELM_SDK_PROMPT_DENIED"));
    assert_eq!(denied.decision.as_deref(), Some("DENY"));
    let ex = parse_helm_content(&content);
    assert_eq!(ex.len(), 1, "{}", content);
    assert_eq!((ex[0].tool.as_str(), ex[0].verdict.as_str()), (env("HELM_SDK_TOOL_DENIED").as_str(), "DENY"));
    assert_eq!(Some(ex[0].reason_code.clone()), denied.reason_code);
    assert_eq!(ex[0].receipt, denied.receipt_id);

    // An escalated call, approved with a signature made here, then allowed on retry.
    let (esc, _, content) = chat(&env("HELM_SDK_PROMPT_ESCALATED"));
    assert_eq!(esc.decision.as_deref(), Some("ESCALATE"));
    let nonce = esc.approval_id.clone().expect("approval id");
    let ex = parse_helm_content(&content);
    assert_eq!((ex[0].kind.as_str(), ex[0].approval_id.as_deref()), ("approval", Some(nonce.as_str())));
    let admin = AdminClient::new(&env("HELM_SDK_ADMIN_URL"));
    let ceremony = admin.pending().unwrap().into_iter().find(|c| c.challenge.nonce == nonce).expect("pending ceremony");
    assert_eq!(ceremony.tool, env("HELM_SDK_TOOL_ESCALATED"));
    assert_eq!(admin.get(&nonce).unwrap().challenge.decision, ceremony.challenge.decision);
    let key = SigningKey::load(&env("HELM_SDK_APPROVER_KEY")).unwrap();
    let mut forged = sign_approval(&ceremony.challenge, &key, "approve").unwrap();
    forged.verdict = "reject".into();
    assert_eq!(admin.submit(&forged).unwrap_err().code, "ERR_APPROVAL_BAD_SIGNATURE");
    let sub = sign_approval(&ceremony.challenge, &key, "approve").unwrap();
    assert_eq!(sub.approver, env("HELM_SDK_APPROVER_HANDLE"));
    let acc = admin.submit(&sub).unwrap();
    assert!(acc.receipt.starts_with("sha256:"));
    let (granted, _, _) = chat(&env("HELM_SDK_PROMPT_ESCALATED"));
    assert_eq!((granted.decision.as_deref(), granted.reason_code.as_deref()), (Some("ALLOW"), Some("APPROVAL_GRANTED")));

    // The MCP gateway: governance of a listed tool, of an executed call (_meta) and of a refused one
    // (JSON-RPC error data); their receipts are verified offline below.
    let mut mcp_cases: Vec<(&str, String, &str)> = vec![];
    let mcp_url = env("HELM_SDK_MCP_URL");
    if !mcp_url.is_empty() {
        let list = mcp_call(&mcp_url, "tools/list", json!({}));
        let tool = &list["result"]["tools"][0];
        let g = parse_mcp_tool_governance(&tool["_meta"]).expect("tool governance");
        assert!(!g.upstream.is_empty() && g.definition_hash.starts_with("sha256:"));
        let name = tool["name"].as_str().unwrap();
        let done = mcp_call(&mcp_url, "tools/call", json!({"name": name, "arguments": {"message": "hello"}}));
        let r = parse_mcp_receipt(&done["result"]["_meta"]).expect("mcp receipt");
        assert_eq!(r.verdict, "ALLOW");
        let refused = mcp_call(&mcp_url, "tools/call", json!({"name": name, "arguments": {"message": "my password"}}));
        let d = parse_mcp_error_object(&refused["error"]).expect("mcp refusal");
        assert_eq!((d.verdict.as_str(), d.kind.as_deref()), ("DENY", Some("denied")));
        mcp_cases.push(("mcp decision", r.decision.clone().unwrap(), "ALLOW"));
        mcp_cases.push(("mcp result", r.receipt().unwrap().to_string(), ""));
        mcp_cases.push(("mcp denied", d.receipt.unwrap(), "DENY"));
    }

    // Offline: export, then verify each receipt against the trust policy alone.
    let r = request(&env("HELM_SDK_EXPORT_URL"), "POST", Some(b"")).unwrap();
    assert_eq!(r.status, 200);
    let pack = Path::new(&env("HELM_SDK_PACK_DIR")).to_path_buf();
    let mut reg = TrustRegistry::new(TrustPolicy::load(&env("HELM_SDK_TRUST_POLICY")).unwrap());
    for line in read_str(&pack.join("trust-events.jsonl")).lines() {
        reg.add(&parse_json(line.as_bytes()).unwrap()).unwrap();
    }
    let mut cases = vec![("allowed", allowed.receipt_id.unwrap(), "ALLOW"), ("denied", denied.receipt_id.unwrap(), "DENY"), ("granted", granted.receipt_id.unwrap(), "ALLOW"), ("approval", acc.receipt.clone(), "")];
    cases.extend(mcp_cases.iter().cloned());
    for (name, id, verdict) in cases.iter() {
        let hex = id.trim_start_matches("sha256:");
        let entry = read(&pack.join("receipts").join(format!("{}.json", hex)));
        let proof = read_str(&pack.join("receipts").join(format!("{}.tlog-proof", hex)));
        let v = reg.verify_receipt(&entry, &proof).unwrap_or_else(|e| panic!("{} receipt: {}", name, e));
        assert_eq!(&v.node.entry_hash, id);
        if !verdict.is_empty() {
            assert_eq!(v.node.body()["verdict"], *verdict, "{}", name);
        } else if *name == "mcp result" {
            assert_eq!((v.node.kind.as_str(), v.node.body()["status"].as_str()), ("result", Some("ok")));
        } else {
            assert_eq!((v.node.kind.as_str(), v.node.body()["approver"].as_str()), ("approval", Some(sub.approver.as_str())));
        }
        let tampered = String::from_utf8(entry.clone()).unwrap().replacen("\"payload\":\"eyJ", "\"payload\":\"eyK", 1);
        assert!(reg.verify_receipt(tampered.as_bytes(), &proof).is_err(), "{}: tampered receipt verified", name);
    }
    println!("live_sidecar: {} receipts verified offline ({} from the MCP gateway)", cases.len(), mcp_cases.len());
}

/// One JSON-RPC request to the gateway (stateless Streamable HTTP): the response message, from a
/// JSON body or the SSE stream's data line.
fn mcp_call(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let r = helm::http::request_with(url, "POST", Some(body.as_bytes()), &[("Accept", "application/json, text/event-stream"), ("MCP-Protocol-Version", "2025-06-18")]).unwrap();
    let text = String::from_utf8(r.body).unwrap();
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or(&text).to_string();
    serde_json::from_str(&data).unwrap()
}
