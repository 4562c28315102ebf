package knn_test

import (
	"os"
	"path/filepath"
	"testing"

	"fraudknn/artifact"
	"fraudknn/internal/dataset"
	"fraudknn/internal/decision"
	"fraudknn/internal/testenv"
	"fraudknn/knn"
	"fraudknn/vectorize"
)

// BenchmarkSearchArtifact runs the exact search over the shared payloads
// against the real artifact ($FRAUDKNN_ARTIFACT, else build/index.fknn
// from `make artifact`). It is an external test so that it can open the
// artifact (package artifact imports knn). Compare the kernels with
//
//	go test -run '^$' -bench SearchArtifact -count 10 ./knn > avx2.txt
//	go test -tags purego -run '^$' -bench SearchArtifact -count 10 ./knn > go.txt
//	benchstat go.txt avx2.txt
func BenchmarkSearchArtifact(b *testing.B) {
	path := os.Getenv("FRAUDKNN_ARTIFACT")
	if path == "" {
		path = filepath.Join("..", "build", "index.fknn")
	}
	if _, err := os.Stat(path); err != nil {
		b.Skipf("skipping: no artifact at %s (run `make artifact` or set FRAUDKNN_ARTIFACT)", path)
	}
	p, err := dataset.LoadPayloads(testenv.DataFile(b, "test-data.json.gz"))
	if err != nil {
		b.Fatal(err)
	}
	a, err := artifact.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	queries := make([]vectorize.Vector, 0, len(p.Entries))
	for _, e := range p.Entries {
		if v, err := vectorize.Vectorize(e.Request); err == nil {
			queries = append(queries, v)
		}
	}
	s := knn.NewSearcher(a.Index, decision.Neighbors)
	var r knn.Result
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		s.Search((*[knn.Dims]int16)(&queries[i%len(queries)]), &r)
		i++
	}
}
