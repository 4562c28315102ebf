// Package realartifact gives tests and benchmarks the real artifact.
// It is apart from testenv because package artifact imports knn, whose
// own tests use testenv.
package realartifact

import (
	"os"
	"path/filepath"
	"testing"

	"fraudknn/artifact"
	"fraudknn/internal/dataset"
)

// Load loads the real artifact as cmd/api does (copied into huge
// pages): $FRAUDKNN_ARTIFACT, else build/index.fknn at the module's root
// (`make artifact` writes it). Without one it skips, saying how to make
// it. The artifact is closed when the test ends.
func Load(tb testing.TB) *artifact.Artifact {
	tb.Helper()
	path := os.Getenv("FRAUDKNN_ARTIFACT")
	if path == "" {
		root, _ := dataset.ModuleRoot()
		path = filepath.Join(root, "build", "index.fknn")
	}
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("skipping: no artifact at %s (run `make artifact` or set FRAUDKNN_ARTIFACT)", path)
	}
	a, err := artifact.CopyToHugePages(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a
}
