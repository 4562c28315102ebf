package knn

import (
	"math"
	"math/rand/v2"
	"testing"

	"fraudknn/vector"
)

// Kernel benchmarks run every kernel set this machine supports, e.g.
//
//	go test -run '^$' -bench Kernel -count 10 ./knn

func BenchmarkKernelScan(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 733 // the median cluster size of the contest artifact
	stride := padded(n)
	block := testBlock(rng, n, stride, func(d int) int16 { return randCoord(rng, d, false) })
	var q [vector.Dims]int16
	qb, _ := fillQuery(&q)
	dist, cand := make([]uint32, stride), make([]uint32, stride)
	// "near": a bound most members exceed early in their sums, as in a
	// search once the neighbours are close; "all": every member passes,
	// the full arithmetic.
	for _, bound := range []struct {
		name  string
		value uint32
	}{{"near", 1e8}, {"all", math.MaxInt32}} {
		for _, ks := range kernelSets() {
			b.Run("bound="+bound.name+"/kernel="+ks.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(n * vector.Dims * 2)
				for b.Loop() {
					ks.scan(qb, block, stride, n, bound.value, dist, cand)
				}
			})
		}
	}
}

func BenchmarkKernelBounds(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	const k = 4096
	lo, hi := make([]int16, k*vector.Dims), make([]int16, k*vector.Dims)
	for i := range lo {
		x, y := randCoord(rng, i/k, false), randCoord(rng, i/k, false)
		lo[i], hi[i] = min(x, y), max(x, y)
	}
	var q [vector.Dims]int16
	qb, _ := fillQuery(&q)
	dst, cand := make([]uint32, k), make([]uint32, k)
	for _, ks := range kernelSets() {
		b.Run("kernel="+ks.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ks.bounds(qb, lo, hi, k, k, 1e8, dst, cand)
			}
		})
	}
}

func BenchmarkKernelCentroids(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	const k = 4096
	cent := make([]float32, k*vector.Dims)
	for i := range cent {
		cent[i] = float32(rng.IntN(vector.MaxValue))
	}
	var q [vector.Dims]int16
	_, qf := fillQuery(&q)
	dst := make([]float32, k)
	for _, ks := range kernelSets() {
		b.Run("kernel="+ks.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ks.centroids(qf, cent, k, dst)
			}
		})
	}
}

// benchIndex builds a clustered random index of n vectors.
func benchIndex(b *testing.B, n, k int) (*Index, []int16) {
	rng := rand.New(rand.NewPCG(4, 4))
	vecs, labels := synth(rng, n, false)
	ix, err := Build(vecs, labels, assignment(rng, vecs, n, k, "by-coordinate"), k)
	if err != nil {
		b.Fatal(err)
	}
	return ix, vecs
}

// BenchmarkSearchSynthetic searches a random index; the figures that matter
// come from the real artifact (harness/cmd/replay and BenchmarkSearchArtifact).
func BenchmarkSearchSynthetic(b *testing.B) {
	ix, vecs := benchIndex(b, 100000, 128)
	rng := rand.New(rand.NewPCG(5, 5))
	queries := make([][vector.Dims]int16, 256)
	for i := range queries {
		queries[i] = randQuery(rng, vecs, false)
	}
	for _, ks := range kernelSets() {
		b.Run("kernel="+ks.name, func(b *testing.B) {
			s := newSearcher(ix, 5, ks)
			var r Result
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				s.Search(&queries[i%len(queries)], &r)
				i++
			}
		})
	}
}

func BenchmarkKernelNearestTwo(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 6))
	dist := make([]float32, 4096)
	for i := range dist {
		dist[i] = rng.Float32() * 1e9
	}
	for _, ks := range kernelSets() {
		b.Run("kernel="+ks.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ks.nearest2(dist)
			}
		})
	}
}
