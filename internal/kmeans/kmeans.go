// Package kmeans partitions fixed-point vectors into k clusters with Lloyd's
// algorithm, deterministically and in parallel.
//
// Initial clusters come from a balanced k-d split (recursive median splits
// along the coordinate of largest variance), which already gives compact,
// equal-sized clusters. Each Lloyd iteration then assigns every vector to
// its nearest centroid, exactly, with the same bounding-box search the
// service uses (package knn) over the centroids, and moves every centroid
// to the rounded mean of its members. Sums are integers, so the result
// does not depend on how the work is split across cores.
package kmeans

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"fraudknn/knn"
	"fraudknn/knn/kdsplit"
	"fraudknn/vector"
)

const dims = vector.Dims

// The settings cmd/indexer uses unless told otherwise: on the contest's
// 3,000,000 references they build in under 40 s on 2 cores and search as
// fast as 8 iterations over all vectors (docs/INDEXER.md).
const (
	DefaultIterations = 12
	DefaultSample     = 500000
)

// Config says how to cluster.
type Config struct {
	K        int    // clusters wanted
	MaxIter  int    // Lloyd iterations at most; 0 keeps the k-d split
	Sample   int    // vectors to train on, drawn with Seed; 0 or ≥ N trains on all
	Seed     uint64 // seeds the training sample
	Workers  int    // goroutines; 0 means GOMAXPROCS
	Progress func(phase string, done, total int)
}

// Result is a clustering.
type Result struct {
	Assign     []uint32 // cluster of every vector, < K
	K          int      // clusters (K of the Config, or N if smaller)
	Iterations int      // Lloyd iterations run
	Moved      []int    // training vectors that changed cluster, per iteration
}

// Run clusters the n = len(vecs)/vector.Dims vectors given row-major. Every
// coordinate must satisfy vector.InRange.
func Run(vecs []int16, cfg Config) (*Result, error) {
	n := len(vecs) / dims
	if n == 0 || len(vecs)%dims != 0 {
		return nil, fmt.Errorf("kmeans: %d coordinates are not a whole number of %d-dimensional vectors", len(vecs), dims)
	}
	if cfg.K < 1 {
		return nil, fmt.Errorf("kmeans: asked for %d clusters", cfg.K)
	}
	k := min(cfg.K, n)
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}

	// Training set: all vectors, or a seeded sample of them in index order.
	train := vecs
	if cfg.Sample > 0 && cfg.Sample < n && cfg.Sample >= k {
		train = sample(vecs, cfg.Sample, cfg.Seed)
	}
	tn := len(train) / dims

	progress("k-d split", 0, 1)
	assign := make([]uint32, tn)
	kdsplit.Split(train, k, workers, assign)
	cent := make([]int16, k*dims)
	sums := newSums(k)
	sums.add(train, assign)
	sums.means(cent)
	progress("k-d split", 1, 1)

	res := &Result{K: k}
	for it := 0; it < cfg.MaxIter; it++ {
		phase := fmt.Sprintf("lloyd %d/%d", it+1, cfg.MaxIter)
		progress(phase, 0, tn)
		moved, err := assignNearest(train, cent, k, workers, assign, sums, func(done int) {
			progress(phase, done, tn)
		})
		if err != nil {
			return nil, err
		}
		sums.means(cent)
		res.Iterations++
		res.Moved = append(res.Moved, moved)
		if moved == 0 {
			break
		}
	}

	if tn == n {
		res.Assign = assign
		return res, nil
	}
	// Trained on a sample: assign every vector to the final centroids.
	res.Assign = make([]uint32, n)
	progress("assign all", 0, n)
	_, err := assignNearest(vecs, cent, k, workers, res.Assign, newSums(k), func(done int) {
		progress("assign all", done, n)
	})
	return res, err
}

