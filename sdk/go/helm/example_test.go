package helm_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"

	"helm.mindburn.org/sdk/go/helm"
)

// Verify a receipt offline: the entry bytes, its tlog-proof and the trust policy; node keys come
// from the root-signed trust events of the log's trust nodes.
func Example_verifyReceipt() {
	policy, err := helm.LoadTrustPolicy("../../../docs/spec/vectors/trust-policy.txt")
	if err != nil {
		panic(err)
	}
	trust := helm.NewTrustRegistry(policy)
	log, _ := os.Open("../../../docs/spec/vectors/log/entries.jsonl")
	defer log.Close()
	var entries [][]byte
	for s := bufio.NewScanner(log); s.Scan(); {
		entry := append([]byte{}, s.Bytes()...)
		entries = append(entries, entry)
		if n, err := helm.DecodeNode(entry); err == nil && n.Kind == "trust" {
			if _, err := trust.AddTrustNode(n); err != nil {
				panic(err)
			}
		}
	}
	proof, _ := os.ReadFile("../../../docs/spec/vectors/log/decision-03.tlog-proof")
	r, err := trust.VerifyReceipt(entries[3], string(proof))
	if err != nil {
		fmt.Println("rejected:", helm.CodeOf(err))
		return
	}
	fmt.Println(r.Node.Kind, r.Node.Body["verdict"], "signed by", r.SignedBy.Handle(), "in", r.Checkpoint.Origin, r.Checkpoint.Size)
	// Output: decision ESCALATE signed by helm-vectors/agent-0/node+4122bc29 in helm.mindburn.org/vectors/agent-0 9
}

// Read the governance of every response of your OpenAI client, and approve an escalated call.
func Example_governanceAndApproval() {
	var last *helm.Governance
	client := &http.Client{Transport: &helm.Transport{OnResponse: func(g *helm.Governance, s *helm.Summary, _ *http.Request) { last = g }}}
	_ = client // hand it to your OpenAI client, e.g. option.WithHTTPClient(client), and make a call
	if last != nil && last.Decision == "ESCALATE" {
		ctx := context.Background()
		admin := &helm.AdminClient{BaseURL: "http://127.0.0.1:9090"}
		ceremony, err := admin.Get(ctx, last.ApprovalID)
		if err != nil {
			panic(err)
		}
		key, err := helm.LoadSigningKey("alice.key") // written by helmctl keygen
		if err != nil {
			panic(err)
		}
		submission, err := helm.SignApproval(ceremony.Challenge, key, "approve")
		if err != nil {
			panic(err)
		}
		accepted, err := admin.Submit(ctx, submission) // a refusal is a *helm.Error with code ERR_APPROVAL_*
		if err != nil {
			panic(err)
		}
		fmt.Println("approval recorded as", accepted.Receipt)
	}
}
