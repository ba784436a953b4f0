package helm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// Constants of the receipt format (docs/spec/receipt.md).
const (
	InTotoPayloadType = "application/vnd.in-toto+json"
	StatementType     = "https://in-toto.io/Statement/v1"
	PredicateBase     = "https://helm.mindburn.org/proofgraph/"
	MaxEntryBytes     = 65535
)

// Required body fields per node kind (receipt.md §6).
var bodyRequired = map[string][]string{
	"intent":    {"surface", "callId", "tool", "principal", "argsDigest"},
	"decision":  {"callId", "tool", "verdict", "reasonCode", "ruleIds", "policyDigest", "inputDigest", "engine"},
	"effect":    {"callId", "tool", "status", "confirmed"},
	"result":    {"callId", "tool", "status", "outputDigest"},
	"trust":     {"event"},
	"heartbeat": {"reason", "intervalUs", "software"},
	"gap":       {"from", "to", "reason"},
	"approval":  {"callId", "decision", "approver", "verdict", "nonce"},
}

// DsseSignature is one envelope signature.
type DsseSignature struct {
	KeyID string
	Sig   []byte
}

// Node is a decoded ProofGraph node whose form, schema and subject digest were checked.
// Its signatures are not checked yet: see TrustRegistry.VerifyNode.
type Node struct {
	Kind       string
	Statement  map[string]interface{}
	Predicate  map[string]interface{}
	Body       map[string]interface{}
	Origin     string
	Index      uint64
	Entry      []byte
	EntryHash  string // sha256:<hex>
	PAE        []byte
	Signatures []DsseSignature
}

// PAE is the DSSE pre-authentication encoding (lengths in bytes).
func PAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 " + strconv.Itoa(len(payloadType)) + " " + payloadType + " " + strconv.Itoa(len(payload)) + " ")
	b.Write(payload)
	return b.Bytes()
}

