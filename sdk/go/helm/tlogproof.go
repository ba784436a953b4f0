package helm

import (
	"regexp"
	"strconv"
	"strings"
)

// TlogProofHeader opens every c2sp.org/tlog-proof@v1 text.
const TlogProofHeader = "c2sp.org/tlog-proof@v1"

const maxProofHashes = 63

// TlogProof is a parsed offline inclusion proof.
type TlogProof struct {
	Index      uint64
	Proof      [][]byte
	Checkpoint string // the signed note, verbatim
	Extra      []byte
}

var indexLine = regexp.MustCompile(`^index (0|[1-9][0-9]*)$`)

// ParseTlogProof parses a proof strictly (ERR_TLOG_PROOF_MALFORMED).
func ParseTlogProof(text string) (*TlogProof, error) {
	bad := func(format string, args ...interface{}) error {
		return errf("ERR_TLOG_PROOF_MALFORMED", format, args...)
	}
	lines := strings.Split(text, "\n")
	i := 0
	next := func() (string, bool) {
		if i >= len(lines) {
			return "", false
		}
		i++
		return lines[i-1], true
	}
	if l, _ := next(); l != TlogProofHeader {
		return nil, bad("first line must be %s", TlogProofHeader)
	}
	p := &TlogProof{}
	line, _ := next()
	if strings.HasPrefix(line, "extra ") {
		b, err := StrictBase64(line[len("extra "):])
		if err != nil {
			return nil, bad("extra: not base64")
		}
		p.Extra = b
		line, _ = next()
	}
	m := indexLine.FindStringSubmatch(line)
	if m == nil || len(m[1]) > 16 {
		return nil, bad("expected \"index <decimal without leading zeros>\", got %q", line)
	}
	p.Index, _ = strconv.ParseUint(m[1], 10, 64)
	if p.Index > maxSafeInteger {
		return nil, bad("index %s exceeds 2^53-1", m[1])
	}
	ok := false
	for line, ok = next(); ok && line != ""; line, ok = next() {
		if len(p.Proof) == maxProofHashes {
			return nil, bad("proof has more than %d hashes", maxProofHashes)
		}
		h, err := StrictBase64(line)
		if err != nil || len(h) != 32 {
			return nil, bad("proof line %d is not a base64 SHA-256 hash", len(p.Proof)+1)
		}
		p.Proof = append(p.Proof, h)
	}
	if !ok {
		return nil, bad("no empty line before the checkpoint")
	}
	p.Checkpoint = strings.Join(lines[i:], "\n")
	if _, _, err := splitNote(p.Checkpoint); err != nil {
		return nil, bad("checkpoint: %s", err.(*Error).Message)
	}
	return p, nil
}

// VerifyTlogProof verifies a proof for entry: the checkpoint must satisfy the policy, the index
// must be below its size (ERR_TLOG_PROOF_INDEX) and the audit path must lead from the entry's
// leaf hash to the signed root (ERR_TLOG_PROOF_INCLUSION).
func VerifyTlogProof(text string, entry []byte, p *TrustPolicy) (*VerifiedCheckpoint, uint64, error) {
	proof, err := ParseTlogProof(text)
	if err != nil {
		return nil, 0, err
	}
	cp, err := VerifyCheckpoint(proof.Checkpoint, p)
	if err != nil {
		return nil, 0, err
	}
	if proof.Index >= cp.Size {
		return nil, 0, errf("ERR_TLOG_PROOF_INDEX", "index %d is not below the checkpoint size %d of %s", proof.Index, cp.Size, cp.Origin)
	}
	if !VerifyInclusion(proof.Index, cp.Size, LeafHash(entry), proof.Proof, cp.Root) {
		return nil, 0, errf("ERR_TLOG_PROOF_INCLUSION", "entry is not included at index %d of %s@%d", proof.Index, cp.Origin, cp.Size)
	}
	return cp, proof.Index, nil
}
