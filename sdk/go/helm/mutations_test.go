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

// test/sdk/vectors/proof-mutations.json: the tlog-proof of 03-decision with one byte XOR 0x01.
func TestProofByteFlipsGiveTheTypeScriptCodes(t *testing.T) {
	var cases []struct {
		Offset int
		Expect string
	}
	if err := json.Unmarshal(read(t, filepath.Join("..", "..", "..", "test", "sdk", "vectors", "proof-mutations.json")), &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 48 {
		t.Fatalf("expected 48 byte flips, found %d", len(cases))
	}
	var v struct{ Entry string }
	if err := json.Unmarshal(read(t, filepath.Join(specDir, "nodes", "03-decision.json")), &v); err != nil {
		t.Fatal(err)
	}
	proof := read(t, filepath.Join(specDir, "log", "decision-03.tlog-proof"))
	r := vectorRegistry(t)
	for _, c := range cases {
		p := append([]byte{}, proof...)
		p[c.Offset] ^= 1
		_, err := r.VerifyReceipt([]byte(v.Entry), string(p))
		got := "accepted"
		if err != nil {
			got = CodeOf(err)
		}
		if got != c.Expect {
			t.Errorf("proof byte %d: got %s (%v), want %s", c.Offset, got, err, c.Expect)
		}
	}
}

// test/sdk/vectors/trust-event-mutations.json: the key event of 01-trust as JSON text, one byte XOR
// 0x01, loaded with the vectors' policy. Text that is not JSON is ERR_TRUST_EVENT_INVALID there.
func TestTrustEventByteFlipsGiveTheTypeScriptCodes(t *testing.T) {
	var d struct {
		Event string
		Cases []struct {
			Offset int
			Expect string
		}
	}
	if err := json.Unmarshal(read(t, filepath.Join("..", "..", "..", "test", "sdk", "vectors", "trust-event-mutations.json")), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Cases) != 48 {
		t.Fatalf("expected 48 byte flips, found %d", len(d.Cases))
	}
	for _, c := range d.Cases {
		b := []byte(d.Event)
		b[c.Offset] ^= 1
		got := "accepted"
		var err error
		if v, perr := ParseJSON(b); perr != nil {
			got = "ERR_TRUST_EVENT_INVALID"
		} else if _, err = NewTrustRegistry(vectorPolicy(t)).Add(v); err != nil {
			got = CodeOf(err)
		}
		if got != c.Expect {
			t.Errorf("event byte %d: got %s (%v), want %s", c.Offset, got, err, c.Expect)
		}
	}
}
