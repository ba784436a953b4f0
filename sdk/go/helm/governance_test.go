package helm

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
)

func TestParseHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("X-Helm-Decision", "DENY")
	h.Set("X-Helm-Reason-Code", "TOOL_NOT_GRANTED")
	h.Set("X-Helm-Receipt-Id", "sha256:00000000000000000000000000000000000000000000000000000000000000aa")
	h.Set("X-Helm-Decisions", "call_1=ALLOW:ALLOWED, call%2C2=DENY:TOOL_NOT_GRANTED")
	h.Set("X-Helm-Tools-Removed", "shell.exec=DENY:TOOL_NOT_GRANTED, ...")
	g, ok, err := ParseHeaders(h)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if g.Decision != "DENY" || g.ReasonCode != "TOOL_NOT_GRANTED" || len(g.Decisions) != 2 || g.Decisions[1].ID != "call,2" || g.Decisions[1].Verdict != "DENY" {
		t.Fatalf("%+v", g)
	}
	if len(g.ToolsRemoved) != 1 || !g.Truncated || g.ToolsRemoved[0].ID != "shell.exec" {
		t.Fatalf("%+v", g)
	}
	h.Set("X-Helm-Decisions", "call_1=MAYBE:X")
	if _, _, err := ParseHeaders(h); CodeOf(err) != "ERR_HELM_HEADER" {
		t.Fatalf("malformed entry accepted: %v", err)
	}
	if _, ok, _ := ParseHeaders(http.Header{}); ok {
		t.Fatal("a response without X-Helm headers has governance")
	}
}

func TestParseHelmContent(t *testing.T) {
	hash := "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	content := "Sure.\n" +
		`[HELM] The tool call "mail.send" (id "call_1") was blocked by policy: DENY DATA_EGRESS_BLOCKED. egress to example.com is not allowed. Receipt: ` + hash + ".\n" +
		`[HELM] The tool call "crm.lookup\u{200b}_customer" (id "call_\"2") was refused by the proxy: DENY INPUT_DUPLICATE_KEY. duplicate key "query". Receipt: ` + hash + ".\n" +
		`[HELM] The tool call "billing.refund" (id "call_3") needs approval "manager" (1 of 2 approvers) before it can run: ESCALATE APPROVAL_REQUIRED. Approval id jgg1gfP9j8oWRNC1vSyxUw, decision ` + hash + `; approvals are accepted from 2026-11-22T01:50:14.950Z until 2026-11-23T01:50:14.950Z. Propose the same call again once it is approved. Retry in 5 s. Receipt: ` + hash + "."
	got := ParseHelmContent(content)
	if len(got) != 3 {
		t.Fatalf("%d explanations", len(got))
	}
	if got[0].Kind != "blocked" || got[0].Tool != "mail.send" || got[0].ToolCallID != "call_1" || got[0].ReasonCode != "DATA_EGRESS_BLOCKED" || got[0].Receipt != hash {
		t.Fatalf("%+v", got[0])
	}
	if got[1].Kind != "refused" || got[1].Tool != "crm.lookup\u200b_customer" || got[1].ToolCallID != `call_"2` {
		t.Fatalf("%+v", got[1])
	}
	a := got[2]
	if a.Kind != "approval" || a.Verdict != "ESCALATE" || a.Approval != "manager" || a.Quorum != 1 || a.Approvers != 2 || a.ApprovalID != "jgg1gfP9j8oWRNC1vSyxUw" || a.Decision != hash || a.RetryAfterS != 5 || a.ExpiresAt != "2026-11-23T01:50:14.950Z" {
		t.Fatalf("%+v", a)
	}
	if len(ParseHelmContent("[HELM] something else")) != 0 {
		t.Fatal("a line that is not an explanation was parsed")
	}
}

