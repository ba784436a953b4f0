package helm

import (
	"crypto/sha256"
	"regexp"
	"strconv"
	"strings"
)

// Checkpoint is a parsed c2sp.org/tlog-checkpoint text.
type Checkpoint struct {
	Origin     string
	Size       uint64
	Root       [32]byte
	Extensions []string
}

// VerifiedCheckpoint is a checkpoint that satisfies a trust policy.
type VerifiedCheckpoint struct {
	Checkpoint
	LogKey    VerifierKey
	Witnesses []string
}

const maxSafeInteger = 1<<53 - 1

var decimal = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// ParseCheckpointText parses "<origin>\n<size>\n<base64 root>\n[<extension>\n]...".
func ParseCheckpointText(text string) (Checkpoint, error) {
	var c Checkpoint
	if !strings.HasSuffix(text, "\n") {
		return c, errf("ERR_CHECKPOINT_MALFORMED", "checkpoint text must end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, errf("ERR_CHECKPOINT_MALFORMED", "checkpoint text has %d lines, needs at least 3", len(lines))
	}
	for i, l := range lines {
		if l == "" && i != 1 && i != 2 {
			return c, errf("ERR_CHECKPOINT_MALFORMED", "line %d is empty", i+1)
		}
	}
	if !decimal.MatchString(lines[1]) || len(lines[1]) > 16 {
		return c, errf("ERR_CHECKPOINT_MALFORMED", "tree size %q is not a decimal without leading zeros", lines[1])
	}
	size, _ := strconv.ParseUint(lines[1], 10, 64)
	if size > maxSafeInteger {
		return c, errf("ERR_CHECKPOINT_MALFORMED", "tree size %s exceeds 2^53-1", lines[1])
	}
	root, err := StrictBase64(lines[2])
	if err != nil || len(root) != 32 {
		return c, errf("ERR_CHECKPOINT_MALFORMED", "root hash is not 32 bytes of standard base64")
	}
	c.Origin, c.Size, c.Extensions = lines[0], size, lines[3:]
	copy(c.Root[:], root)
	return c, nil
}

// VerifyCheckpoint checks a checkpoint note against a policy (trust-policy.md §2.1): a verified
// signature by the policy's log key named after the origin, and the witness quorum.
func VerifyCheckpoint(note string, p *TrustPolicy) (*VerifiedCheckpoint, error) {
	known := append([]VerifierKey{}, p.Logs...)
	for _, w := range p.Witnesses {
		known = append(known, w)
	}
	text, verified, err := OpenNote(note, known)
	if err != nil {
		switch CodeOf(err) {
		case "ERR_NOTE_BAD_SIGNATURE":
			return nil, errf("ERR_CHECKPOINT_BAD_SIGNATURE", "%s", err.(*Error).Message)
		case "ERR_NOTE_UNVERIFIED":
			return nil, errf("ERR_CHECKPOINT_UNTRUSTED", "checkpoint has no signature by a key of %s", p.Source)
		}
		return nil, errf("ERR_CHECKPOINT_MALFORMED", "%s", err.(*Error).Message)
	}
	c, err := ParseCheckpointText(text)
	if err != nil {
		return nil, err
	}
	out := &VerifiedCheckpoint{Checkpoint: c}
	found := false
	cosigned := map[string]bool{}
	for _, v := range verified {
		if v.Key.Alg == AlgEd25519 && v.Key.Name == c.Origin {
			out.LogKey, found = v.Key, true
		}
		for name, w := range p.Witnesses {
			if v.Key.Alg == AlgCosignatureV1 && w.Handle() == v.Key.Handle() {
				cosigned[name] = true
				out.Witnesses = append(out.Witnesses, name)
			}
		}
	}
	if !found {
		return nil, errf("ERR_CHECKPOINT_UNTRUSTED", "checkpoint for %q has no signature by a policy log key of that name", c.Origin)
	}
	if !p.satisfied(p.Quorum, cosigned) {
		return nil, errf("ERR_QUORUM_NOT_MET", "checkpoint %s@%d: cosigned by %v, which does not satisfy quorum %s of %s", c.Origin, c.Size, out.Witnesses, p.Quorum, p.Source)
	}
	return out, nil
}

// LeafHash is the RFC 6962 leaf hash SHA-256(0x00 ‖ entry).
func LeafHash(entry []byte) [32]byte { return sha256.Sum256(append([]byte{0}, entry...)) }

func nodeHash(l, r []byte) []byte {
	h := sha256.Sum256(append(append([]byte{1}, l...), r...))
	return h[:]
}

// VerifyInclusion checks an RFC 6962 audit path (RFC 9162 §2.1.3.2).
func VerifyInclusion(index, size uint64, leaf [32]byte, proof [][]byte, root [32]byte) bool {
	if index >= size {
		return false
	}
	fn, sn := index, size-1
	r := leaf[:]
	for _, p := range proof {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && string(r) == string(root[:])
}
