package helm

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// TrustPolicy is a parsed trust policy file (docs/spec/trust-policy.md): c2sp.org/tlog-policy
// plus HELM's root and exporter lines.
type TrustPolicy struct {
	Source    string
	Logs      []VerifierKey
	Witnesses map[string]VerifierKey
	Groups    map[string]group
	Quorum    string
	Root      *VerifierKey
	Exporters []VerifierKey
}

type group struct {
	k       int
	members []string
}

// LoadTrustPolicy reads and parses a policy file.
func LoadTrustPolicy(path string) (*TrustPolicy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errf("ERR_POLICY_IO", "%v", err)
	}
	return ParseTrustPolicy(string(b), path)
}

// ParseTrustPolicy parses policy text; errors are ERR_POLICY_SYNTAX "<source>:<line>: what".
func ParseTrustPolicy(text, source string) (*TrustPolicy, error) {
	p := &TrustPolicy{Source: source, Witnesses: map[string]VerifierKey{}, Groups: map[string]group{}}
	names := map[string]bool{"none": true}
	used := map[string]bool{}
	quorums := 0
	seen := map[string]string{} // role + public key -> handle
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		bad := func(format string, args ...interface{}) error {
			return errf("ERR_POLICY_SYNTAX", "%s:%d: %s", source, n, fmt.Sprintf(format, args...))
		}
		for _, c := range []byte(line) {
			if (c < 0x20 && c != '\t') || c == 0x7f {
				return nil, bad("control character 0x%02x (CRLF files are refused)", c)
			}
		}
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		key := func(s string, alg byte, role string) (VerifierKey, error) {
			k, err := ParseVerifierKey(s)
			if err != nil {
				return k, bad("%s key: %s", role, err.(*Error).Message)
			}
			if k.Alg != alg {
				return k, bad("%s key %s must have type 0x%02x", role, k.Handle(), alg)
			}
			pk := string(k.PublicKey)
			if role == "root" {
				return k, nil
			}
			if seen[role+pk] != "" {
				return k, bad("duplicate %s key %s", role, k.Handle())
			}
			other := map[string]string{"log": "witness", "witness": "log"}[role]
			if other != "" && seen[other+pk] != "" {
				return k, bad("key %s is both a log key and a witness key", k.Handle())
			}
			seen[role+pk] = k.Handle()
			return k, nil
		}
		switch f[0] {
		case "log":
			if len(f) != 2 && len(f) != 3 {
				return nil, bad("log takes <vkey> [<url>]")
			}
			k, err := key(f[1], AlgEd25519, "log")
			if err != nil {
				return nil, err
			}
			p.Logs = append(p.Logs, k)
		case "witness":
			if len(f) != 3 && len(f) != 4 {
				return nil, bad("witness takes <name> <vkey> [<url>]")
			}
			if names[f[1]] {
				return nil, bad("name %s is already defined", f[1])
			}
			k, err := key(f[2], AlgCosignatureV1, "witness")
			if err != nil {
				return nil, err
			}
			names[f[1]] = true
			p.Witnesses[f[1]] = k
		case "group":
			if len(f) < 4 {
				return nil, bad("group takes <name> all|any|<k> <member>...")
			}
			if names[f[1]] {
				return nil, bad("name %s is already defined", f[1])
			}
			members := f[3:]
			for _, m := range members {
				if m == "none" || !names[m] {
					return nil, bad("group member %s is not a witness or group defined above", m)
				}
				if used[m] {
					return nil, bad("%s is a group member twice in this file", m)
				}
				used[m] = true
			}
			k := 0
			switch f[2] {
			case "all":
				k = len(members)
			case "any":
				k = 1
			default:
				v, err := strconv.Atoi(f[2])
				if err != nil || strconv.Itoa(v) != f[2] || v < 1 || v > len(members) {
					return nil, bad("group threshold %s must be all, any or 1..%d", f[2], len(members))
				}
				k = v
			}
			names[f[1]] = true
			p.Groups[f[1]] = group{k: k, members: members}
		case "quorum":
			if len(f) != 2 {
				return nil, bad("quorum takes <name>")
			}
			if !names[f[1]] {
				return nil, bad("quorum %s is not a witness or group defined above", f[1])
			}
			quorums++
			p.Quorum = f[1]
		case "root":
			if len(f) != 2 {
				return nil, bad("root takes <vkey>")
			}
			if p.Root != nil {
				return nil, bad("at most one root line")
			}
			k, err := key(f[1], AlgEd25519, "root")
			if err != nil {
				return nil, err
			}
			p.Root = &k
		case "exporter":
			if len(f) != 2 {
				return nil, bad("exporter takes <vkey>")
			}
			k, err := key(f[1], AlgEd25519, "exporter")
			if err != nil {
				return nil, err
			}
			p.Exporters = append(p.Exporters, k)
		default:
			return nil, bad("unknown keyword %q", f[0])
		}
	}
	if quorums != 1 {
		return nil, errf("ERR_POLICY_SYNTAX", "%s: there must be exactly one quorum line, found %d", source, quorums)
	}
	return p, nil
}

// satisfied reports whether the witnesses that cosigned satisfy the named quorum.
func (p *TrustPolicy) satisfied(name string, cosigned map[string]bool) bool {
	if name == "none" {
		return true
	}
	if g, ok := p.Groups[name]; ok {
		c := 0
		for _, m := range g.members {
			if p.satisfied(m, cosigned) {
				c++
			}
		}
		return c >= g.k
	}
	return cosigned[name]
}