// sample returns m of the n vectors, drawn without replacement with a
// generator seeded by seed, in their original order.
func sample(vecs []int16, m int, seed uint64) []int16 {
	n := len(vecs) / dims
	rng := rand.New(rand.NewPCG(seed, 0x6672617564))
	pick := make([]bool, n)
	// Floyd's algorithm: m draws, each adds exactly one new index.
	for j := n - m; j < n; j++ {
		t := rng.IntN(j + 1)
		if pick[t] {
			t = j
		}
		pick[t] = true
	}
	out := make([]int16, 0, m*dims)
	for i, p := range pick {
		if p {
			out = append(out, vecs[i*dims:i*dims+dims]...)
		}
	}
	return out
}

// sums accumulates, per cluster, the member count and the integer sum of
// every coordinate. Integer sums make the means independent of order.
type sums struct {
	count []int64
	total []int64 // total[c*dims+d]
}

func newSums(k int) *sums {
	return &sums{count: make([]int64, k), total: make([]int64, k*dims)}
}

func (s *sums) reset() {
	clear(s.count)
	clear(s.total)
}

func (s *sums) add(vecs []int16, assign []uint32) {
	for i, c := range assign {
		s.count[c]++
		t := s.total[int(c)*dims : int(c)*dims+dims]
		for d, v := range vecs[i*dims : i*dims+dims] {
			t[d] += int64(v)
		}
	}
}

func (s *sums) merge(o *sums) {
	for i, v := range o.count {
		s.count[i] += v
	}
	for i, v := range o.total {
		s.total[i] += v
	}
}

// means writes the rounded mean of every non-empty cluster to cent; an
// empty cluster keeps its centroid (it may win members back later). The
// mean of in-range coordinates is in range, so centroids are valid
// queries for package knn.
func (s *sums) means(cent []int16) {
	for c, m := range s.count {
		if m == 0 {
			continue
		}
		for d := 0; d < dims; d++ {
			cent[c*dims+d] = int16(roundDiv(s.total[c*dims+d], m))
		}
	}
}

// roundDiv returns a/b rounded to the nearest integer, halves away from
// zero, for b > 0.
func roundDiv(a, b int64) int64 {
	if a >= 0 {
		return (2*a + b) / (2 * b)
	}
	return -((-2*a + b) / (2 * b))
}

// chunk is the number of vectors a worker assigns at a time.
const chunk = 1 << 14

// dist returns the exact squared distance between two vectors.
func dist(a, b []int16) int64 {
	var s int64
	for d := range a {
		x := int64(a[d]) - int64(b[d])
		s += x * x
	}
	return s
}

// assignNearest sets assign[i] to the centroid nearest vector i (the lowest
// numbered among equally near ones), accumulates the new clusters in out
// (reset first), and returns how many vectors changed cluster.
func assignNearest(vecs, cent []int16, k, workers int, assign []uint32, out *sums, progress func(done int)) (int, error) {
	n := len(vecs) / dims
	// Index the centroids in about √k groups of nearby centroids, each
	// with its bounding box, and find the nearest with an exact 1-NN search.
	groups := 1
	for groups*groups < k {
		groups++
	}
	ga := make([]uint32, k)
	kdsplit.Split(cent, groups, workers, ga)
	ix, err := knn.Build(cent, make([]uint8, k), ga, groups)
	if err != nil {
		return 0, fmt.Errorf("kmeans: indexing the centroids: %w", err)
	}

	out.reset()
	var next, done, moved atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			s := knn.NewSearcher(ix, 1)
			local := newSums(k)
			var r knn.Result
			var q [dims]int16
			mv := 0
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					break
				}
				hi := min(lo+chunk, n)
				for i := lo; i < hi; i++ {
					copy(q[:], vecs[i*dims:])
					s.Search(&q, &r)
					if c := r.Neighbors[0].Pos; assign[i] != c {
						assign[i] = c
						mv++
					}
				}
				local.add(vecs[lo*dims:hi*dims], assign[lo:hi])
				progress(int(done.Add(int64(hi - lo))))
			}
			moved.Add(int64(mv))
			mu.Lock()
			out.merge(local)
			mu.Unlock()
		})
	}
	wg.Wait()
	return int(moved.Load()), nil
}
