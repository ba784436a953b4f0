package helm

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Receipts with non-ASCII text (docs/sdks.md §Conformance): the spec vector
// examples/intent-unicode.json verifies, and each entry of test/sdk/vectors/unicode.json (written by
// the TypeScript suite) gives exactly the TypeScript verifier's code.

// verifyEntry is what a caller without a proof runs: DecodeNode, then VerifyNode.
func verifyEntry(r *TrustRegistry, entry []byte) (*Node, error) {
	n, err := DecodeNode(entry)
	if err != nil {
		return nil, err
	}
	if _, err := r.VerifyNode(n); err != nil {
		return nil, err
	}
	return n, nil
}

func TestIntentUnicodeRebuiltFromItsEnvelopeVerifies(t *testing.T) {
	var ex struct {
		Statement  map[string]interface{}
		PayloadJcs string
		Envelope   interface{}
		EntryHash  string
	}
	if err := json.Unmarshal(read(t, filepath.Join(specDir, "examples", "intent-unicode.json")), &ex); err != nil {
		t.Fatal(err)
	}
	envelope, err := ParseJSON(mustJSON(t, ex.Envelope))
	if err != nil {
		t.Fatal(err)
	}
	entry, err := Canonicalize(envelope)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range entry {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("the entry is not printable ASCII: %q", entry)
		}
	}
	if sum := sha256.Sum256(entry); "sha256:"+hex.EncodeToString(sum[:]) != ex.EntryHash {
		t.Fatalf("SHA-256 of the rebuilt entry is %x, want %s", sum, ex.EntryHash)
	}
	payload, _ := base64.StdEncoding.DecodeString(envelope.(map[string]interface{})["payload"].(string))
	statement, err := ParseJSON(mustJSON(t, ex.Statement))
	if err != nil {
		t.Fatal(err)
	}
	if canon, _ := Canonicalize(statement); !bytes.Equal(canon, []byte(ex.PayloadJcs)) || !bytes.Equal(payload, canon) {
		t.Fatalf("JCS of the statement:\n%s\nwant payloadJcs and the payload:\n%s", canon, ex.PayloadJcs)
	}
	n, err := verifyEntry(vectorRegistry(t), entry)
	if err != nil {
		t.Fatal(err)
	}
	if n.Kind != "intent" || n.Index != 0 || n.EntryHash != ex.EntryHash {
		t.Fatalf("decoded %s#%d %s", n.Kind, n.Index, n.EntryHash)
	}
	if n.Body["callId"] != "call_😀_01" || n.Body["principal"] != "ns/agents/sa/résumé-𝄞" {
		t.Fatalf("body %v", n.Body)
	}
	want := map[string]interface{}{"path": "/reports/café-€-😀.csv", "\ue000": "private use", "😀": "astral key", "é": json.Number("1")}
	if !reflect.DeepEqual(n.Body["args"], want) {
		t.Fatalf("args %v, want %v", n.Body["args"], want)
	}
}

func TestUnicodeVectorsGiveTheTypeScriptCodes(t *testing.T) {
	var cases []struct{ Why, Expect, Entry string }
	if err := json.Unmarshal(read(t, filepath.Join("..", "..", "..", "test", "sdk", "vectors", "unicode.json")), &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 31 {
		t.Fatalf("expected 31 cases, found %d", len(cases))
	}
	r := vectorRegistry(t)
	for _, c := range cases {
		_, err := verifyEntry(r, []byte(c.Entry))
		got := "accepted"
		if err != nil {
			got = CodeOf(err)
		}
		if got != c.Expect {
			t.Errorf("%s: got %s (%v), want %s", c.Why, got, err, c.Expect)
		}
	}
}

func mustJSON(t *testing.T, v interface{}) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBundledSchemasAreTheSpecSchemas(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("schemas", "*.json"))
	if len(names) != 10 {
		t.Fatalf("expected 10 bundled schemas, found %d", len(names))
	}
	for _, n := range names {
		if !bytes.Equal(read(t, n), read(t, filepath.Join("..", "..", "..", "docs", "spec", "schemas", filepath.Base(n)))) {
			t.Errorf("%s differs from docs/spec/schemas: copy it again (docs/sdks.md)", n)
		}
	}
}

func TestSchemaPatternsAreECMAScriptPatterns(t *testing.T) {
	hash := "sha256:" + strings.Repeat("0a", 32)
	key := `^[^+\s]+\+[0-9a-f]{8}$`
	for _, c := range []struct {
		pattern, text string
		want          bool
	}{
		{`^sha256:[0-9a-f]{64}$`, hash, true},
		{`^sha256:[0-9a-f]{64}$`, hash + "\n", false},
		{`^sha256:[0-9a-f]{64}$`, hash + "\u2028", false},
		{key, "é😀\u0085+0123abcd", true}, // U+0085 is not ECMAScript white space
		{key, "a\u00a0b+0123abcd", false},
		{key, "a\ufeff+0123abcd", false},
		{`^a\sb$`, "a\u3000b", true}, // \s outside a class
		{`^a\sb$`, "a\u0085b", false},
		{`^[^\s]+$`, "a\u2029", false},
	} {
		if got := schemaPattern(c.pattern).MatchString(c.text); got != c.want {
			t.Errorf("%s on %q: %v, want %v", c.pattern, c.text, got, c.want)
		}
	}
}
