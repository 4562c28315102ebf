package knn

import (
	"fmt"
	"math"
	"slices"
)

// Neighbor is one reference vector found by a search.
type Neighbor struct {
	Dist  uint32 // exact squared distance at scale² (1.0² = 10⁸)
	Pos   uint32 // original position of the vector
	Label uint8  // 1 fraud, 0 legit
}

// less orders neighbours as the contract does: by distance, then by
// original position (the earlier reference wins a tie).
func less(d1, p1, d2, p2 uint32) bool {
	return d1 < d2 || d1 == d2 && p1 < p2
}

// Result is the answer of a search: the k nearest neighbours in order, and
// counters that say how much work it took.
type Result struct {
	Neighbors [MaxNeighbors]Neighbor
	Count     int // valid entries of Neighbors: k, or N if N < k
	Frauds    int // neighbours labelled fraud

	Clusters int // clusters scanned
	Vectors  int // vectors whose distance was computed

	k int
}

// List returns the valid neighbours, nearest first.
func (r *Result) List() []Neighbor { return r.Neighbors[:r.Count] }

func (r *Result) reset(k int) {
	*r = Result{k: k}
}

// worst returns the distance a vector must not exceed to enter the result:
// the k-th distance once k neighbours are known, MaxUint32 before. A vector
// at exactly this distance may still enter if its position is earlier.
func (r *Result) worst() uint32 {
	if r.Count < r.k {
		return math.MaxUint32
	}
	return r.Neighbors[r.k-1].Dist
}

// insert offers a vector to the result; it enters if it is among the k
// smallest by (distance, position).
func (r *Result) insert(dist, pos uint32, label uint8) {
	i := r.Count
	if i == r.k {
		last := &r.Neighbors[i-1]
		if !less(dist, pos, last.Dist, last.Pos) {
			return
		}
		i--
	} else {
		r.Count++
	}
	for i > 0 && less(dist, pos, r.Neighbors[i-1].Dist, r.Neighbors[i-1].Pos) {
		r.Neighbors[i] = r.Neighbors[i-1]
		i--
	}
	r.Neighbors[i] = Neighbor{Dist: dist, Pos: pos, Label: label}
}

func (r *Result) finish() {
	r.Frauds = 0
	for _, n := range r.List() {
		r.Frauds += int(n.Label)
	}
}

// Searcher runs searches over one Index. It owns the scratch memory a
// search needs, so searches allocate nothing; a Searcher is not safe for
// concurrent use (give each goroutine its own, or pool them).
type Searcher struct {
	ix    *Index
	k     int
	dist  []uint32  // distances of one cluster's members
	cdist []float32 // distance from the query to every centroid
	lb    []uint32  // lower bound of the distance to every cluster
	cand  []uint64  // clusters left to scan: lower bound << 32 | cluster
}

// NewSearcher returns a Searcher for the k nearest neighbours in ix
// (1 ≤ k ≤ MaxNeighbors). ix must have passed Check.
func NewSearcher(ix *Index, k int) *Searcher {
	if k < 1 || k > MaxNeighbors {
		panic(fmt.Sprintf("knn: NewSearcher with k = %d; want 1..%d", k, MaxNeighbors))
	}
	return &Searcher{
		ix:    ix,
		k:     k,
		dist:  make([]uint32, ix.maxStride),
		cdist: make([]float32, ix.K),
		lb:    make([]uint32, ix.K),
		cand:  make([]uint64, 0, ix.K),
	}
}

// ValidQuery reports whether every coordinate of q is in range (InRange).
// Search's exactness holds for such queries; package vectorize only
// produces such vectors.
func ValidQuery(q *[Dims]int16) bool {
	for d, v := range q {
		if !InRange(d, v) {
			return false
		}
	}
	return true
}

