package helm

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// test/sdk/vectors/mutations.json (docs/sdks.md §Conformance): each node entry with one byte XOR
// 0x01 fails (or, in the approver's own signature, passes) exactly as the TypeScript verifier does.
func TestByteFlipsGiveTheTypeScriptCodes(t *testing.T) {
	var cases []struct {
		Node   string
		Offset int
		Expect string
	}
	if err := json.Unmarshal(read(t, filepath.Join("..", "..", "..", "test", "sdk", "vectors", "mutations.json")), &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 216 {
		t.Fatalf("expected 216 byte flips, found %d", len(cases))
	}
	r := vectorRegistry(t)
	for _, c := range cases {
		var v struct{ Entry string }
		if err := json.Unmarshal(read(t, filepath.Join(specDir, "nodes", c.Node)), &v); err != nil {
			t.Fatal(err)
		}
		b := []byte(v.Entry)
		b[c.Offset] ^= 1
		_, err := verifyEntry(r, b)
		got := "accepted"
		if err != nil {
			got = CodeOf(err)
		}
		if got != c.Expect {
			t.Errorf("%s byte %d: got %s (%v), want %s", c.Node, c.Offset, got, err, c.Expect)
		}
	}
}
