package helm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// ApprovalDomain is the first line of every approval message (pep.md §5).
const ApprovalDomain = "helm-approval/v1"

// Ceremony is one pending escalation as GET /v1/approvals lists it.
type Ceremony struct {
	Challenge
	Tool      string            `json:"tool"`
	Principal string            `json:"principal"`
	Approvals []json.RawMessage `json:"approvals"`
}

// Submission is the signed answer POST /v1/approvals takes (exactly these six fields).
type Submission struct {
	Decision     string `json:"decision"`
	PolicyDigest string `json:"policyDigest"`
	Nonce        string `json:"nonce"`
	Approver     string `json:"approver"`
	Verdict      string `json:"verdict"`
	Signature    string `json:"signature"`
}

// Accepted is the admin API's answer to an accepted submission (an approval node was recorded).
type Accepted struct {
	Accepted    bool   `json:"accepted"`
	Receipt     string `json:"receipt"`
	Index       int64  `json:"index"`
	Approvals   int    `json:"approvals"`
	Quorum      int    `json:"quorum"`
	AllowedFrom string `json:"allowedFrom"`
}

var (
	approvalHash  = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	approvalNonce = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)
)

// ApprovalMessage is the UTF-8 of "helm-approval/v1\n<decision>\n<policyDigest>\n<nonce>\n<verdict>\n".
func ApprovalMessage(decision, policyDigest, nonce, verdict string) ([]byte, error) {
	if !approvalHash.MatchString(decision) || !approvalHash.MatchString(policyDigest) {
		return nil, errf("ERR_APPROVAL_MALFORMED", "decision and policyDigest must be sha256:<64 hex>")
	}
	if !approvalNonce.MatchString(nonce) {
		return nil, errf("ERR_APPROVAL_MALFORMED", "nonce must be 16-128 base64url characters")
	}
	if verdict != "approve" && verdict != "reject" {
		return nil, errf("ERR_APPROVAL_MALFORMED", "verdict must be approve or reject, not %q", verdict)
	}
	return []byte(strings.Join([]string{ApprovalDomain, decision, policyDigest, nonce, verdict}, "\n") + "\n"), nil
}

// SignApproval signs an answer to a challenge with an approver key (as helmctl approve does).
func SignApproval(c Challenge, key *SigningKey, verdict string) (*Submission, error) {
	msg, err := ApprovalMessage(c.Decision, c.PolicyDigest, c.Nonce, verdict)
	if err != nil {
		return nil, err
	}
	return &Submission{
		Decision: c.Decision, PolicyDigest: c.PolicyDigest, Nonce: c.Nonce,
		Approver: key.Verifier.Handle(), Verdict: verdict,
		Signature: base64.StdEncoding.EncodeToString(key.Sign(msg)),
	}, nil
}

// AdminClient talks to the sidecar's admin listener (no authentication: keep it on loopback).
type AdminClient struct {
	BaseURL string // e.g. http://127.0.0.1:9090
	HTTP    *http.Client
}

func (a *AdminClient) do(ctx context.Context, method, path string, body []byte, out interface{}) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(a.BaseURL, "/")+path, rd)
	if err != nil {
		return errf("ERR_ADMIN_REQUEST", "%v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := a.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return errf("ERR_ADMIN_UNREACHABLE", "%v", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return errf("ERR_ADMIN_UNREACHABLE", "%v", err)
	}
	if res.StatusCode >= 300 {
		var refusal struct{ Code, Message string }
		if json.Unmarshal(data, &refusal) == nil && refusal.Code != "" {
			return errf(refusal.Code, "%s (HTTP %d)", refusal.Message, res.StatusCode)
		}
		return errf("ERR_ADMIN_STATUS", "%s %s answered HTTP %d: %s", method, path, res.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return errf("ERR_ADMIN_ANSWER", "%s %s: %v", method, path, err)
	}
	return nil
}

// Pending lists the open ceremonies (GET /v1/approvals).
func (a *AdminClient) Pending(ctx context.Context) ([]Ceremony, error) {
	var out struct {
		Pending []Ceremony `json:"pending"`
	}
	if err := a.do(ctx, http.MethodGet, "/v1/approvals", nil, &out); err != nil {
		return nil, err
	}
	return out.Pending, nil
}

// Get fetches one pending ceremony (ERR_APPROVAL_UNKNOWN_NONCE when there is none).
func (a *AdminClient) Get(ctx context.Context, nonce string) (*Ceremony, error) {
	var c Ceremony
	if err := a.do(ctx, http.MethodGet, "/v1/approvals/"+url.PathEscape(nonce), nil, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Submit posts a signed answer; a refusal is an *Error with the PEP's code (ERR_APPROVAL_*).
func (a *AdminClient) Submit(ctx context.Context, s *Submission) (*Accepted, error) {
	body, _ := json.Marshal(s)
	var out Accepted
	if err := a.do(ctx, http.MethodPost, "/v1/approvals", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
