package helm

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The cross-language conformance cases of docs/sdks.md ("Conformance"): the same tampering in
// every SDK, and the governance vectors test/sdk/vectors/governance.json that the TypeScript
// suite writes from the sidecar's own formatters.

// lamportPlusOne re-encodes an entry with predicate.lamport + 1 and the old signatures.
func lamportPlusOne(t *testing.T, entry string) []byte {
	env, _ := ParseJSON([]byte(entry))
	m := env.(map[string]interface{})
	payload, _ := base64.StdEncoding.DecodeString(m["payload"].(string))
	st, _ := ParseJSON(payload)
	p := st.(map[string]interface{})["predicate"].(map[string]interface{})
	l, _ := strconv.Atoi(string(p["lamport"].(json.Number)))
	p["lamport"] = json.Number(strconv.Itoa(l + 1))
	stj, _ := Canonicalize(st)
	m["payload"] = base64.StdEncoding.EncodeToString(stj)
	out, err := Canonicalize(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestConformanceNodes(t *testing.T) {
	withEvents := vectorRegistry(t)
	without := NewTrustRegistry(vectorPolicy(t))
	files, _ := filepath.Glob(filepath.Join(specDir, "nodes", "*.json"))
	for _, f := range files {
		var v struct{ Entry string }
		json.Unmarshal(read(t, f), &v)
		n, err := DecodeNode([]byte(v.Entry))
		if err != nil {
			t.Fatal(err)
		}
		if k, err := withEvents.VerifyNode(n); err != nil || k.Handle() != "helm-vectors/agent-0/node+4122bc29" {
			t.Fatalf("%s: signed by %s: %v", f, k.Handle(), err)
		}
		if _, err := without.VerifyNode(n); CodeOf(err) != "ERR_UNTRUSTED_SIGNER" {
			t.Fatalf("%s without the key event: %v", f, err)
		}
		tn, err := DecodeNode(lamportPlusOne(t, v.Entry))
		if err == nil {
			_, err = withEvents.VerifyNode(tn)
		}
		if CodeOf(err) != "ERR_SIGNATURE" {
			t.Fatalf("%s with lamport+1: %v", f, err)
		}
	}
}

func TestConformanceTlogProof(t *testing.T) {
	r := vectorRegistry(t)
	e := logEntries(t)
	proof := string(read(t, filepath.Join(specDir, "log", "decision-03.tlog-proof")))
	lines := strings.Split(proof, "\n")
	h, _ := base64.StdEncoding.DecodeString(lines[2])
	h[0] ^= 1
	flipped := strings.Replace(proof, lines[2], base64.StdEncoding.EncodeToString(h), 1)
	root := regexp.MustCompile(`(?m)^XAG24lhj[^\n]*$`)
	seven := make([]byte, 32)
	for i := range seven {
		seven[i] = 7
	}
	cases := []struct {
		name, proof string
		entry       []byte
		code        string
	}{
		{"first audit hash flipped", flipped, e[3], "ERR_TLOG_PROOF_INCLUSION"},
		{"proof of 03 used for 02", proof, e[2], "ERR_TLOG_PROOF_INCLUSION"},
		{"index 3 -> 2", strings.Replace(proof, "index 3", "index 2", 1), e[3], "ERR_TLOG_PROOF_INCLUSION"},
		{"root replaced by 0x07 bytes", root.ReplaceAllString(proof, base64.StdEncoding.EncodeToString(seven)), e[3], "ERR_CHECKPOINT_BAD_SIGNATURE"},
	}
	for _, c := range cases {
		if _, err := r.VerifyReceipt(c.entry, c.proof); CodeOf(err) != c.code {
			t.Errorf("%s: got %v, want %s", c.name, err, c.code)
		}
	}
}

func TestVersionIsTheSpecVersion(t *testing.T) {
	title := strings.SplitN(string(read(t, filepath.Join("..", "..", "..", "docs", "spec", "receipt.md"))), "\n", 2)[0]
	m := regexp.MustCompile(`version (\d+)$`).FindStringSubmatch(title)
	if m == nil || m[1] != strconv.Itoa(SpecVersion) || !strings.HasPrefix(Version, m[1]+".") {
		t.Fatalf("receipt.md title %q, SDK %s (spec %d)", title, Version, SpecVersion)
	}
}

func TestGovernanceVectors(t *testing.T) {
	var v struct {
		Completion struct {
			Headers map[string]string
			Body    json.RawMessage
			Expect  struct {
				Verdict, ReasonCode string
				ReceiptID           *string `json:"receiptId"`
				ApprovalID          *string `json:"approvalId"`
				Truncated           bool
				Calls               []struct {
					ToolCallID    *string `json:"toolCallId"`
					Tool, Verdict string
					ReasonCode    string
					ReceiptID     *string `json:"receiptId"`
					Delivered     bool
					ApprovalNonce *string
				}
				ToolsRemoved []struct{ Tool, Verdict, ReasonCode string }
			}
		}
		HeadersOnly struct {
			Headers map[string]string
			Expect  struct {
				Verdict, ReasonCode string
				Truncated           bool
				CallIDs             []string `json:"callIds"`
			}
		}
		Notices struct {
			Content string
			Expect  []struct {
				Tool       string
				ToolCallID *string `json:"toolCallId"`
				Verdict    string
				ReasonCode string
				Kind       string
				ReceiptID  *string `json:"receiptId"`
				ApprovalID *string `json:"approvalId"`
				Decision   *string
			}
		}
		MCP struct {
			Result struct {
				Meta json.RawMessage `json:"_meta"`
			}
			ResultExpect                struct{ Verdict, ReasonCode, Receipt string }
			Denied, Pending, OtherError json.RawMessage
			DeniedExpect, PendingExpect struct {
				Verdict, ReasonCode, Receipt, Kind string
				ApprovalNonce                      *string
			}
			Tool struct {
				Meta json.RawMessage `json:"_meta"`
			}
		} `json:"mcp"`
	}
	if err := json.Unmarshal(read(t, filepath.Join("..", "..", "..", "test", "sdk", "vectors", "governance.json")), &v); err != nil {
		t.Fatal(err)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	header := func(m map[string]string) http.Header {
		h := http.Header{}
		for k, val := range m {
			h.Set(k, val)
		}
		return h
	}
	c := v.Completion
	g, ok, err := ParseHeaders(header(c.Headers))
	if err != nil || !ok || g.Decision != c.Expect.Verdict || g.ReasonCode != c.Expect.ReasonCode || g.ReceiptID != str(c.Expect.ReceiptID) || g.ApprovalID != str(c.Expect.ApprovalID) || g.Truncated != c.Expect.Truncated {
		t.Fatalf("completion headers: %+v %v", g, err)
	}
	s, ok, err := ParseSummary(c.Body)
	if err != nil || !ok || len(s.Decisions) != len(c.Expect.Calls) {
		t.Fatalf("completion body: %+v %v", s, err)
	}
	for i, want := range c.Expect.Calls {
		d := s.Decisions[i]
		nonce := ""
		if d.Approval != nil {
			nonce = d.Approval.Nonce
		}
		if str(d.ToolCallID) != str(want.ToolCallID) || d.Tool != want.Tool || d.Verdict != want.Verdict || d.ReasonCode != want.ReasonCode || str(d.ReceiptID) != str(want.ReceiptID) || d.Delivered != want.Delivered || nonce != str(want.ApprovalNonce) {
			t.Errorf("call %d: %+v", i, d)
		}
		if g.Decisions[i].ID != str(want.ToolCallID) || g.Decisions[i].Verdict != want.Verdict {
			t.Errorf("header call %d: %+v", i, g.Decisions[i])
		}
	}
	if len(g.ToolsRemoved) != 1 || g.ToolsRemoved[0].ID != c.Expect.ToolsRemoved[0].Tool || g.ToolsRemoved[0].ReasonCode != c.Expect.ToolsRemoved[0].ReasonCode {
		t.Errorf("tools removed: %+v", g.ToolsRemoved)
	}
	ho, _, err := ParseHeaders(header(v.HeadersOnly.Headers))
	if err != nil || ho.Decision != v.HeadersOnly.Expect.Verdict || ho.Truncated != v.HeadersOnly.Expect.Truncated || len(ho.Decisions) != len(v.HeadersOnly.Expect.CallIDs) {
		t.Fatalf("headers only: %+v %v", ho, err)
	}
	for i, id := range v.HeadersOnly.Expect.CallIDs {
		if ho.Decisions[i].ID != id {
			t.Errorf("headers only call %d: %s", i, ho.Decisions[i].ID)
		}
	}
	ex := ParseHelmContent(v.Notices.Content)
	if len(ex) != len(v.Notices.Expect) {
		t.Fatalf("%d notices, want %d", len(ex), len(v.Notices.Expect))
	}
	for i, want := range v.Notices.Expect {
		e := ex[i]
		if e.Tool != want.Tool || e.ToolCallID != str(want.ToolCallID) || e.Verdict != want.Verdict || e.ReasonCode != want.ReasonCode || e.Kind != want.Kind || e.Receipt != str(want.ReceiptID) || e.ApprovalID != str(want.ApprovalID) || e.Decision != str(want.Decision) {
			t.Errorf("notice %d: %+v", i, e)
		}
	}
	r, ok, err := ParseMCPReceipt(v.MCP.Result.Meta)
	if err != nil || !ok || r.Verdict != v.MCP.ResultExpect.Verdict || r.ReasonCode != v.MCP.ResultExpect.ReasonCode || r.Receipt() != v.MCP.ResultExpect.Receipt {
		t.Errorf("mcp result: %+v %v", r, err)
	}
	for name, c := range map[string]struct {
		raw  json.RawMessage
		want struct {
			Verdict, ReasonCode, Receipt, Kind string
			ApprovalNonce                      *string
		}
	}{"denied": {v.MCP.Denied, v.MCP.DeniedExpect}, "pending": {v.MCP.Pending, v.MCP.PendingExpect}} {
		d, ok := ParseMCPErrorObject(c.raw)
		nonce := ""
		if ok && d.Challenge != nil {
			nonce = d.Challenge.Nonce
		}
		if !ok || d.Verdict != c.want.Verdict || d.ReasonCode != c.want.ReasonCode || d.Receipt != c.want.Receipt || d.Kind != c.want.Kind || nonce != str(c.want.ApprovalNonce) {
			t.Errorf("mcp %s: %+v", name, d)
		}
	}
	if _, ok := ParseMCPErrorObject(v.MCP.OtherError); ok {
		t.Error("a JSON-RPC error without HELM data was read as a refusal")
	}
	tg, ok, err := ParseMCPToolGovernance(v.MCP.Tool.Meta)
	if err != nil || !ok || tg.Upstream != "crm" || !tg.Pinned || tg.SideEffect != "read" || !strings.HasPrefix(tg.DefinitionHash, "sha256:") {
		t.Errorf("mcp tool: %+v %v", tg, err)
	}
}

func TestLoneSurrogateIsASchemaError(t *testing.T) {
	var v struct{ PayloadJcs string }
	json.Unmarshal(read(t, filepath.Join(specDir, "nodes", "03-decision.json")), &v)
	for payload, want := range map[string]string{
		strings.Replace(v.PayloadJcs, `"call_01"`, `"call_\ud800"`, 1):       "ERR_SCHEMA",
		strings.Replace(v.PayloadJcs, `"call_01"`, `"call_\udc00x"`, 1):      "ERR_SCHEMA",
		strings.Replace(v.PayloadJcs, `"call_01"`, `"call_\ud83d\ude00"`, 1): "ERR_NOT_CANONICAL", // a pair is fine, but not canonical
	} {
		entry := `{"payload":"` + base64.StdEncoding.EncodeToString([]byte(payload)) + `","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"k+00000000","sig":"` + base64.StdEncoding.EncodeToString(make([]byte, 64)) + `"}]}`
		if _, err := DecodeNode([]byte(entry)); CodeOf(err) != want {
			t.Errorf("%s: got %v, want %s", payload[strings.Index(payload, "call_"):][:20], err, want)
		}
	}
}
