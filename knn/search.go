package knn

import (
	"fmt"
	"math"
	"slices"

	"fraudknn/vector"
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
	Neighbors [maxNeighbors]Neighbor
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
	ix      *Index
	k       int
	kern    *kernelSet
	qb      queryBlock
	qf      queryFloats
	dist    []uint32  // distances of one leaf's members
	members []uint32  // members of one leaf that passed the bound
	rdist   []float32 // distance from the query to every region's centroid
	rlb     []uint32  // lower bound of the distance to every region
	rnear   []uint32  // regions whose bound passed
	cdist   []float32 // distance from the query to the centroids of one region
	lb      []uint32  // lower bound of the distance to the clusters of one region
	near    []uint32  // clusters of one region whose bound passed
	cand    []uint64  // clusters left to scan: lower bound << 32 | cluster
	leafLB  []uint32  // lower bound of the distance to every leaf of a cluster
	leafHit []uint32  // leaves whose bound passed
	leaves  []uint64  // leaves left to scan: lower bound << 32 | leaf
}

// NewSearcher returns a Searcher for the k nearest neighbours in ix
// (1 ≤ k ≤ maxNeighbors).
func NewSearcher(ix *Index, k int) *Searcher {
	return newSearcher(ix, k, kernels)
}

func newSearcher(ix *Index, k int, kern *kernelSet) *Searcher {
	if k < 1 || k > maxNeighbors {
		panic(fmt.Sprintf("knn: NewSearcher with k = %d; want 1..%d", k, maxNeighbors))
	}
	rp := ix.regionStride()
	return &Searcher{
		ix:      ix,
		k:       k,
		kern:    kern,
		dist:    make([]uint32, Leaf),
		members: make([]uint32, Leaf),
		rdist:   make([]float32, rp),
		rlb:     make([]uint32, rp),
		rnear:   make([]uint32, rp),
		cdist:   make([]float32, RegionSize),
		lb:      make([]uint32, RegionSize),
		near:    make([]uint32, RegionSize),
		cand:    make([]uint64, 0, ix.t.K),
		leafLB:  make([]uint32, ix.maxLeaves),
		leafHit: make([]uint32, ix.maxLeaves),
		leaves:  make([]uint64, 0, ix.maxLeaves),
	}
}

// kernelBound turns the result's current bound into the kernels' filter:
// a distance passes when it is ≤ the bound. Distances never exceed 2³¹-1,
// so clamping keeps "everything passes" while fitting signed compares.
func kernelBound(w uint32) uint32 { return min(w, math.MaxInt32) }

// Search finds the k nearest neighbours of q, exactly: the same vectors, in
// the same order, as a brute-force scan ordering by (squared distance,
// original position). Every coordinate of q must be in range
// (vector.InRange), as package vectorize makes them.
//
// Tier 1 ranks the region centroids, then the cluster centroids of the
// two nearest regions, and scans the two nearest of those clusters, which
// usually finds neighbours close to the final ones. Tier 2 computes a
// lower bound of the distance from q to any member of every region (the
// distance to its bounding box), and within every region whose bound
// does not exceed the current k-th distance, the same bound for each of
// its clusters; it then scans, in increasing order of bound, every
// cluster whose bound does not exceed the current k-th distance.
// docs/SEARCH.md argues why nothing closer can be missed.
func (s *Searcher) Search(q *[vector.Dims]int16, r *Result) {
	ix := s.ix
	r.reset(s.k)
	for d, v := range q {
		for i := range s.qb[d] {
			s.qb[d][i] = v
		}
		for i := range s.qf[d] {
			s.qf[d][i] = float32(v)
		}
	}

	// Tier 1.
	regions, rp := ix.regions(), ix.regionStride()
	s.kern.centroids(&s.qf, ix.t.RegionCentroids, rp, s.rdist)
	r1, r2 := s.kern.nearest2(s.rdist[:regions])
	c1, c2 := -1, -1
	v1, v2 := float32(math.Inf(1)), float32(math.Inf(1))
	for _, g := range [2]int{r1, r2} {
		if g < 0 {
			continue
		}
		s.kern.centroids(&s.qf, regionBlock(ix.t.Centroids, g), RegionSize, s.cdist)
		a, b := s.kern.nearest2(s.cdist[:ix.regionClusters(g)])
		for _, j := range [2]int{a, b} {
			if j < 0 {
				continue
			}
			switch v, c := s.cdist[j], g*RegionSize+j; {
			case v < v1:
				c2, v2 = c1, v1
				c1, v1 = c, v
			case v < v2:
				c2, v2 = c, v
			}
		}
	}
	s.prefetchCluster(c1)
	if c2 >= 0 {
		s.prefetchCluster(c2)
	}
	s.scan(c1, r)
	if c2 >= 0 {
		s.scan(c2, r)
	}

	// Tier 2.
	n := s.kern.bounds(&s.qb, ix.t.RegionMin, ix.t.RegionMax, rp, regions, kernelBound(r.worst()), s.rlb, s.rnear)
	for _, g := range s.rnear[:n] {
		s.kern.prefetch(regionBlock(ix.t.BoxMin, int(g)))
		s.kern.prefetch(regionBlock(ix.t.BoxMax, int(g)))
	}
	cand := s.cand[:0]
	for _, g := range s.rnear[:n] {
		first := int(g) * RegionSize
		m := s.kern.bounds(&s.qb, regionBlock(ix.t.BoxMin, int(g)), regionBlock(ix.t.BoxMax, int(g)), RegionSize,
			ix.regionClusters(int(g)), kernelBound(r.worst()), s.lb, s.near)
		for _, j := range s.near[:m] {
			if c := first + int(j); c != c1 && c != c2 {
				cand = append(cand, uint64(s.lb[j])<<32|uint64(c))
			}
		}
	}
	slices.Sort(cand)
	// Each cluster's first reads are prefetched a few clusters ahead.
	for _, x := range cand[:min(len(cand), prefetchAhead)] {
		s.prefetchCluster(int(uint32(x)))
	}
	for i, x := range cand {
		if uint32(x>>32) > r.worst() {
			break // every cluster left has a bound at least this large
		}
		if i+prefetchAhead < len(cand) && uint32(cand[i+prefetchAhead]>>32) <= r.worst() {
			s.prefetchCluster(int(uint32(cand[i+prefetchAhead])))
		}
		s.scan(int(uint32(x)), r)
	}
	s.cand = cand
	r.finish()
}

