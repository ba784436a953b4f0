package helm

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// HeaderDecision is one entry of X-Helm-Decisions or X-Helm-Tools-Removed: id=VERDICT:REASON.
type HeaderDecision struct {
	ID         string // tool-call id (Decisions) or tool name (ToolsRemoved), URI-decoded
	Verdict    string
	ReasonCode string
}

// Governance is what the X-Helm-* headers of a proxied chat completion say.
type Governance struct {
	Decision     string // the strictest verdict: ALLOW, DENY or ESCALATE ("" when no call was judged)
	ReasonCode   string
	ReceiptID    string // the DECISION node's entry hash (sha256:<hex>)
	ApprovalID   string // the challenge nonce when Decision is ESCALATE
	Decisions    []HeaderDecision
	ToolsRemoved []HeaderDecision
	Truncated    bool // more than 32 entries: the helm body field has them all
}

// ParseHeaders reads the X-Helm-* headers. ok is false when the response carries none.
func ParseHeaders(h http.Header) (g *Governance, ok bool, err error) {
	g = &Governance{
		Decision:   h.Get("X-Helm-Decision"),
		ReasonCode: h.Get("X-Helm-Reason-Code"),
		ReceiptID:  h.Get("X-Helm-Receipt-Id"),
		ApprovalID: h.Get("X-Helm-Approval-Id"),
	}
	var t1, t2 bool
	if g.Decisions, t1, err = parseDecisionList(h.Get("X-Helm-Decisions")); err != nil {
		return nil, false, err
	}
	if g.ToolsRemoved, t2, err = parseDecisionList(h.Get("X-Helm-Tools-Removed")); err != nil {
		return nil, false, err
	}
	g.Truncated = t1 || t2
	ok = g.Decision != "" || g.ReasonCode != "" || len(g.ToolsRemoved) > 0
	return g, ok, nil
}

var listEntry = regexp.MustCompile(`^([^=,\s]+)=(ALLOW|DENY|ESCALATE):([A-Z0-9_]+)$`)

func parseDecisionList(v string) ([]HeaderDecision, bool, error) {
	if strings.TrimSpace(v) == "" {
		return nil, false, nil
	}
	var out []HeaderDecision
	truncated := false
	for _, part := range strings.Split(v, ", ") {
		if part == "..." {
			truncated = true
			continue
		}
		m := listEntry.FindStringSubmatch(part)
		if m == nil {
			return nil, false, errf("ERR_HELM_HEADER", "header entry %q is not id=VERDICT:REASON", part)
		}
		id, err := url.PathUnescape(m[1])
		if err != nil {
			return nil, false, errf("ERR_HELM_HEADER", "header entry id %q is not URI-encoded", m[1])
		}
		out = append(out, HeaderDecision{ID: id, Verdict: m[2], ReasonCode: m[3]})
	}
	return out, truncated, nil
}

// Challenge is what an approver signs for an ESCALATE (pep.md §5), as the proxy and the admin API give it.
type Challenge struct {
	CallID       string   `json:"callId"`
	Decision     string   `json:"decision"`
	PolicyDigest string   `json:"policyDigest"`
	Nonce        string   `json:"nonce"`
	Approval     string   `json:"approval"`
	Approvers    []string `json:"approvers"`
	Quorum       int      `json:"quorum"`
	NotBefore    string   `json:"notBefore"`
	ExpiresAt    string   `json:"expiresAt"`
}

// DecisionView is one decision of the `helm` field of a completion, error or last stream chunk.
type DecisionView struct {
	ToolCallID   *string    `json:"toolCallId"`
	CallID       string     `json:"callId"`
	Tool         string     `json:"tool"`
	Verdict      string     `json:"verdict"`
	ReasonCode   string     `json:"reasonCode"`
	Recorded     bool       `json:"recorded"`
	ReceiptID    *string    `json:"receiptId"`
	IntentID     *string    `json:"intentId"`
	Lamport      *int64     `json:"lamport"`
	Delivered    bool       `json:"delivered"`
	Detail       string     `json:"detail"`
	Approval     *Challenge `json:"approval,omitempty"`
	RetryAfterMs *int64     `json:"retryAfterMs,omitempty"`
	Sandbox      *string    `json:"sandbox,omitempty"`
}

// Summary is the `helm` field: every decision behind the answer and every tool removed.
type Summary struct {
	Decisions    []DecisionView `json:"decisions"`
	ToolsRemoved []DecisionView `json:"toolsRemoved"`
}

