// helm-tlog-interop checks HELM's checkpoints and Merkle proofs with Go's reference transparency-log
// code, golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog (the code the Go checksum
// database runs on). It reads one JSON request on stdin and writes one JSON report on stdout; it
// reports what Go concluded for every case and leaves expectations to the caller
// (test/interop/go-tlog.test.ts). Build in GOPATH mode against Debian's x/mod:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o helm-tlog-interop .
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	// Entries of one log; inclusion and consistency cases and tree roots refer to it.
	Entries     [][]byte          `json:"entries"`
	Roots       []tlog.Hash       `json:"roots"` // our root for size i+1
	Inclusion   []inclusionCase   `json:"inclusion"`
	Consistency []consistencyCase `json:"consistency"`
	Notes       []noteCase        `json:"notes"`
	Proofs      []proofCase       `json:"proofs"`
	Signs       []signCase        `json:"signs"`
}

type inclusionCase struct {
	ID    string      `json:"id"`
	Index int64       `json:"index"`
	Size  int64       `json:"size"`
	Root  tlog.Hash   `json:"root"`
	Proof []tlog.Hash `json:"proof"`
}

type consistencyCase struct {
	ID    string      `json:"id"`
	Size1 int64       `json:"size1"`
	Root1 tlog.Hash   `json:"root1"`
	Size2 int64       `json:"size2"`
	Root2 tlog.Hash   `json:"root2"`
	Proof []tlog.Hash `json:"proof"`
}

type noteCase struct {
	ID   string `json:"id"`
	Vkey string `json:"vkey"`
	Note string `json:"note"`
}

// A c2sp.org/tlog-proof@v1 file for one entry, checked against one log key.
type proofCase struct {
	ID    string `json:"id"`
	Vkey  string `json:"vkey"`
	Text  string `json:"text"`
	Entry []byte `json:"entry"`
}

type signCase struct {
	ID   string `json:"id"`
	Skey string `json:"skey"`
	Text string `json:"text"`
}

type result struct {
	ID  string `json:"id"`
	OK  bool   `json:"ok"`
	Err string `json:"err,omitempty"`
	// Same reports whether Go's own proof (ProveRecord/ProveTree) equals ours, byte for byte.
	Same *bool  `json:"same,omitempty"`
	Text string `json:"text,omitempty"`
	Note string `json:"note,omitempty"`
}

type report struct {
	Go      string   `json:"go"`
	Results []result `json:"results"`
}

// memoryLog stores the hashes tlog.StoredHashes asks for, so TreeHash, ProveRecord and ProveTree
// can read them back: this is how the Go checksum database computes its tree.
type memoryLog struct{ hashes []tlog.Hash }

func (m *memoryLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

func buildLog(entries [][]byte) (*memoryLog, error) {
	m := &memoryLog{}
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, m)
		if err != nil {
			return nil, err
		}
		m.hashes = append(m.hashes, hs...)
	}
	return m, nil
}

func outcome(id string, err error) result {
	if err != nil {
		return result{ID: id, OK: false, Err: err.Error()}
	}
	return result{ID: id, OK: true}
}

func sameHashes(a, b []tlog.Hash) *bool {
	same := len(a) == len(b)
	for i := 0; same && i < len(a); i++ {
		same = a[i] == b[i]
	}
	return &same
}

// checkpointLines splits checkpoint note text into origin, size and root (c2sp.org/tlog-checkpoint).
func checkpointLines(text string) (origin string, size int64, root tlog.Hash, err error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || !strings.HasSuffix(text, "\n") {
		return "", 0, root, errors.New("checkpoint text has fewer than 3 lines")
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return "", 0, root, fmt.Errorf("bad tree size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return "", 0, root, fmt.Errorf("bad root hash %q", lines[2])
	}
	copy(root[:], raw)
	return lines[0], size, root, nil
}

func openCheckpoint(vkey, msg string) (*note.Note, string, int64, tlog.Hash, error) {
	var root tlog.Hash
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, "", 0, root, err
	}
	n, err := note.Open([]byte(msg), note.VerifierList(v))
	if err != nil {
		return nil, "", 0, root, err
	}
	origin, size, root, err := checkpointLines(n.Text)
	if err != nil {
		return nil, "", 0, root, err
	}
	if origin != v.Name() {
		return nil, "", 0, root, fmt.Errorf("origin %q is not the log key name %q", origin, v.Name())
	}
	return n, origin, size, root, nil
}

