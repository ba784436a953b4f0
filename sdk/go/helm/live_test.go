package helm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The live test drives a real `helmctl serve` that test/sdk-native/go.test.ts starts; it passes
// the URLs and files in HELM_SDK_* (contract: test/sdk/live-sidecar.ts).
func liveEnv(t *testing.T, name string) string {
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set: the live test runs from test/sdk-native/go.test.ts, which starts helmctl serve", name)
	}
	return v
}

type liveChat struct {
	t      *testing.T
	client *http.Client
	last   *Governance
	sum    *Summary
}

func (c *liveChat) send(prompt string) string {
	c.t.Helper()
	body, _ := json.Marshal(map[string]interface{}{
		"model":    os.Getenv("HELM_SDK_MODEL"),
		"messages": []map[string]string{{"role": "user", "content": prompt}},
	})
	res, err := c.client.Post(liveEnv(c.t, "HELM_SDK_BASE_URL")+"/chat/completions", "application/json", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Choices []struct {
			Message struct {
				Content   *string           `json:"content"`
				ToolCalls []json.RawMessage `json:"tool_calls"`
			}
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		c.t.Fatalf("chat answered %d: %v", res.StatusCode, err)
	}
	if out.Choices[0].Message.Content == nil {
		return ""
	}
	return *out.Choices[0].Message.Content
}

func TestLiveSidecar(t *testing.T) {
	ctx := context.Background()
	chat := &liveChat{t: t}
	chat.client = &http.Client{Transport: &Transport{OnResponse: func(g *Governance, s *Summary, _ *http.Request) { chat.last, chat.sum = g, s }}}
	toolAllowed, toolDenied, toolEscalated := liveEnv(t, "HELM_SDK_TOOL_ALLOWED"), liveEnv(t, "HELM_SDK_TOOL_DENIED"), liveEnv(t, "HELM_SDK_TOOL_ESCALATED")

	// An allowed call: ALLOW in the headers and in the helm field, the call delivered.
	chat.send(liveEnv(t, "HELM_SDK_PROMPT_ALLOWED"))
	allowed := chat.last
	if allowed.Decision != "ALLOW" || !strings.HasPrefix(allowed.ReceiptID, "sha256:") || len(allowed.Decisions) != 1 {
		t.Fatalf("allowed call: %+v", allowed)
	}
	if chat.sum == nil || chat.sum.Decisions[0].Tool != toolAllowed || !chat.sum.Decisions[0].Delivered || *chat.sum.Decisions[0].ReceiptID != allowed.ReceiptID {
		t.Fatalf("allowed call summary: %+v", chat.sum)
	}

	// A denied call: DENY in the headers, and a [HELM] line in place of the call.
	content := chat.send(liveEnv(t, "HELM_SDK_PROMPT_DENIED"))
	denied := chat.last
	if denied.Decision != "DENY" || denied.ReasonCode == "" {
		t.Fatalf("denied call: %+v", denied)
	}
	ex := ParseHelmContent(content)
	if len(ex) != 1 || ex[0].Tool != toolDenied || ex[0].Verdict != "DENY" || ex[0].ReasonCode != denied.ReasonCode || ex[0].Receipt != denied.ReceiptID {
		t.Fatalf("denied call explanation %+v from %q", ex, content)
	}

	// An escalated call: approve it with a signature, then the retry is allowed.
	content = chat.send(liveEnv(t, "HELM_SDK_PROMPT_ESCALATED"))
	if chat.last.Decision != "ESCALATE" || chat.last.ApprovalID == "" {
		t.Fatalf("escalated call: %+v", chat.last)
	}
	if ex := ParseHelmContent(content); len(ex) != 1 || ex[0].Kind != "approval" || ex[0].ApprovalID != chat.last.ApprovalID || ex[0].Tool != toolEscalated {
		t.Fatalf("escalation explanation %+v", ex)
	}
	admin := &AdminClient{BaseURL: liveEnv(t, "HELM_SDK_ADMIN_URL")}
	pending, err := admin.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ceremony *Ceremony
	for i := range pending {
		if pending[i].Nonce == chat.last.ApprovalID {
			ceremony = &pending[i]
		}
	}
	if ceremony == nil || ceremony.Tool != toolEscalated {
		t.Fatalf("ceremony %s not pending: %+v", chat.last.ApprovalID, pending)
	}
	key, err := LoadSigningKey(liveEnv(t, "HELM_SDK_APPROVER_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	// A wrong signature is refused with the PEP's code and changes nothing.
	forged, _ := SignApproval(ceremony.Challenge, key, "approve")
	forged.Verdict = "reject"
	if _, err := admin.Submit(ctx, forged); CodeOf(err) != "ERR_APPROVAL_BAD_SIGNATURE" {
		t.Fatalf("forged approval: %v", err)
	}
	sub, err := SignApproval(ceremony.Challenge, key, "approve")
	if err != nil {
		t.Fatal(err)
	}
	if sub.Approver != liveEnv(t, "HELM_SDK_APPROVER_HANDLE") {
		t.Fatalf("approver %s", sub.Approver)
	}
	acc, err := admin.Submit(ctx, sub)
	if err != nil || !acc.Accepted || !strings.HasPrefix(acc.Receipt, "sha256:") {
		t.Fatalf("approval: %+v %v", acc, err)
	}
	chat.send(liveEnv(t, "HELM_SDK_PROMPT_ESCALATED"))
	if chat.last.Decision != "ALLOW" || chat.last.ReasonCode != "APPROVAL_GRANTED" {
		t.Fatalf("retry after approval: %+v", chat.last)
	}
	granted := chat.last.ReceiptID

	// The MCP gateway: governance of a listed tool, of an executed call (_meta) and of a refused one
	// (JSON-RPC error data); their receipts are verified offline below.
	mcpReceipts := map[string]struct{ id, verdict string }{}
	if mcpURL := os.Getenv("HELM_SDK_MCP_URL"); mcpURL != "" {
		list := mcpCall(t, mcpURL, "tools/list", map[string]interface{}{})
		var tools struct {
			Result struct {
				Tools []struct {
					Name string
					Meta json.RawMessage `json:"_meta"`
				}
			}
		}
		json.Unmarshal(list, &tools)
		if len(tools.Result.Tools) == 0 {
			t.Fatalf("tools/list: %s", list)
		}
		g, ok, err := ParseMCPToolGovernance(tools.Result.Tools[0].Meta)
		if err != nil || !ok || g.Upstream == "" || !strings.HasPrefix(g.DefinitionHash, "sha256:") {
			t.Fatalf("tool governance %+v %v", g, err)
		}
		name := tools.Result.Tools[0].Name
		var done struct {
			Result struct {
				Meta json.RawMessage `json:"_meta"`
			}
		}
		json.Unmarshal(mcpCall(t, mcpURL, "tools/call", map[string]interface{}{"name": name, "arguments": map[string]string{"message": "hello"}}), &done)
		r, ok, err := ParseMCPReceipt(done.Result.Meta)
		if err != nil || !ok || r.Verdict != "ALLOW" || r.Receipt() == "" {
			t.Fatalf("mcp receipt %+v %v", r, err)
		}
		var refused struct{ Error json.RawMessage }
		json.Unmarshal(mcpCall(t, mcpURL, "tools/call", map[string]interface{}{"name": name, "arguments": map[string]string{"message": "my password"}}), &refused)
		d, ok := ParseMCPErrorObject(refused.Error)
		if !ok || d.Verdict != "DENY" || d.Kind != "denied" || d.Receipt == "" {
			t.Fatalf("mcp refusal %+v from %s", d, refused.Error)
		}
		mcpReceipts["mcp decision"] = struct{ id, verdict string }{r.Decision, "ALLOW"}
		mcpReceipts["mcp result"] = struct{ id, verdict string }{r.Receipt(), ""}
		mcpReceipts["mcp denied"] = struct{ id, verdict string }{d.Receipt, "DENY"}
	}

	// Offline: export, then verify each receipt against the trust policy alone.
	res, err := http.Post(liveEnv(t, "HELM_SDK_EXPORT_URL"), "application/json", nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("export: %v", err)
	}
	res.Body.Close()
	pack := liveEnv(t, "HELM_SDK_PACK_DIR")
	policy, err := LoadTrustPolicy(liveEnv(t, "HELM_SDK_TRUST_POLICY"))
	if err != nil {
		t.Fatal(err)
	}
	reg := NewTrustRegistry(policy)
	events, _ := os.Open(filepath.Join(pack, "trust-events.jsonl"))
	defer events.Close()
	s := bufio.NewScanner(events)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		ev, err := ParseJSON(s.Bytes())
		if err == nil {
			_, err = reg.Add(ev)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string]struct{ id, verdict string }{"allowed": {allowed.ReceiptID, "ALLOW"}, "denied": {denied.ReceiptID, "DENY"}, "granted": {granted, "ALLOW"}, "approval": {acc.Receipt, ""}}
	for k, v := range mcpReceipts {
		cases[k] = v
	}
	for name, want := range cases {
		hex := strings.TrimPrefix(want.id, "sha256:")
		entry, err := os.ReadFile(filepath.Join(pack, "receipts", hex+".json"))
		if err != nil {
			t.Fatal(err)
		}
		proof, _ := os.ReadFile(filepath.Join(pack, "receipts", hex+".tlog-proof"))
		r, err := reg.VerifyReceipt(entry, string(proof))
		if err != nil {
			t.Fatalf("%s receipt: %v", name, err)
		}
		if r.Node.EntryHash != want.id || (want.verdict != "" && r.Node.Body["verdict"] != want.verdict) {
			t.Fatalf("%s receipt is %s %v", name, r.Node.EntryHash, r.Node.Body["verdict"])
		}
		if name == "mcp result" && (r.Node.Kind != "result" || r.Node.Body["status"] != "ok") {
			t.Fatalf("mcp result receipt %+v", r.Node.Body)
		}
		if name == "approval" && (r.Node.Kind != "approval" || r.Node.Body["approver"] != sub.Approver) {
			t.Fatalf("approval receipt %+v", r.Node.Body)
		}
		// Tampered copy: the verdict rewritten in the signed payload fails offline.
		if _, err := reg.VerifyReceipt(bytes.Replace(entry, []byte(`"payload":"eyJ`), []byte(`"payload":"eyK`), 1), string(proof)); err == nil {
			t.Fatalf("%s: tampered receipt verified", name)
		}
	}
	t.Logf("live: %d receipts verified offline (%d from the MCP gateway)", len(cases), len(mcpReceipts))
}

// mcpCall posts one JSON-RPC request to the gateway (stateless Streamable HTTP) and returns the
// response message, from a JSON body or the SSE stream's data line.
func mcpCall(t *testing.T, url, method string, params interface{}) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]interface{}{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "data: ") {
			return []byte(strings.TrimPrefix(line, "data: "))
		}
	}
	return data
}
