package helm

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"math"
)

// KeyEvent is a verified trust event (receipt.md §7).
type KeyEvent struct {
	Event     string // KEY_PUBLISH, KEY_ROTATE, KEY_REVOKE
	Purpose   string // node or log
	Origin    string
	Key       VerifierKey
	NewKey    *VerifierKey
	FromIndex uint64
}

type keyRecord struct {
	key                    VerifierKey
	validFrom              uint64
	rotatedAt, revokedFrom uint64
}

// TrustRegistry holds the node keys and log keys the policy's root key authorised. Folding
// uses only minima of positions, so the order events are added in does not matter.
type TrustRegistry struct {
	policy  *TrustPolicy
	records map[string]*keyRecord // origin LF handle
	logKeys map[string][]VerifierKey
}

// NewTrustRegistry starts a registry for a policy.
func NewTrustRegistry(p *TrustPolicy) *TrustRegistry {
	return &TrustRegistry{policy: p, records: map[string]*keyRecord{}, logKeys: map[string][]VerifierKey{}}
}

// OpenKeyEvent verifies a trust event envelope: canonical payload, shape, subject digest, and
// valid signatures by the root and by every key the event names.
func OpenKeyEvent(envelopeJSON interface{}, root VerifierKey) (*KeyEvent, error) {
	bad := func(format string, args ...interface{}) (*KeyEvent, error) {
		return nil, errf("ERR_TRUST_EVENT_INVALID", format, args...)
	}
	env, err := checkEnvelope(envelopeJSON)
	if err != nil {
		return bad("%s", err.(*Error).Message)
	}
	if env.payloadTyp != InTotoPayloadType {
		return bad("trust event payloadType is not in-toto")
	}
	sv, err := ParseJSON(env.payload)
	if err != nil {
		return bad("trust event payload is not JSON")
	}
	if canon, _ := Canonicalize(sv); !bytes.Equal(canon, env.payload) {
		return bad("trust event payload is not canonical JSON")
	}
	if p := bundledProblem("trust-event.v1.json", sv); p != "" {
		return bad("trust event %s", p)
	}
	st, _ := sv.(map[string]interface{})
	if st["predicateType"] != "https://helm.mindburn.org/trust/key-event/v1" {
		return bad("predicateType is not https://helm.mindburn.org/trust/key-event/v1")
	}
	pred, _ := st["predicate"].(map[string]interface{})
	subj, _ := st["subject"].([]interface{})
	if pred == nil || len(subj) != 1 {
		return bad("trust event statement must have a predicate and one subject")
	}
	pj, _ := Canonicalize(pred)
	d := sha256.Sum256(pj)
	s0, _ := subj[0].(map[string]interface{})
	dig, _ := s0["digest"].(map[string]interface{})
	if dig == nil || dig["sha256"] != hex.EncodeToString(d[:]) {
		return bad("trust event subject digest mismatch")
	}
	ev := &KeyEvent{}
	ev.Event, _ = pred["event"].(string)
	ev.Purpose, _ = pred["purpose"].(string)
	ev.Origin, _ = pred["origin"].(string)
	from, ok := safeUint(pred["fromIndex"])
	if !ok || ev.Origin == "" {
		return bad("trust event needs origin and fromIndex")
	}
	ev.FromIndex = from
	if ev.Purpose == "" {
		ev.Purpose = "node"
	}
	ks, _ := pred["key"].(string)
	k, err := ParseVerifierKey(ks)
	if err != nil || k.Alg != AlgEd25519 {
		return bad("trust event key must be an Ed25519 note key")
	}
	ev.Key = k
	named := []VerifierKey{k}
	switch ev.Event {
	case "KEY_PUBLISH", "KEY_REVOKE":
	case "KEY_ROTATE":
		nks, _ := pred["newKey"].(string)
		nk, err := ParseVerifierKey(nks)
		if err != nil || nk.Alg != AlgEd25519 {
			return bad("KEY_ROTATE needs newKey, an Ed25519 note key")
		}
		ev.NewKey = &nk
		named = append(named, nk)
	default:
		return bad("unknown event %q", ev.Event)
	}
	if ev.Event == "KEY_REVOKE" {
		named = nil
	}
	if ev.Purpose == "log" && (ev.Event != "KEY_PUBLISH" || ev.FromIndex != 0 || k.Name != ev.Origin) {
		return bad("a log-key event must be KEY_PUBLISH from index 0 of a key named after its origin")
	}
	msg := PAE(env.payloadTyp, env.payload)
	for _, need := range append([]VerifierKey{root}, named...) {
		var sig []byte
		for _, s := range env.sigs {
			if s.KeyID == need.Handle() {
				sig = s.Sig
				break
			}
		}
		if sig == nil {
			return nil, errf("ERR_TRUST_EVENT_UNAUTHORISED", "%s for %s lacks a signature by %s", ev.Event, ev.Origin, need.Handle())
		}
		if !ed25519.Verify(need.PublicKey, msg, sig) {
			return nil, errf("ERR_TRUST_EVENT_UNAUTHORISED", "%s for %s: bad signature by %s", ev.Event, ev.Origin, need.Handle())
		}
	}
	return ev, nil
}

