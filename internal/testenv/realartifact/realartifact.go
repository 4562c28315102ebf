// Package realartifact gives tests and benchmarks the real artifact.
// It is apart from testenv because package artifact imports knn, whose
// own tests use testenv.
package realartifact

import (
	"os"
	"path/filepath"
	"testing"

	"fraudknn/artifact"
)

// Load loads the real artifact as cmd/api does (copied into huge
// pages): $FRAUDKNN_ARTIFACT, else build/index.fknn at the module's root
// (`make artifact` writes it). Without one it skips, saying how to make
// it. The artifact is closed when the test ends.
func Load(tb testing.TB) *artifact.Artifact {
	tb.Helper()
	path := os.Getenv("FRAUDKNN_ARTIFACT")
	if path == "" {
		path = filepath.Join(moduleRoot(), "build", "index.fknn")
	}
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("skipping: no artifact at %s (run `make artifact` or set FRAUDKNN_ARTIFACT)", path)
	}
	a, err := artifact.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a
}

// moduleRoot returns the nearest folder at or above the working directory
// (a test's package folder) that holds go.mod, or "." if none does.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "."
		}
		dir = up
	}
}
