package main

import (
	"path/filepath"
	"testing"

	"fraudknn/internal/kmeans"
	"fraudknn/internal/testenv"
)

// BenchmarkIndexer builds the full artifact from the shared references with
// the default settings: `go test -run '^$' -bench Indexer -benchtime 1x ./cmd/indexer`.
func BenchmarkIndexer(b *testing.B) {
	refs := testenv.DataFile(b, "references.json.gz")
	out := filepath.Join(b.TempDir(), "index.fknn")
	for b.Loop() {
		if err := run(refs, out, 4096, 1, kmeans.DefaultIterations, kmeans.DefaultSample, 0); err != nil {
			b.Fatal(err)
		}
	}
}