func (r *TrustRegistry) record(origin string, k VerifierKey) *keyRecord {
	id := origin + "\n" + k.Handle()
	rec, ok := r.records[id]
	if !ok {
		rec = &keyRecord{key: k, validFrom: math.MaxUint64, rotatedAt: math.MaxUint64, revokedFrom: math.MaxUint64}
		r.records[id] = rec
	}
	return rec
}

func minU(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return b
}

// Add verifies a trust event envelope (parsed JSON, e.g. a trust node's body.event) and folds it in.
func (r *TrustRegistry) Add(envelopeJSON interface{}) (*KeyEvent, error) {
	if r.policy.Root == nil {
		return nil, errf("ERR_TRUST_NO_ROOT", "the trust policy names no root key, so no trust event can be accepted")
	}
	ev, err := OpenKeyEvent(envelopeJSON, *r.policy.Root)
	if err != nil {
		return nil, err
	}
	if ev.Purpose == "log" {
		r.logKeys[ev.Origin] = append(r.logKeys[ev.Origin], ev.Key)
		return ev, nil
	}
	switch ev.Event {
	case "KEY_PUBLISH":
		rec := r.record(ev.Origin, ev.Key)
		rec.validFrom = minU(rec.validFrom, ev.FromIndex)
	case "KEY_ROTATE":
		old := r.record(ev.Origin, ev.Key)
		old.rotatedAt = minU(old.rotatedAt, ev.FromIndex)
		next := r.record(ev.Origin, *ev.NewKey)
		next.validFrom = minU(next.validFrom, ev.FromIndex)
	case "KEY_REVOKE":
		rec := r.record(ev.Origin, ev.Key)
		rec.revokedFrom = minU(rec.revokedFrom, ev.FromIndex)
	}
	return ev, nil
}

// AddTrustNode adds the trust event a decoded trust node carries.
func (r *TrustRegistry) AddTrustNode(n *Node) (*KeyEvent, error) {
	if n.Kind != "trust" {
		return nil, errf("ERR_TRUST_EVENT_INVALID", "node %d of %s is a %s node, not a trust node", n.Index, n.Origin, n.Kind)
	}
	return r.Add(n.Body["event"])
}

func (r *TrustRegistry) resolve(handle, origin string, index uint64) (VerifierKey, string) {
	rec, ok := r.records[origin+"\n"+handle]
	switch {
	case !ok || rec.validFrom == math.MaxUint64:
		return VerifierKey{}, "key " + handle + " was never published by the root key for " + origin
	case index >= rec.revokedFrom:
		return VerifierKey{}, "key " + handle + " is revoked"
	case index >= rec.rotatedAt:
		return VerifierKey{}, "key " + handle + " was rotated out"
	case index < rec.validFrom:
		return VerifierKey{}, "key " + handle + " is not valid yet at this index"
	}
	return rec.key, ""
}

// VerifyNode checks a node's signatures (receipt.md §8 step 4): at least one by a key valid for
// (origin, index) must verify (ERR_UNTRUSTED_SIGNER otherwise), and a signature by a known key
// that does not verify is tampering (ERR_SIGNATURE).
func (r *TrustRegistry) VerifyNode(n *Node) (VerifierKey, error) {
	var good *VerifierKey
	var why []string
	for _, s := range n.Signatures {
		k, reason := r.resolve(s.KeyID, n.Origin, n.Index)
		if reason != "" {
			why = append(why, reason)
			continue
		}
		if !ed25519.Verify(k.PublicKey, n.PAE, s.Sig) {
			return VerifierKey{}, errf("ERR_SIGNATURE", "signature by %s does not verify: the node was altered after signing", s.KeyID)
		}
		if good == nil {
			kk := k
			good = &kk
		}
	}
	if good == nil {
		return VerifierKey{}, errf("ERR_UNTRUSTED_SIGNER", "no signature by a key the root published for %s at index %d (%v)", n.Origin, n.Index, why)
	}
	return *good, nil
}

// policyWithLogKeys adds the root-certified log keys (trust-policy.md §1.3) for checkpoints.
func (r *TrustRegistry) policyWithLogKeys() *TrustPolicy {
	p := *r.policy
	p.Logs = append([]VerifierKey{}, r.policy.Logs...)
	for _, ks := range r.logKeys {
		p.Logs = append(p.Logs, ks...)
	}
	return &p
}
