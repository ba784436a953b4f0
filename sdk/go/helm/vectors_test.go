package helm

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Spec vectors live in the repository (docs/spec/vectors); third-party ones (JCS, Wycheproof) in
// ../shared/vectors beside it, or HELM_SHARED_DIR.
var specDir = filepath.Join("..", "..", "..", "docs", "spec", "vectors")

func sharedVectors(t *testing.T) string {
	dir := os.Getenv("HELM_SHARED_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared")
	}
	v := filepath.Join(dir, "vectors")
	if _, err := os.Stat(v); err != nil {
		t.Skipf("%s not found: third-party vectors skipped (set HELM_SHARED_DIR to the folder holding vectors/)", v)
	}
	return v
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func vectorPolicy(t *testing.T) *TrustPolicy {
	p, err := ParseTrustPolicy(string(read(t, filepath.Join(specDir, "trust-policy.txt"))), "trust-policy.txt")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func logEntries(t *testing.T) [][]byte {
	var out [][]byte
	s := bufio.NewScanner(bytes.NewReader(read(t, filepath.Join(specDir, "log", "entries.jsonl"))))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		out = append(out, append([]byte{}, s.Bytes()...))
	}
	return out
}

// registry with the vector log's trust node applied.
func vectorRegistry(t *testing.T) *TrustRegistry {
	r := NewTrustRegistry(vectorPolicy(t))
	for _, e := range logEntries(t) {
		n, err := DecodeNode(e)
		if err != nil {
			t.Fatal(err)
		}
		if n.Kind == "trust" {
			if _, err := r.AddTrustNode(n); err != nil {
				t.Fatal(err)
			}
		}
	}
	return r
}

func flipByte(b []byte, i int) []byte {
	c := append([]byte{}, b...)
	c[i] ^= 1
	return c
}

func TestSpecNodeVectorsVerifyAndTamperedCopiesFail(t *testing.T) {
	r := vectorRegistry(t)
	files, _ := filepath.Glob(filepath.Join(specDir, "nodes", "*.json"))
	if len(files) != 9 {
		t.Fatalf("expected 9 node vectors, found %d", len(files))
	}
	for _, f := range files {
		var v struct {
			Kind, Entry, EntryHash, PayloadJcs string
			Index                              uint64
		}
		if err := json.Unmarshal(read(t, f), &v); err != nil {
			t.Fatal(err)
		}
		n, err := DecodeNode([]byte(v.Entry))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if n.Kind != v.Kind || n.Index != v.Index || n.EntryHash != v.EntryHash {
			t.Fatalf("%s: decoded %s#%d %s", f, n.Kind, n.Index, n.EntryHash)
		}
		if _, err := r.VerifyNode(n); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// Tampered copy: one character of the signed payload changed. It must fail, whatever the code.
		tampered := strings.Replace(v.Entry, `"payload":"eyJ`, `"payload":"eyK`, 1)
		if tn, err := DecodeNode([]byte(tampered)); err == nil {
			if _, err := r.VerifyNode(tn); err == nil {
				t.Fatalf("%s: tampered copy verified", f)
			}
		}
	}
}

func TestSpecNegativeVectorsFailWithTheirCode(t *testing.T) {
	var negs []struct{ Why, Expect, Entry string }
	if err := json.Unmarshal(read(t, filepath.Join(specDir, "negative.json")), &negs); err != nil {
		t.Fatal(err)
	}
	if len(negs) < 6 {
		t.Fatalf("expected at least 6 negative vectors, found %d", len(negs))
	}
	r := vectorRegistry(t)
	for _, v := range negs {
		n, err := DecodeNode([]byte(v.Entry))
		if err == nil {
			_, err = r.VerifyNode(n)
		}
		if CodeOf(err) != v.Expect {
			t.Errorf("%s: got %v, want %s", v.Why, err, v.Expect)
		}
	}
}

func TestTlogProofVectorVerifiesAndTamperedCopiesFail(t *testing.T) {
	r := vectorRegistry(t)
	entries := logEntries(t)
	proof := string(read(t, filepath.Join(specDir, "log", "decision-03.tlog-proof")))
	got, err := r.VerifyReceipt(entries[3], proof)
	if err != nil {
		t.Fatal(err)
	}
	if got.Node.Kind != "decision" || got.Checkpoint.Size != 9 || got.SignedBy.Handle() != "helm-vectors/agent-0/node+4122bc29" {
		t.Fatalf("unexpected receipt %+v", got)
	}
	cases := map[string]struct {
		entry []byte
		proof string
		code  string
	}{
		"other entry":       {entries[4], proof, "ERR_TLOG_PROOF_INCLUSION"},
		"index past size":   {entries[3], strings.Replace(proof, "index 3", "index 9", 1), "ERR_TLOG_PROOF_INDEX"},
		"flipped path hash": {entries[3], strings.Replace(proof, "SCtq5RX3", "SCtq5RX4", 1), "ERR_TLOG_PROOF_INCLUSION"},
		"altered root":      {entries[3], strings.Replace(proof, "XAG24lhj", "XAG24lhk", 1), "ERR_CHECKPOINT_BAD_SIGNATURE"},
		"bad header":        {entries[3], strings.Replace(proof, "@v1", "@v2", 1), "ERR_TLOG_PROOF_MALFORMED"},
		"leading zero":      {entries[3], strings.Replace(proof, "index 3", "index 03", 1), "ERR_TLOG_PROOF_MALFORMED"},
	}
	for name, c := range cases {
		if _, err := r.VerifyReceipt(c.entry, c.proof); CodeOf(err) != c.code {
			t.Errorf("%s: got %v, want %s", name, err, c.code)
		}
	}
}

