package helm

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// The trust policy vectors test/sdk/vectors/policies.json (written by the TypeScript suite from its
// parser): each text is accepted or refused ERR_POLICY_SYNTAX exactly as there.
func TestPolicyVectors(t *testing.T) {
	var vs []struct{ Why, Text, Expect string }
	if err := json.Unmarshal(read(t, filepath.Join("..", "..", "..", "test", "sdk", "vectors", "policies.json")), &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 20 {
		t.Fatalf("%d policy vectors", len(vs))
	}
	for _, v := range vs {
		_, err := ParseTrustPolicy(v.Text, "p")
		got := "accepted"
		if err != nil {
			got = CodeOf(err)
		}
		if got != v.Expect {
			t.Errorf("%s: got %s (%v), want %s", v.Why, got, err, v.Expect)
		}
	}
}
