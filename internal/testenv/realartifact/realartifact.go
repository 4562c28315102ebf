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

// Path returns the path of the real artifact: $FRAUDKNN_ARTIFACT, else
// build/index.fknn at the module's root (`make artifact` writes it).
// Without one it skips, saying how to make it.
func Path(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("FRAUDKNN_ARTIFACT")
	if path == "" {
		root, _ := dataset.ModuleRoot()
		path = filepath.Join(root, "build", "index.fknn")
	}
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("skipping: no artifact at %s (run `make artifact` or set FRAUDKNN_ARTIFACT)", path)
	}
	return path
}

// Load loads the real artifact (Path) as cmd/api does, copied into huge
// pages. The artifact is closed when the test ends.
func Load(tb testing.TB) *artifact.Artifact {
	tb.Helper()
	a, err := artifact.CopyToHugePages(Path(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a
}