// HashRef returns "sha256:" + hex(SHA-256(b)).
func HashRef(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

type envelope struct {
	payload    []byte
	payloadTyp string
	sigs       []DsseSignature
}

// checkEnvelope checks the closed envelope shape of receipt.md §4.
func checkEnvelope(raw interface{}) (*envelope, error) {
	bad := func(format string, args ...interface{}) (*envelope, error) {
		return nil, errf("ERR_ENVELOPE_MALFORMED", format, args...)
	}
	o, ok := raw.(map[string]interface{})
	if !ok || len(o) != 3 {
		return bad("envelope must be an object with exactly payload, payloadType, signatures")
	}
	payload, ok1 := o["payload"].(string)
	typ, ok2 := o["payloadType"].(string)
	sigs, ok3 := o["signatures"].([]interface{})
	if !ok1 || !ok2 || !ok3 {
		return bad("envelope must be an object with exactly payload, payloadType, signatures")
	}
	pl, err := StrictBase64(payload)
	if err != nil {
		return bad("payload is not canonical base64")
	}
	if len(sigs) < 1 || len(sigs) > 16 {
		return bad("signatures has %d entries; 1 to 16 are allowed", len(sigs))
	}
	e := &envelope{payload: pl, payloadTyp: typ}
	for i, s := range sigs {
		so, ok := s.(map[string]interface{})
		keyid, ok1 := so["keyid"].(string)
		sig, ok2 := so["sig"].(string)
		if !ok || len(so) != 2 || !ok1 || !ok2 {
			return bad("signature %d must be exactly {keyid, sig}", i)
		}
		sb, err := StrictBase64(sig)
		if err != nil {
			return bad("signature %d is not canonical base64", i)
		}
		e.sigs = append(e.sigs, DsseSignature{KeyID: keyid, Sig: sb})
	}
	return e, nil
}

var (
	hashRefPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	hexDigest      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	timePattern    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
)

// DecodeNode decodes one log entry and checks it as the TypeScript verifier does (receipt.md §8
// steps 1-2): canonical form at both layers, envelope shape, payload type, statement schema
// (integers only, required fields), subject digest.
func DecodeNode(entry []byte) (*Node, error) {
	if len(entry) > MaxEntryBytes {
		return nil, errf("ERR_ENTRY_TOO_LARGE", "entry is %d bytes; the limit is %d", len(entry), MaxEntryBytes)
	}
	raw, err := ParseJSON(entry)
	if err != nil {
		return nil, err
	}
	env, err := checkEnvelope(raw)
	if err != nil {
		return nil, err
	}
	if canon, _ := Canonicalize(raw); !bytes.Equal(canon, entry) {
		return nil, errf("ERR_NOT_CANONICAL", "entry is not the JCS form of its envelope")
	}
	if env.payloadTyp != InTotoPayloadType {
		return nil, errf("ERR_PAYLOAD_TYPE", "payloadType %s is not %s", env.payloadTyp, InTotoPayloadType)
	}
	sv, err := ParseJSON(env.payload)
	if err != nil {
		return nil, err
	}
	st, _ := sv.(map[string]interface{})
	pt, _ := st["predicateType"].(string)
	kind := strings.TrimSuffix(strings.TrimPrefix(pt, PredicateBase), "/v1")
	if _, ok := bodyRequired[kind]; !ok || pt != PredicateBase+kind+"/v1" {
		return nil, errf("ERR_PREDICATE_TYPE", "unknown predicateType %q (expected %s<kind>/v1)", pt, PredicateBase)
	}
	if loneSurrogate(env.payload) {
		return nil, errf("ERR_SCHEMA", "%s statement has a lone surrogate escape (\\uD800-\\uDFFF without its pair)", kind)
	}
	if p := statementProblem(kind, sv); p != "" {
		return nil, errf("ERR_SCHEMA", "%s statement %s", kind, p)
	}
	n, err := checkStatement(kind, st)
	if err != nil {
		return nil, err
	}
	if canon, _ := Canonicalize(sv); !bytes.Equal(canon, env.payload) {
		return nil, errf("ERR_NOT_CANONICAL", "payload is not the JCS form of its statement")
	}
	bodyJcs, _ := Canonicalize(n.Body)
	digest := sha256.Sum256(bodyJcs)
	subject := st["subject"].([]interface{})[0].(map[string]interface{})
	if hex.EncodeToString(digest[:]) != subject["digest"].(map[string]interface{})["sha256"] {
		return nil, errf("ERR_SUBJECT_DIGEST", "subject digest does not match the predicate body")
	}
	n.Entry, n.EntryHash, n.PAE, n.Signatures = entry, HashRef(entry), PAE(env.payloadTyp, env.payload), env.sigs
	return n, nil
}

func checkStatement(kind string, st map[string]interface{}) (*Node, error) {
	bad := func(format string, args ...interface{}) (*Node, error) {
		return nil, errf("ERR_SCHEMA", kind+" statement "+format, args...)
	}
	if err := integersOnly(st, "/"); err != "" {
		return bad("%s", err)
	}
	if len(st) != 4 || st["_type"] != StatementType {
		return bad("must be exactly {_type: %s, subject, predicateType, predicate}", StatementType)
	}
	subj, ok := st["subject"].([]interface{})
	if !ok || len(subj) != 1 {
		return bad("/subject must have exactly one element")
	}
	s0, ok := subj[0].(map[string]interface{})
	name, okName := s0["name"].(string)
	dig, okDig := s0["digest"].(map[string]interface{})
	if !ok || len(s0) != 2 || !okName || name == "" || !okDig || len(dig) != 1 {
		return bad("/subject/0 must be {name, digest: {sha256}}")
	}
	if d, _ := dig["sha256"].(string); !hexDigest.MatchString(d) {
		return bad("/subject/0/digest/sha256 must be 64 lowercase hex digits")
	}
	p, ok := st["predicate"].(map[string]interface{})
	if !ok || len(p) != 7 {
		return bad("/predicate must have exactly origin, index, lamport, prev, parents, time, body")
	}
	origin, ok := p["origin"].(string)
	if !ok || origin == "" {
		return bad("/predicate/origin must be a non-empty string")
	}
	index, ok1 := safeUint(p["index"])
	lamport, ok2 := safeUint(p["lamport"])
	if !ok1 || !ok2 || lamport < 1 {
		return bad("/predicate/index and lamport must be integers (lamport >= 1)")
	}
	if prev, isStr := p["prev"].(string); p["prev"] != nil && (!isStr || !hashRefPattern.MatchString(prev)) {
		return bad("/predicate/prev must be null or a hash reference")
	}
	parents, ok := p["parents"].([]interface{})
	if !ok || len(parents) > 64 {
		return bad("/predicate/parents must be an array of at most 64 parents")
	}
	for i, par := range parents {
		po, ok := par.(map[string]interface{})
		h, _ := po["hash"].(string)
		if !ok || !hashRefPattern.MatchString(h) || (len(po) != 1 && len(po) != 3) {
			return bad("/predicate/parents/%d must be {hash} or {origin, index, hash}", i)
		}
	}
	if t, _ := p["time"].(string); !timePattern.MatchString(t) {
		return bad("/predicate/time must be RFC 3339 UTC with milliseconds")
	}
	body, ok := p["body"].(map[string]interface{})
	if !ok {
		return bad("/predicate/body must be an object")
	}
	for _, f := range bodyRequired[kind] {
		if _, ok := body[f]; !ok {
			return bad("/predicate/body must have required property '%s'", f)
		}
	}
	return &Node{Kind: kind, Statement: st, Predicate: p, Body: body, Origin: origin, Index: index}, nil
}

func safeUint(v interface{}) (uint64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	u, err := strconv.ParseUint(string(n), 10, 64)
	return u, err == nil && u <= maxSafeInteger
}

// integersOnly finds a number that is not an integer in ±(2^53-1): signed data has no floats.
func integersOnly(v interface{}, path string) string {
	switch x := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil || i > maxSafeInteger || i < -maxSafeInteger {
			return path + " " + string(x) + " is not an integer in ±(2^53-1)"
		}
	case []interface{}:
		for i, e := range x {
			if m := integersOnly(e, path+strconv.Itoa(i)+"/"); m != "" {
				return m
			}
		}
	case map[string]interface{}:
		for k, e := range x {
			if m := integersOnly(e, path+k+"/"); m != "" {
				return m
			}
		}
	}
	return ""
}

// loneSurrogate finds a \u escape of a UTF-16 surrogate without its pair: JSON decoding would
// replace it silently, and the TypeScript verifier refuses it as a schema error.
func loneSurrogate(text []byte) bool {
	hex4 := func(i int) (uint64, bool) {
		if i+6 > len(text) || text[i] != '\\' || text[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(text[i+2:i+6]), 16, 16)
		return v, err == nil
	}
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' {
			continue
		}
		v, ok := hex4(i)
		if !ok {
			i++ // an escaped character: skip it (it may be a backslash)
			continue
		}
		i += 5
		switch {
		case v >= 0xD800 && v <= 0xDBFF:
			if w, ok := hex4(i + 1); ok && w >= 0xDC00 && w <= 0xDFFF {
				i += 6
				continue
			}
			return true
		case v >= 0xDC00 && v <= 0xDFFF:
			return true
		}
	}
	return false
}
