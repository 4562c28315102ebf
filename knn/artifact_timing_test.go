package knn_test

import (
	"testing"

	"fraudknn/internal/decision"
	"fraudknn/internal/payloads"
	"fraudknn/internal/testenv"
	"fraudknn/internal/testenv/realartifact"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

// The benchmarks here search the real artifact (realartifact.Load) for the
// shared payloads. They are external tests so that they can open the
// artifact (package artifact imports knn).

// BenchmarkSearchArtifact searches the payloads one after another, as
// harness/cmd/replay does: what a query costs while the caches hold what
// the searches before it read. Compare the kernels with
//
//	go test -run '^$' -bench SearchArtifact -count 10 ./knn > avx2.txt
//	go test -tags purego -run '^$' -bench SearchArtifact -count 10 ./knn > go.txt
//	benchstat go.txt avx2.txt
//
// Besides time it reports, per search, the vectors and clusters scanned
// and the least any search pruning with these boxes must scan
// (knn.RequiredWork): counts no host can inflate.
func BenchmarkSearchArtifact(b *testing.B) {
	ix, queries := artifactQueries(b)
	s := knn.NewSearcher(ix, decision.Neighbors)
	var r knn.Result
	i, vectors, clusters := 0, 0, 0
	b.ReportAllocs()
	for b.Loop() {
		s.Search(&queries[i%len(queries)], &r)
		vectors += r.Vectors
		clusters += r.Clusters
		i++
	}
	b.ReportMetric(float64(vectors)/float64(i), "vectors/op")
	b.ReportMetric(float64(clusters)/float64(i), "clusters/op")
	// The least work, over a sample of the queries (its scalar bounds
	// take about a millisecond a query).
	var leastClusters, leastVectors int
	n := min(len(queries), 1000)
	for j := range n {
		q := &queries[j*len(queries)/n]
		s.Search(q, &r)
		c, _, v := knn.RequiredWork(ix, q, r.Neighbors[decision.Neighbors-1].Dist)
		leastClusters += c
		leastVectors += v
	}
	b.ReportMetric(float64(leastVectors)/float64(n), "least-vectors/op")
	b.ReportMetric(float64(leastClusters)/float64(n), "least-clusters/op")
}

// BenchmarkColdCacheSearch times each search after evicting every cache
// level (testenv.EvictCaches, untimed): the state a request finds under
// load. Its difference from BenchmarkSearchArtifact is what the index's
// reads cost when they come from memory. Each operation also spends
// about 5 ms evicting, so give it a count:
//
//	go test -run '^$' -bench ColdCache -benchtime 3000x -count 3 ./knn
func BenchmarkColdCacheSearch(b *testing.B) {
	ix, queries := artifactQueries(b)
	s := knn.NewSearcher(ix, decision.Neighbors)
	var r knn.Result
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		testenv.EvictCaches()
		b.StartTimer()
		// Successive queries are far apart in the payload file.
		s.Search(&queries[(i*7919)%len(queries)], &r)
	}
}

// artifactQueries returns the real artifact's index and the shared
// payloads' vectors, or skips without them.
func artifactQueries(b *testing.B) (*knn.Index, [][vector.Dims]int16) {
	b.Helper()
	a := realartifact.Load(b)
	p, err := payloads.Load(testenv.DataFile(b, "test-data.json.gz"))
	if err != nil {
		b.Fatal(err)
	}
	queries := make([][vector.Dims]int16, 0, len(p.Entries))
	for _, e := range p.Entries {
		if v, err := vectorize.Vectorize(e.Request); err == nil {
			queries = append(queries, [vector.Dims]int16(v))
		}
	}
	return a.Index, queries
}