// ParseSummary finds the `helm` field of a completion body or of its `error` object.
func ParseSummary(body []byte) (*Summary, bool, error) {
	var outer struct {
		Helm  *Summary `json:"helm"`
		Error *struct {
			Helm *Summary `json:"helm"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		return nil, false, errf("ERR_HELM_BODY", "response body is not JSON: %v", err)
	}
	if outer.Helm != nil {
		return outer.Helm, true, nil
	}
	if outer.Error != nil && outer.Error.Helm != nil {
		return outer.Error.Helm, true, nil
	}
	return nil, false, nil
}

// Explanation is one [HELM] line the proxy put in place of a call the agent did not receive.
type Explanation struct {
	Tool        string
	ToolCallID  string
	Kind        string // blocked (policy DENY), refused (the proxy's own refusal), approval (ESCALATE)
	Verdict     string
	ReasonCode  string
	Approval    string // requirement name (approval lines with a challenge)
	Quorum      int
	Approvers   int
	ApprovalID  string
	Decision    string
	NotBefore   string
	ExpiresAt   string
	RetryAfterS int
	Receipt     string
	Line        string
}

const quoted = `"((?:[^"\\]|\\.)*)"`

var (
	helmLine     = regexp.MustCompile(`^\[HELM\] The tool call ` + quoted + `(?: \(id ` + quoted + `\))? (was blocked by policy|was refused by the proxy|needs approval ` + quoted + ` \((\d+) of (\d+) approvers\) before it can run|needs an approval before it can run): (ALLOW|DENY|ESCALATE) ([A-Z0-9_]+)\.(.*)$`)
	approvalPart = regexp.MustCompile(`Approval id ([A-Za-z0-9_-]+), decision (sha256:[0-9a-f]{64}); approvals are accepted from (\S+) until (\S+)\.`)
	retryPart    = regexp.MustCompile(`(?:Retry in|It may be retried in) (\d+) s\.`)
	receiptPart  = regexp.MustCompile(` Receipt: (sha256:[0-9a-f]{64})\.$`)
	escapePart   = regexp.MustCompile(`\\(\\|"|u\{[0-9a-f]+\})`)
)

// unescapeVisible reverses the proxy's escaping of names (\" \\ \u{hex}).
func unescapeVisible(s string) string {
	return escapePart.ReplaceAllStringFunc(s, func(m string) string {
		if m == `\\` || m == `\"` {
			return m[1:]
		}
		cp, _ := strconv.ParseUint(m[3:len(m)-1], 16, 32)
		return string(rune(cp))
	})
}

// ParseHelmContent finds the [HELM] lines of an assistant message's content.
func ParseHelmContent(content string) []Explanation {
	var out []Explanation
	for _, line := range strings.Split(content, "\n") {
		m := helmLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		e := Explanation{Tool: unescapeVisible(m[1]), ToolCallID: unescapeVisible(m[2]), Verdict: m[7], ReasonCode: m[8], Line: line}
		switch {
		case m[3] == "was blocked by policy":
			e.Kind = "blocked"
		case m[3] == "was refused by the proxy":
			e.Kind = "refused"
		default:
			e.Kind = "approval"
			e.Approval = unescapeVisible(m[4])
			e.Quorum, _ = strconv.Atoi(m[5])
			e.Approvers, _ = strconv.Atoi(m[6])
		}
		rest := m[9]
		if a := approvalPart.FindStringSubmatch(rest); a != nil {
			e.ApprovalID, e.Decision, e.NotBefore, e.ExpiresAt = a[1], a[2], a[3], a[4]
		}
		if r := retryPart.FindStringSubmatch(rest); r != nil {
			e.RetryAfterS, _ = strconv.Atoi(r[1])
		}
		if r := receiptPart.FindStringSubmatch(rest); r != nil {
			e.Receipt = r[1]
		}
		out = append(out, e)
	}
	return out
}

// MCP _meta keys of the gateway (docs/mcp-gateway.md).
const (
	MetaGovernance     = "helm.mindburn.org/governance"
	MetaReceipt        = "helm.mindburn.org/receipt"
	MetaToolCallID     = "helm.mindburn.org/toolCallId"
	MetaIdempotencyKey = "helm.mindburn.org/idempotencyKey"
)

// MCPToolGovernance is _meta["helm.mindburn.org/governance"] of a listed tool.
type MCPToolGovernance struct {
	Upstream       string   `json:"upstream"`
	UpstreamTool   string   `json:"upstreamTool"`
	Domain         string   `json:"domain"`
	SideEffect     string   `json:"sideEffect"`
	Approval       string   `json:"approval"` // none, conditional, required
	Pinned         bool     `json:"pinned"`
	DefinitionHash string   `json:"definitionHash"`
	Conditions     []string `json:"conditions"`
}