func TestParseMCPMeta(t *testing.T) {
	meta := json.RawMessage(`{"other":1,"helm.mindburn.org/receipt":{"verdict":"ALLOW","reasonCode":"ALLOWED","callId":"mcp:1","intent":"sha256:a","decision":"sha256:b","effect":"sha256:c","result":"sha256:d"}}`)
	r, ok, err := ParseMCPReceipt(meta)
	if err != nil || !ok || r.Verdict != "ALLOW" || r.Result != "sha256:d" {
		t.Fatalf("%+v %v %v", r, ok, err)
	}
	g, ok, err := ParseMCPToolGovernance(json.RawMessage(`{"helm.mindburn.org/governance":{"upstream":"crm","upstreamTool":"lookup","domain":"crm","sideEffect":"read","approval":"none","pinned":true,"definitionHash":"sha256:x","conditions":["c1"]}}`))
	if err != nil || !ok || g.SideEffect != "read" || !g.Pinned || g.Conditions[0] != "c1" {
		t.Fatalf("%+v %v %v", g, ok, err)
	}
	if _, ok, _ := ParseMCPReceipt(json.RawMessage(`{"x":1}`)); ok {
		t.Fatal("meta without a receipt has one")
	}
	d, err := ParseMCPError(json.RawMessage(`{"verdict":"ESCALATE","reasonCode":"APPROVAL_REQUIRED","callId":"c","receipt":"sha256:b","receipts":{"decision":"sha256:b"},"challenge":{"nonce":"n","quorum":1}}`))
	if err != nil || d.Challenge.Nonce != "n" || d.Receipts["decision"] != "sha256:b" {
		t.Fatalf("%+v %v", d, err)
	}
}

func TestApprovalMessageAndSignature(t *testing.T) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(read(t, filepath.Join(specDir, "keys.json")), &keys); err != nil {
		t.Fatal(err)
	}
	var alice struct{ VKey, PrivateKey, Handle string }
	if err := json.Unmarshal(keys["approver"], &alice); err != nil {
		t.Fatal(err)
	}
	key, err := ParseSigningKey(alice.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if key.Verifier.VKey() != alice.VKey || key.Verifier.Handle() != alice.Handle {
		t.Fatalf("key %s does not match keys.json", key.Verifier.VKey())
	}
	c := Challenge{
		Decision:     "sha256:12f124021483aeef49ff9b601a50a8a64231b6f1075d8ecb5ac95c89cf1f7912",
		PolicyDigest: "sha256:87215176ad91a98772c3ebad874602f1fabc9c819caa691c926fa14bab42924e",
		Nonce:        "bm9uY2Utdm90ZS0wMDAx",
	}
	msg, _ := ApprovalMessage(c.Decision, c.PolicyDigest, c.Nonce, "approve")
	want := "helm-approval/v1\n" + c.Decision + "\n" + c.PolicyDigest + "\n" + c.Nonce + "\napprove\n"
	if string(msg) != want {
		t.Fatalf("message %q", msg)
	}
	s, err := SignApproval(c, key, "approve")
	if err != nil {
		t.Fatal(err)
	}
	vk, _ := ParseVerifierKey(alice.VKey)
	sig, _ := base64.StdEncoding.DecodeString(s.Signature)
	if s.Approver != vk.Handle() || !ed25519.Verify(vk.PublicKey, msg, sig) {
		t.Fatal("signature does not verify under the approver's vkey")
	}
	// The same signature is not valid for the other verdict or another nonce (domain separation).
	other, _ := ApprovalMessage(c.Decision, c.PolicyDigest, c.Nonce, "reject")
	if ed25519.Verify(vk.PublicKey, other, sig) {
		t.Fatal("approve signature verifies as a reject")
	}
	if _, err := SignApproval(Challenge{Decision: "sha256:x", PolicyDigest: c.PolicyDigest, Nonce: c.Nonce}, key, "approve"); CodeOf(err) != "ERR_APPROVAL_MALFORMED" {
		t.Fatalf("malformed decision accepted: %v", err)
	}
	if _, err := ParseSigningKey("PRIVATE+KEY+x+00000000+AQ=="); CodeOf(err) != "ERR_KEY_FORMAT" {
		t.Fatalf("bad key accepted: %v", err)
	}
}
