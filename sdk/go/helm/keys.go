package helm

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"unicode"
)

// Key types of C2SP signed notes.
const (
	AlgEd25519       = 0x01 // note and checkpoint signatures, node keys
	AlgCosignatureV1 = 0x04 // witness cosignatures (c2sp.org/tlog-cosignature)
)

// VerifierKey is a signed-note verifier key: name+<8 hex key id>+base64(type ‖ public key).
type VerifierKey struct {
	Name      string
	Alg       byte
	PublicKey ed25519.PublicKey
	KeyID     string // 8 lowercase hex digits
}

// Handle is name+keyid: the DSSE keyid HELM writes.
func (k VerifierKey) Handle() string { return k.Name + "+" + k.KeyID }

// VKey is the key's text form.
func (k VerifierKey) VKey() string {
	return k.Handle() + "+" + base64.StdEncoding.EncodeToString(append([]byte{k.Alg}, k.PublicKey...))
}

// KeyID computes the first 4 bytes of SHA-256(name ‖ LF ‖ type ‖ public key) in hex.
func KeyID(name string, alg byte, pub []byte) string {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{alg})
	h.Write(pub)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

var keyIDPattern = regexp.MustCompile(`^[0-9a-f]{8}$`)

func validKeyName(name string) bool {
	if name == "" || strings.Contains(name, "+") || !isWellFormed(name) {
		return false
	}
	return strings.IndexFunc(name, unicode.IsSpace) < 0
}

func isWellFormed(s string) bool {
	for _, r := range s {
		if r == '\uFFFD' {
			return false
		}
	}
	return true
}

// StrictBase64 decodes standard padded base64 and refuses any other encoding of the same bytes.
func StrictBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return nil, errf("ERR_BASE64", "not canonical standard base64 with padding")
	}
	return b, nil
}

// ParseVerifierKey parses a vkey.
func ParseVerifierKey(vkey string) (VerifierKey, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return VerifierKey{}, errf("ERR_KEY_FORMAT", "verifier key must be name+keyid+base64")
	}
	name, id, b64 := parts[0], parts[1], parts[2]
	if !validKeyName(name) {
		return VerifierKey{}, errf("ERR_KEY_FORMAT", "invalid key name %q", name)
	}
	if !keyIDPattern.MatchString(id) {
		return VerifierKey{}, errf("ERR_KEY_FORMAT", "verifier key id must be 8 lowercase hex digits")
	}
	raw, err := StrictBase64(b64)
	if err != nil || len(raw) != 33 {
		return VerifierKey{}, errf("ERR_KEY_FORMAT", "verifier key material must be base64 of 1 type byte + 32-byte Ed25519 key")
	}
	if raw[0] != AlgEd25519 && raw[0] != AlgCosignatureV1 {
		return VerifierKey{}, errf("ERR_KEY_FORMAT", "unsupported key type 0x%02x", raw[0])
	}
	k := VerifierKey{Name: name, Alg: raw[0], PublicKey: ed25519.PublicKey(raw[1:]), KeyID: id}
	if KeyID(name, raw[0], raw[1:]) != id {
		return VerifierKey{}, errf("ERR_KEY_FORMAT", "key id %s does not match the key", id)
	}
	return k, nil
}

// SigningKey is a private key in HELM's key file format (the one Go's sumdb/note reads).
type SigningKey struct {
	Verifier VerifierKey
	private  ed25519.PrivateKey
}

// ParseSigningKey parses PRIVATE+KEY+name+keyid+base64(type ‖ 32-byte seed).
func ParseSigningKey(text string) (*SigningKey, error) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "PRIVATE+KEY+") {
		return nil, errf("ERR_KEY_FORMAT", "private key must start with PRIVATE+KEY+ (write one with helmctl keygen)")
	}
	parts := strings.SplitN(text[len("PRIVATE+KEY+"):], "+", 3)
	if len(parts) != 3 || !validKeyName(parts[0]) || !keyIDPattern.MatchString(parts[1]) {
		return nil, errf("ERR_KEY_FORMAT", "private key must be PRIVATE+KEY+name+keyid+base64")
	}
	raw, err := StrictBase64(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != AlgEd25519 {
		return nil, errf("ERR_KEY_FORMAT", "private key material must be base64 of type 0x01 + 32-byte seed")
	}
	priv := ed25519.NewKeyFromSeed(raw[1:])
	pub := priv.Public().(ed25519.PublicKey)
	if KeyID(parts[0], AlgEd25519, pub) != parts[1] {
		return nil, errf("ERR_KEY_FORMAT", "key id %s does not match the key", parts[1])
	}
	return &SigningKey{Verifier: VerifierKey{Name: parts[0], Alg: AlgEd25519, PublicKey: pub, KeyID: parts[1]}, private: priv}, nil
}

// LoadSigningKey reads a key file written by helmctl keygen.
func LoadSigningKey(path string) (*SigningKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errf("ERR_KEY_FILE", "%v", err)
	}
	return ParseSigningKey(string(b))
}

// Sign signs msg with Ed25519.
func (k *SigningKey) Sign(msg []byte) []byte { return ed25519.Sign(k.private, msg) }