func TestCheckpointVectorsAgainstPolicy(t *testing.T) {
	p := vectorPolicy(t)
	for _, f := range []string{"checkpoint-4.note", "checkpoint-9.note", "checkpoint-9.witnessed.note"} {
		note := string(read(t, filepath.Join(specDir, "log", f)))
		cp, err := VerifyCheckpoint(note, p)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if cp.Origin != "helm.mindburn.org/vectors/agent-0" {
			t.Fatalf("%s: origin %s", f, cp.Origin)
		}
		if strings.Contains(f, "witnessed") && (len(cp.Witnesses) != 1 || cp.Witnesses[0] != "w1") {
			t.Fatalf("%s: witnesses %v", f, cp.Witnesses)
		}
		// Every tampered copy of the text fails: a bad signature, or no trusted signature at all.
		if _, err := VerifyCheckpoint(strings.Replace(note, "\n9\n", "\n8\n", 1)+"", p); err == nil && strings.Contains(note, "\n9\n") {
			t.Fatalf("%s: altered size verified", f)
		}
	}
	// A quorum of w1 fails without the cosignature and passes with it.
	q, err := ParseTrustPolicy(strings.Replace(string(read(t, filepath.Join(specDir, "trust-policy.txt"))), "quorum none", "quorum w1", 1), "q")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyCheckpoint(string(read(t, filepath.Join(specDir, "log", "checkpoint-9.note"))), q); CodeOf(err) != "ERR_QUORUM_NOT_MET" {
		t.Fatalf("got %v", err)
	}
	if _, err := VerifyCheckpoint(string(read(t, filepath.Join(specDir, "log", "checkpoint-9.witnessed.note"))), q); err != nil {
		t.Fatal(err)
	}
}

func TestTrustPolicyRules(t *testing.T) {
	base := string(read(t, filepath.Join(specDir, "trust-policy.txt")))
	bad := map[string]string{
		"crlf":            strings.Replace(base, "\n", "\r\n", 1),
		"unknown keyword": base + "logs x\n",
		"two quorums":     base + "quorum none\n",
		"two roots":       base + strings.Split(base, "\n")[4] + "\n",
		"undefined group": base + "group g 1 nobody\n",
		"k too large":     base + "group g 2 w1\n",
		"log as witness":  base + "witness w2 " + strings.Fields(strings.Split(base, "\n")[1])[1] + "\n",
		"no quorum":       strings.Replace(base, "quorum none\n", "", 1),
	}
	for name, text := range bad {
		if _, err := ParseTrustPolicy(text, "p"); CodeOf(err) != "ERR_POLICY_SYNTAX" {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestLogKeyCertificationVector(t *testing.T) {
	var v struct{ Envelope json.RawMessage }
	if err := json.Unmarshal(read(t, filepath.Join(specDir, "trust", "log-key-certification.json")), &v); err != nil {
		t.Fatal(err)
	}
	env, err := ParseJSON(v.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := OpenKeyEvent(env, *vectorPolicy(t).Root)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Purpose != "log" || ev.Event != "KEY_PUBLISH" || ev.Key.Name != ev.Origin {
		t.Fatalf("unexpected event %+v", ev)
	}
	// Tampered: the envelope's payload re-encoded with a changed byte fails.
	m := env.(map[string]interface{})
	m["payload"] = strings.Replace(m["payload"].(string), "eyJ", "eyK", 1)
	if _, err := OpenKeyEvent(m, *vectorPolicy(t).Root); err == nil {
		t.Fatal("tampered certification verified")
	}
}

func TestJCSVectors(t *testing.T) {
	dir := filepath.Join(sharedVectors(t), "jcs")
	files, _ := filepath.Glob(filepath.Join(dir, "input", "*.json"))
	if len(files) == 0 {
		t.Fatalf("no JCS inputs in %s", dir)
	}
	for _, f := range files {
		want := read(t, filepath.Join(dir, "output", filepath.Base(f)))
		got, err := CanonicalizeJSON(read(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", f, got, want)
		}
		// Tampered copy: a changed byte of the expected output no longer matches.
		tampered := append([]byte{}, want...)
		tampered[len(tampered)/2] ^= 0x20
		if bytes.Equal(got, tampered) {
			t.Errorf("%s: tampered output matched", f)
		}
	}
}

func TestWycheproofEd25519(t *testing.T) {
	var suite struct {
		TestGroups []struct {
			PublicKey struct{ PK string } `json:"publicKey"`
			Tests     []struct {
				TcID             int `json:"tcId"`
				Msg, Sig, Result string
			}
		}
	}
	if err := json.Unmarshal(read(t, filepath.Join(sharedVectors(t), "ed25519", "wycheproof_ed25519_test.json")), &suite); err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, g := range suite.TestGroups {
		pk, _ := hex.DecodeString(g.PublicKey.PK)
		for _, c := range g.Tests {
			msg, _ := hex.DecodeString(c.Msg)
			sig, _ := hex.DecodeString(c.Sig)
			ok := len(pk) == 32 && len(sig) == 64 && ed25519.Verify(pk, msg, sig)
			if ok != (c.Result == "valid") {
				t.Errorf("tcId %d: verified=%v, expected %s", c.TcID, ok, c.Result)
			}
			if c.Result == "valid" && (ed25519.Verify(pk, append(msg, 0), sig) || ed25519.Verify(pk, msg, flipByte(sig, 0))) {
				t.Errorf("tcId %d: tampered message or signature verified", c.TcID)
			}
			count++
		}
	}
	if count < 100 {
		t.Fatalf("only %d Wycheproof cases", count)
	}
}