// checkTlogProof reads a c2sp.org/tlog-proof@v1 file as its spec describes and checks it with
// note.Open and tlog.CheckRecord.
func checkTlogProof(c proofCase) error {
	rest := c.Text
	next := func() (string, bool) {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			return "", false
		}
		line := rest[:i]
		rest = rest[i+1:]
		return line, true
	}
	if line, ok := next(); !ok || line != "c2sp.org/tlog-proof@v1" {
		return errors.New("missing c2sp.org/tlog-proof@v1 header")
	}
	line, _ := next()
	if strings.HasPrefix(line, "extra ") {
		if _, err := base64.StdEncoding.DecodeString(line[len("extra "):]); err != nil {
			return fmt.Errorf("bad extra data: %v", err)
		}
		line, _ = next()
	}
	if !strings.HasPrefix(line, "index ") {
		return fmt.Errorf("expected index line, got %q", line)
	}
	index, err := strconv.ParseInt(line[len("index "):], 10, 64)
	if err != nil || strconv.FormatInt(index, 10) != line[len("index "):] {
		return fmt.Errorf("bad index %q", line)
	}
	var proof tlog.RecordProof
	for {
		line, ok := next()
		if !ok {
			return errors.New("no empty line before the checkpoint")
		}
		if line == "" {
			break
		}
		raw, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(raw) != tlog.HashSize {
			return fmt.Errorf("bad proof hash %q", line)
		}
		var h tlog.Hash
		copy(h[:], raw)
		proof = append(proof, h)
	}
	_, _, size, root, err := openCheckpoint(c.Vkey, rest)
	if err != nil {
		return err
	}
	return tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(c.Entry))
}

func run(req request) (report, error) {
	rep := report{Go: runtime.Version()}
	add := func(r result) { rep.Results = append(rep.Results, r) }
	log, err := buildLog(req.Entries)
	if err != nil {
		return rep, err
	}

	// I3: tree roots for every size.
	for i, ours := range req.Roots {
		n := int64(i + 1)
		id := fmt.Sprintf("tree/%d", n)
		th, err := tlog.TreeHash(n, log)
		if err == nil && th != ours {
			err = fmt.Errorf("root of size %d: Go %s, ours %s", n, th, ours)
		}
		add(outcome(id, err))
	}

	// I2: inclusion and consistency proofs.
	for _, c := range req.Inclusion {
		var leaf tlog.Hash
		if c.Index >= 0 && c.Index < int64(len(req.Entries)) {
			leaf = tlog.RecordHash(req.Entries[c.Index])
		}
		r := outcome(c.ID, tlog.CheckRecord(c.Proof, c.Size, c.Root, c.Index, leaf))
		if goProof, err := tlog.ProveRecord(c.Size, c.Index, log); err == nil {
			r.Same = sameHashes(goProof, c.Proof)
		}
		add(r)
	}
	for _, c := range req.Consistency {
		r := outcome(c.ID, tlog.CheckTree(c.Proof, c.Size2, c.Root2, c.Size1, c.Root1))
		if goProof, err := tlog.ProveTree(c.Size2, c.Size1, log); err == nil {
			r.Same = sameHashes(goProof, c.Proof)
		}
		add(r)
	}

	// I1: checkpoint notes, both directions.
	for _, c := range req.Notes {
		n, _, _, _, err := openCheckpoint(c.Vkey, c.Note)
		r := outcome(c.ID, err)
		if n != nil {
			r.Text = n.Text
		}
		add(r)
	}
	for _, c := range req.Signs {
		s, err := note.NewSigner(c.Skey)
		var msg []byte
		if err == nil {
			msg, err = note.Sign(&note.Note{Text: c.Text}, s)
		}
		r := outcome(c.ID, err)
		r.Note = string(msg)
		add(r)
	}

	// I2: whole tlog-proof files.
	for _, c := range req.Proofs {
		add(outcome(c.ID, checkTlogProof(c)))
	}
	return rep, nil
}

func main() {
	var req request
	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "helm-tlog-interop: bad request:", err)
		os.Exit(2)
	}
	rep, err := run(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helm-tlog-interop:", err)
		os.Exit(1)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintln(os.Stderr, "helm-tlog-interop:", err)
		os.Exit(1)
	}
	os.Stdout.Write(out.Bytes())
}