// Search finds the k nearest neighbours of q, exactly: the same vectors, in
// the same order, as a brute-force scan ordering by (squared distance,
// original position). q must satisfy ValidQuery.
//
// Tier 1 ranks the centroids and scans the two nearest clusters, which
// usually finds neighbours close to the final ones. Tier 2 computes, for
// every cluster, a lower bound of the distance from q to any of its
// members (the distance to its bounding box) and scans, in increasing
// order of bound, every cluster whose bound does not exceed the current
// k-th distance. docs/SEARCH.md argues why nothing closer can be missed.
func (s *Searcher) Search(q *[Dims]int16, r *Result) {
	ix := s.ix
	r.reset(s.k)

	// Tier 1.
	var qf [Dims]float32
	for d, v := range q {
		qf[d] = float32(v)
	}
	centroidDists(&qf, ix.Centroids, ix.K, s.cdist)
	c1, c2 := nearestTwo(s.cdist)
	s.scan(c1, q, r)
	if c2 >= 0 {
		s.scan(c2, q, r)
	}

	// Tier 2.
	boxBounds(q, ix.BoxMin, ix.BoxMax, ix.K, s.lb)
	worst := r.worst()
	cand := s.cand[:0]
	for c, b := range s.lb {
		if b <= worst && c != c1 && c != c2 {
			cand = append(cand, uint64(b)<<32|uint64(c))
		}
	}
	slices.Sort(cand)
	for _, x := range cand {
		if uint32(x>>32) > r.worst() {
			break // every cluster left has a bound at least this large
		}
		s.scan(int(uint32(x)), q, r)
	}
	s.cand = cand
	r.finish()
}

// nearestTwo returns the indices of the two smallest values of dist (the
// lower index first among equal values), or -1 for the second when dist
// has only one element.
func nearestTwo(dist []float32) (int, int) {
	b1, b2 := -1, -1
	for c, v := range dist {
		switch {
		case b1 < 0 || v < dist[b1]:
			b1, b2 = c, b1
		case b2 < 0 || v < dist[b2]:
			b2 = c
		}
	}
	return b1, b2
}

// scan computes the distance from q to every member of cluster c and
// offers each one that can still enter the result.
func (s *Searcher) scan(c int, q *[Dims]int16, r *Result) {
	ix := s.ix
	block, stride := ix.block(c)
	base := int(ix.Start[c])
	m := int(ix.Start[c+1]) - base
	dist := s.dist[:m]
	distBlock(q, block, stride, dist)
	r.Clusters++
	r.Vectors += m
	worst := r.worst()
	pos := ix.Pos[base : base+m]
	labels := ix.Labels[base : base+m]
	for j, d := range dist {
		if d <= worst {
			r.insert(d, pos[j], labels[j])
			worst = r.worst()
		}
	}
}

// BruteForce finds the k nearest neighbours of q by computing its distance
// to every vector: vecs holds them row-major in original order
// (vecs[p*Dims+d]), labels their labels. It keeps the first vector found
// among equal distances, which is the contract's tie rule stated the way
// the reference answers were computed. It is the test oracle for Search.
func BruteForce(vecs []int16, labels []uint8, q *[Dims]int16, k int, r *Result) {
	r.reset(k)
	for p := range labels {
		v := vecs[p*Dims : p*Dims+Dims]
		var d int64
		for i, x := range v {
			diff := int64(q[i]) - int64(x)
			d += diff * diff
		}
		if r.Count == k && d >= int64(r.Neighbors[k-1].Dist) {
			continue
		}
		// Strictly smaller than the k-th: it enters after every kept
		// neighbour at the same distance, since those were found first.
		i := r.Count
		if i < k {
			r.Count++
		} else {
			i--
		}
		for i > 0 && int64(r.Neighbors[i-1].Dist) > d {
			r.Neighbors[i] = r.Neighbors[i-1]
			i--
		}
		r.Neighbors[i] = Neighbor{Dist: uint32(d), Pos: uint32(p), Label: labels[p]}
	}
	r.Vectors = len(labels)
	r.finish()
}
