package helm

import (
	"crypto/ed25519"
	"encoding/binary"
	"strconv"
	"strings"
)

// NoteSignature is one verified signature of a signed note.
type NoteSignature struct {
	Key       VerifierKey
	Timestamp uint64 // cosignature/v1 only
}

// OpenNote verifies a C2SP signed note against known keys. Signatures by unknown keys are
// ignored; a signature by a known key that does not verify is ERR_NOTE_BAD_SIGNATURE.
func OpenNote(note string, known []VerifierKey) (text string, verified []NoteSignature, err error) {
	text, lines, err := splitNote(note)
	if err != nil {
		return "", nil, err
	}
	for _, l := range lines {
		rest := strings.TrimPrefix(l, "\u2014 ")
		sp := strings.IndexByte(rest, ' ')
		name, raw := rest[:sp], rest[sp+1:]
		sig, _ := StrictBase64(raw)
		id := sig[:4]
		for _, k := range known {
			if k.Name != name || KeyID(k.Name, k.Alg, k.PublicKey) != hexOf(id) {
				continue
			}
			ok, ts := false, uint64(0)
			switch k.Alg {
			case AlgEd25519:
				ok = len(sig) == 68 && ed25519.Verify(k.PublicKey, []byte(text), sig[4:])
			case AlgCosignatureV1:
				if len(sig) == 76 {
					ts = binary.BigEndian.Uint64(sig[4:12])
					msg := "cosignature/v1\ntime " + strconv.FormatUint(ts, 10) + "\n" + text
					ok = ed25519.Verify(k.PublicKey, []byte(msg), sig[12:])
				}
			}
			if !ok {
				return "", nil, errf("ERR_NOTE_BAD_SIGNATURE", "signature by %s does not verify: the note was altered", k.Handle())
			}
			verified = append(verified, NoteSignature{Key: k, Timestamp: ts})
		}
	}
	if len(verified) == 0 {
		return "", nil, errf("ERR_NOTE_UNVERIFIED", "no signature by a known key")
	}
	return text, verified, nil
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// splitNote checks the note's syntax: text ending in LF, an empty line, then "— name base64" lines.
func splitNote(note string) (string, []string, error) {
	for _, r := range note {
		if (r < 0x20 && r != '\n') || r == 0x7f || r == '\uFFFD' {
			return "", nil, errf("ERR_NOTE_MALFORMED", "note contains a control character or invalid UTF-8")
		}
	}
	i := strings.LastIndex(note, "\n\n")
	if i < 0 || !strings.HasSuffix(note, "\n") {
		return "", nil, errf("ERR_NOTE_MALFORMED", "note has no signature block")
	}
	text := note[:i+1]
	block := strings.Split(strings.TrimSuffix(note[i+2:], "\n"), "\n")
	for _, l := range block {
		if !strings.HasPrefix(l, "\u2014 ") {
			return "", nil, errf("ERR_NOTE_MALFORMED", "signature line %q does not start with an em dash and a space", l)
		}
		f := strings.Split(strings.TrimPrefix(l, "\u2014 "), " ")
		if len(f) != 2 || !validKeyName(f[0]) {
			return "", nil, errf("ERR_NOTE_MALFORMED", "signature line %q is not \"— name signature\"", l)
		}
		sig, err := StrictBase64(f[1])
		if err != nil || len(sig) < 5 {
			return "", nil, errf("ERR_NOTE_MALFORMED", "signature on line %q is not base64 of key id ‖ signature", l)
		}
	}
	return text, block, nil
}