// prefetchAhead is how many clusters ahead of the scan their first reads
// are prefetched.
const prefetchAhead = 2

// prefetchCluster prefetches what scanning cluster c reads first: its
// leaf boxes, or its only leaf.
func (s *Searcher) prefetchCluster(c int) {
	ix := s.ix
	if ix.size(c) <= Leaf {
		block, _, _ := ix.leaf(c, 0)
		s.kern.prefetch(block)
		return
	}
	s.kern.prefetch(ix.t.LeafBoxes[int(ix.t.LeafStart[c])*2*vector.Dims : int(ix.t.LeafStart[c+1])*2*vector.Dims])
}

// nearestTwo returns the indices of the two smallest values of dist (the
// lower index first among equal values), or -1 for the second when dist
// has only one element. The two best values stay in registers, so the
// usual element costs one compare that is almost never taken.
func nearestTwo(dist []float32) (int, int) {
	b1, b2 := -1, -1
	v1, v2 := float32(math.Inf(1)), float32(math.Inf(1))
	for c, v := range dist {
		if v < v2 || b2 < 0 {
			if v < v1 || b1 < 0 {
				b2, v2 = b1, v1
				b1, v1 = c, v
			} else {
				b2, v2 = c, v
			}
		}
	}
	return b1, b2
}

// scan offers the query's nearest members of cluster c to the result. A
// cluster of one leaf is scanned whole. Otherwise the leaves' boxes give a
// lower bound of the distance to each leaf's members, exactly as the
// cluster boxes do for clusters, and only the leaves whose bound does not
// exceed the current k-th distance are scanned, nearest bound first.
func (s *Searcher) scan(c int, r *Result) {
	ix := s.ix
	m := ix.size(c)
	r.Clusters++
	if m <= Leaf {
		s.scanLeaf(c, 0, r)
		return
	}
	lo, hi, lp := ix.leafBoxes(c)
	nb := (m + Leaf - 1) / Leaf
	n := s.kern.bounds(&s.qb, lo, hi, lp, nb, kernelBound(r.worst()), s.leafLB, s.leafHit)
	leaves := s.leaves[:0]
	for _, b := range s.leafHit[:n] {
		leaves = append(leaves, uint64(s.leafLB[b])<<32|uint64(b))
	}
	slices.Sort(leaves)
	// Fetch the leaves likely to be scanned together, not one by one.
	for _, x := range leaves[:min(len(leaves), prefetchLeaves)] {
		block, _, _ := ix.leaf(c, int(uint32(x)))
		s.kern.prefetch(block)
	}

	for _, x := range leaves {
		if uint32(x>>32) > r.worst() {
			break
		}
		s.scanLeaf(c, int(uint32(x)), r)
	}
	s.leaves = leaves
}

// prefetchLeaves is how many of a cluster's leaves, nearest bound first,
// are prefetched before its scan starts.
const prefetchLeaves = 4

// scanLeaf computes the distance from the query to every member of leaf
// b of cluster c and offers each one that can still enter the result.
func (s *Searcher) scanLeaf(c, b int, r *Result) {
	ix := s.ix
	block, stride, n := ix.leaf(c, b)
	base := int(ix.t.Start[c]) + b*Leaf
	hits := s.kern.scan(&s.qb, block, stride, n, kernelBound(r.worst()), s.dist, s.members)
	r.Vectors += n
	pos := ix.t.Pos[base : base+n]
	labels := ix.t.Labels[base : base+n]
	for _, j := range s.members[:hits] {
		if d := s.dist[j]; d <= r.worst() {
			r.insert(d, pos[j], labels[j])
		}
	}
}

// BruteForce finds the k nearest neighbours of q by computing its distance
// to every vector: vecs holds them row-major in original order
// (vecs[p*vector.Dims+d]), labels their labels. It keeps the first vector found
// among equal distances, which is the contract's tie rule stated the way
// the reference answers were computed. It is the test oracle for Search.
func BruteForce(vecs []int16, labels []uint8, q *[vector.Dims]int16, k int, r *Result) {
	r.reset(k)
	for p := range labels {
		v := vecs[p*vector.Dims : p*vector.Dims+vector.Dims]
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
