// helm-tiles-interop lists, with Go's reference golang.org/x/mod/sumdb/tlog, the tiles (height 8)
// a log gets when it grows from one size to another, and their bytes. test/fleet/tiles.test.ts
// compares them with kernel/fleet/tiles.ts. Go's paths carry the height ("tile/8/L/N"); C2SP
// tlog-tiles fixes it at 8 and drops it ("tile/L/N"). Build in GOPATH mode against Debian's x/mod:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o helm-tiles-interop .
package main

import (
	"encoding/base64"
	"encoding/json"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	Entries [][]byte `json:"entries"`
	Steps   [][2]int64 `json:"steps"`
}

type tile struct {
	Path string `json:"path"`
	Data string `json:"data"`
}

type hashes []tlog.Hash

func (h hashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = h[x]
	}
	return out, nil
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		panic(err)
	}
	var stored hashes
	for i, e := range req.Entries {
		hs, err := tlog.StoredHashes(int64(i), e, stored)
		if err != nil {
			panic(err)
		}
		stored = append(stored, hs...)
	}
	out := [][]tile{}
	for _, s := range req.Steps {
		var ts []tile
		for _, t := range tlog.NewTiles(8, s[0], s[1]) {
			data, err := tlog.ReadTileData(t, stored)
			if err != nil {
				panic(err)
			}
			ts = append(ts, tile{t.Path(), base64.StdEncoding.EncodeToString(data)})
		}
		out = append(out, ts)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
