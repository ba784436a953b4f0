package helm

import (
	"strings"
	"testing"
)

// Every Go block of README.md is code of example_test.go, which go test compiles (and runs).
func TestReadmeExamples(t *testing.T) {
	readme, examples := string(read(t, "../README.md")), string(read(t, "example_test.go"))
	blocks := strings.Split(readme, "```go\n")[1:]
	if len(blocks) != 2 {
		t.Fatalf("README has %d Go blocks, want 2", len(blocks))
	}
	for _, b := range blocks {
		code := b[:strings.Index(b, "```")]
		if !strings.Contains(examples, code) {
			t.Errorf("README block is not in example_test.go:\n%s", code)
		}
	}
}