// MCPReceipt is _meta["helm.mindburn.org/receipt"] of a tools/call result.
type MCPReceipt struct {
	Verdict    string `json:"verdict"`
	ReasonCode string `json:"reasonCode"`
	CallID     string `json:"callId"`
	Intent     string `json:"intent,omitempty"`
	Decision   string `json:"decision,omitempty"`
	Effect     string `json:"effect,omitempty"`
	Result     string `json:"result,omitempty"`
}

// Receipt is the most specific node: the result, else the effect, else the decision.
func (r *MCPReceipt) Receipt() string {
	for _, h := range []string{r.Result, r.Effect, r.Decision} {
		if h != "" {
			return h
		}
	}
	return ""
}

// MCPErrorData is error.data of a refused tools/call (-32060 denied, -32061 approval, -32062 unavailable).
type MCPErrorData struct {
	Verdict      string            `json:"verdict"`
	ReasonCode   string            `json:"reasonCode"`
	CallID       string            `json:"callId"`
	Receipt      string            `json:"receipt"`
	Receipts     map[string]string `json:"receipts"`
	Failure      string            `json:"failure,omitempty"`
	Challenge    *Challenge        `json:"challenge,omitempty"`
	RetryAfterMs *int64            `json:"retryAfterMs,omitempty"`
	// Kind follows from the JSON-RPC code (ParseMCPErrorObject): denied, approval-pending, unavailable.
	Kind string `json:"-"`
}

var mcpErrorKinds = map[int]string{-32060: "denied", -32061: "approval-pending", -32062: "unavailable"}

// ParseMCPErrorObject reads a whole JSON-RPC error {code, message, data}; ok is false for an
// error that is not a HELM refusal (another code, or no HELM data).
func ParseMCPErrorObject(rpcError json.RawMessage) (*MCPErrorData, bool) {
	var e struct {
		Code int             `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(rpcError, &e) != nil || mcpErrorKinds[e.Code] == "" {
		return nil, false
	}
	d, err := ParseMCPError(e.Data)
	if err != nil {
		return nil, false
	}
	d.Kind = mcpErrorKinds[e.Code]
	return d, true
}

func fromMeta(meta json.RawMessage, key string, out interface{}) (bool, error) {
	var m map[string]json.RawMessage
	if len(meta) == 0 {
		return false, nil
	}
	if err := json.Unmarshal(meta, &m); err != nil {
		return false, errf("ERR_HELM_META", "_meta is not an object: %v", err)
	}
	raw, ok := m[key]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return false, errf("ERR_HELM_META", "_meta[%q]: %v", key, err)
	}
	return true, nil
}

// ParseMCPToolGovernance reads a listed tool's governance from its _meta.
func ParseMCPToolGovernance(meta json.RawMessage) (*MCPToolGovernance, bool, error) {
	var g MCPToolGovernance
	ok, err := fromMeta(meta, MetaGovernance, &g)
	return &g, ok, err
}

// ParseMCPReceipt reads the receipt references from a tools/call result's _meta.
func ParseMCPReceipt(meta json.RawMessage) (*MCPReceipt, bool, error) {
	var r MCPReceipt
	ok, err := fromMeta(meta, MetaReceipt, &r)
	return &r, ok, err
}

// ParseMCPError reads error.data of a refused tools/call.
func ParseMCPError(data json.RawMessage) (*MCPErrorData, error) {
	var d MCPErrorData
	if err := json.Unmarshal(data, &d); err != nil || d.Verdict == "" {
		return nil, errf("ERR_HELM_META", "error.data is not a HELM refusal")
	}
	return &d, nil
}

// Transport wraps an http.RoundTripper (give it to your OpenAI client's *http.Client) and hands
// the governance of every proxied response to OnResponse: headers, and the `helm` body field of
// non-streamed JSON answers. The body is passed on unchanged.
type Transport struct {
	Base       http.RoundTripper
	OnResponse func(g *Governance, s *Summary, req *http.Request)
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	res, err := base.RoundTrip(req)
	if err != nil || t.OnResponse == nil {
		return res, err
	}
	g, _, _ := ParseHeaders(res.Header)
	var s *Summary
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		body, rerr := io.ReadAll(res.Body)
		res.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
		s, _, _ = ParseSummary(body)
	}
	t.OnResponse(g, s, req)
	return res, nil
}
