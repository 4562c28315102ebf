package replay

import (
	"os"
	"path/filepath"
	"testing"

	"fraudknn/artifact"
	"fraudknn/internal/dataset"
	"fraudknn/internal/testenv"
	"fraudknn/knn"
	"fraudknn/vectorize"
)

// BenchmarkSearch runs the exact search over the shared payloads against
// the real artifact ($FRAUDKNN_ARTIFACT, else build/index.fknn from
// `make artifact`). Compare the kernels with
//
//	go test -run '^$' -bench Search -count 10 ./internal/replay > avx2.txt
//	go test -tags purego -run '^$' -bench Search -count 10 ./internal/replay > go.txt
//	benchstat go.txt avx2.txt
func BenchmarkSearch(b *testing.B) {
	path := os.Getenv("FRAUDKNN_ARTIFACT")
	if path == "" {
		path = filepath.Join("..", "..", "build", "index.fknn")
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
	s := knn.NewSearcher(a.Index, Neighbors)
	var r knn.Result
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		s.Search((*[knn.Dims]int16)(&queries[i%len(queries)]), &r)
		i++
	}
}
