// Package knn finds the exact nearest neighbours of a query vector among a
// clustered set of labelled reference vectors, all of package vector's
// fixed-point shape, so that the search can promise the same answer as a
// brute-force scan, ties included (see docs/SEARCH.md).
package knn

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"fraudknn/knn/kdsplit"
	"fraudknn/vector"
)

// Group is the number of vectors a cluster's rows are padded to a multiple
// of, so that SIMD loads of a whole row never read into the next cluster.
const Group = 16

// Leaf is the number of members of a leaf: Build orders every cluster so
// that each run of Leaf members (the last run shorter) is compact, and
// keeps a bounding box per run, so that a scan can skip the runs that
// cannot hold a neighbour. A multiple of Group.
const Leaf = 64

// maxNeighbors is the largest k a search can be asked for (the
// contest asks for 5).
const maxNeighbors = 8

// RegionSize is the number of clusters of a region: Build numbers the
// clusters so that every run of RegionSize of them (the last run
// shorter) is compact, and keeps a bounding box and a centroid per run,
// so that a search can rank a few regions, and skip most, before it
// looks at any cluster. A multiple of centroidGroup.
const RegionSize = 64

// Index is a set of N labelled vectors partitioned into K non-empty
// clusters and laid out for search: the Tables, checked. Build lays out an
// Index from vectors and cluster assignments; New makes one from tables
// that were stored (package artifact maps them from a file). Either way an
// Index holds only tables that satisfy every invariant Tables states, so
// a search never meets a half-built or inconsistent one. It is read-only
// and safe for concurrent use by many Searchers.
type Index struct {
	t         Tables
	maxLeaves int // largest LeafStart[c+1]-LeafStart[c]
}

// Tables are the arrays an Index is made of. The slices may live on the Go
// heap (Build) or in read-only memory (package artifact).
//
// The index is a tree of four levels, each with exact bounding boxes:
// regions of RegionSize consecutive clusters, clusters, leaves of Leaf
// consecutive members, members.
//
// Cluster c holds the vectors Start[c] ≤ i < Start[c+1] in "cluster order",
// grouped in leaves of Leaf consecutive members: leaf b holds members
// bLeaf ≤ j < min((b+1)Leaf, size). Every leaf is a structure-of-arrays
// block of its own, vector.Dims rows, contiguous in Vecs:
//
//	stride := Leaf, or for the cluster's last leaf its size rounded up to Group
//	block  := Vecs[(PadStart[c]+b*Leaf)*vector.Dims : (PadStart[c]+b*Leaf+stride)*vector.Dims]
//	coordinate d of member b*Leaf+j = block[d*stride + j]
//
// so a cluster takes PadStart[c+1]-PadStart[c] = size rounded up to Group
// vector slots, and a leaf is one sequential read. Padding entries (j past
// the leaf's size) are zero and never reported.
//
// Leaf boxes are stored per cluster, minima then maxima, in one run: with
// nb = ⌈size/Leaf⌉ leaves padded to lp = nb rounded up to Group and
// o = LeafStart[c]*2*vector.Dims,
//
//	LeafBoxes[o + d*lp + b] ≤ coordinate d of every member of leaf b ≤ LeafBoxes[o + (vector.Dims+d)*lp + b]
//
// where lp = LeafStart[c+1] - LeafStart[c].
//
// The cluster tables (Centroids, BoxMin, BoxMax) hold one block per
// region: cluster c = r*RegionSize + j is column j of region r's block,
// entry r*RegionSize*vector.Dims + d*RegionSize + j. The region tables hold
// region r at entry d*rp + r, rp = the number of regions rounded up to centroidGroup (regionStride).
// Padding entries are zero.
type Tables struct {
	N int // number of vectors
	K int // number of clusters, all non-empty

	Vecs     []int16  // PadStart[K]*vector.Dims coordinates, per-cluster SoA blocks
	Start    []uint32 // K+1 prefix sums of cluster sizes
	PadStart []uint32 // K+1 prefix sums of padded cluster sizes
	Labels   []uint8  // N labels in cluster order: 1 fraud, 0 legit
	Pos      []uint32 // N original positions in cluster order

	// Centroids holds the mean of each cluster, in the same fixed-point
	// scale as the vectors. Only the order of the first clusters scanned
	// depends on it, never the answer.
	Centroids []float32
	// BoxMin and BoxMax hold each cluster's bounding box: BoxMin ≤ every
	// member's coordinate ≤ BoxMax. The search's exactness rests on this
	// invariant.
	BoxMin, BoxMax []int16

	// LeafStart holds K+1 prefix sums of the padded leaf counts; LeafBoxes
	// the leaf boxes (see above). Exactness rests on these boxes too.
	LeafStart []uint32
	LeafBoxes []int16

	// RegionCentroids holds the mean of each region's members; RegionMin
	// and RegionMax each region's bounding box, which contains the box of
	// every cluster of the region. Exactness rests on this too.
	RegionCentroids      []float32
	RegionMin, RegionMax []int16
}

// New returns the Index made of t, once it has checked, in O(N), every
// invariant the search relies on (verify lists them); an error says which
// one fails and where. It is the guard against a damaged or hand-made
// index. The Index keeps t's slices: they must not change afterwards.
func New(t Tables) (*Index, error) {
	ix := &Index{t: t}
	if err := ix.verify(); err != nil {
		return nil, err
	}
	ix.init()
	return ix, nil
}

// Tables returns the tables of ix, for storing them. The slices are the
// index's own, possibly in read-only memory: they must not be modified.
func (ix *Index) Tables() Tables { return ix.t }

// Len returns the number of vectors.
func (ix *Index) Len() int { return ix.t.N }

// Clusters returns the number of clusters.
func (ix *Index) Clusters() int { return ix.t.K }

// regions returns the number of regions: K/RegionSize rounded up.
func (ix *Index) regions() int { return regions(ix.t.K) }

// regionStride returns the row stride of the region tables.
func (ix *Index) regionStride() int { return regionStride(ix.t.K) }

// regionClusters returns the number of clusters of region r.
func (ix *Index) regionClusters(r int) int { return min(RegionSize, ix.t.K-r*RegionSize) }

// clusterEntry returns the index of coordinate d of cluster c in the
// cluster tables.
func clusterEntry(c, d int) int {
	return c/RegionSize*RegionSize*vector.Dims + d*RegionSize + c%RegionSize
}

// regionBlock returns region r's block of a cluster table.
func regionBlock[T int16 | float32](table []T, r int) []T {
	return table[r*RegionSize*vector.Dims : (r+1)*RegionSize*vector.Dims]
}

// padded returns n rounded up to a multiple of Group.
func padded(n int) int { return (n + Group - 1) / Group * Group }

// Build lays out n = len(labels) vectors, given row-major in their original
// order (vecs[i*vector.Dims+d]), as an Index whose clusters are the groups of
// assign (assign[i] < k is the cluster of vector i). Clusters no vector is
// assigned to are dropped, so the Index may have fewer than k clusters.
// Within a cluster, vectors are ordered so that every run of Leaf of them
// is compact (a k-d split, kdsplit.Leaves). Build fails if a
// coordinate is out of range (see vector.InRange) or an assignment is ≥ k.
func Build(vecs []int16, labels []uint8, assign []uint32, k int) (*Index, error) {
	n := len(labels)
	if len(vecs) != n*vector.Dims || len(assign) != n {
		return nil, fmt.Errorf("knn.Build: %d coordinates, %d labels and %d assignments do not describe the same vectors", len(vecs), n, len(assign))
	}
	if k <= 0 || n == 0 {
		return nil, fmt.Errorf("knn.Build: %d vectors in %d clusters; need at least one of each", n, k)
	}
	if uint64(n)+uint64(Group)*uint64(k) > math.MaxUint32 {
		return nil, fmt.Errorf("knn.Build: %d vectors in %d clusters is more than the index can address", n, k)
	}
	count := make([]int, k)
	for i, a := range assign {
		if int(a) >= k {
			return nil, fmt.Errorf("knn.Build: vector %d is assigned to cluster %d, but there are only %d", i, a, k)
		}
		count[a]++
		if labels[i] > 1 {
			return nil, fmt.Errorf("knn.Build: vector %d has label %d; want 0 (legit) or 1 (fraud)", i, labels[i])
		}
		for d := 0; d < vector.Dims; d++ {
			if v := vecs[i*vector.Dims+d]; !vector.InRange(d, v) {
				return nil, fmt.Errorf("knn.Build: vector %d coordinate %d is %d, outside the range the search supports (see vector.InRange)", i, d, v)
			}
		}
	}
	// Number the non-empty clusters so that every run of RegionSize is
	// compact: the leaves of a k-d split of the clusters' means.
	sums := make([]int64, k*vector.Dims)
	for i, a := range assign {
		for d := 0; d < vector.Dims; d++ {
			sums[int(a)*vector.Dims+d] += int64(vecs[i*vector.Dims+d])
		}
	}
	var nonEmpty []uint32
	for c, m := range count {
		if m > 0 {
			nonEmpty = append(nonEmpty, uint32(c))
		}
	}
	kk := len(nonEmpty)
	means := make([]int16, k*vector.Dims)
	for _, c := range nonEmpty {
		for d := 0; d < vector.Dims; d++ {
			means[int(c)*vector.Dims+d] = int16(math.Round(float64(sums[int(c)*vector.Dims+d]) / float64(count[c])))
		}
	}
	kdsplit.Leaves(means, nonEmpty, RegionSize)
	remap := make([]int, k)
	for c := range remap {
		remap[c] = -1
	}
	for i, c := range nonEmpty {
		remap[c] = i
	}
	ix := &Index{t: Tables{
		N:        n,
		K:        kk,
		Start:    make([]uint32, kk+1),
		PadStart: make([]uint32, kk+1),
		Labels:   make([]uint8, n),
		Pos:      make([]uint32, n),
	}}
	for r, c := range nonEmpty {
		m := count[c]
		ix.t.Start[r+1] = ix.t.Start[r] + uint32(m)
		ix.t.PadStart[r+1] = ix.t.PadStart[r] + uint32(padded(m))
	}
	ix.t.Vecs = make([]int16, int(ix.t.PadStart[kk])*vector.Dims)
	// Gather each cluster's members (Pos, in cluster order), then order
	// them into leaves and lay them out.
	next := make([]uint32, kk)
	for i, a := range assign {
		c := remap[a]
		ix.t.Pos[ix.t.Start[c]+next[c]] = uint32(i)
		next[c]++
	}
	for c := 0; c < kk; c++ {
		members := ix.t.Pos[ix.t.Start[c]:ix.t.Start[c+1]]
		kdsplit.Leaves(vecs, members, Leaf)
		for j, p := range members {
			ix.t.Labels[int(ix.t.Start[c])+j] = labels[p]
			block, stride, _ := ix.leaf(c, j/Leaf)
			for d := 0; d < vector.Dims; d++ {
				block[d*stride+j%Leaf] = vecs[int(p)*vector.Dims+d]
			}
		}
	}
	ix.computeSummaries()
	return ix, nil
}

// leafCount returns the number of leaves of a cluster of m members,
// padded to a multiple of Group.
func leafCount(m int) int { return padded((m + Leaf - 1) / Leaf) }

// computeSummaries fills the cluster, leaf and region tables from the
// members.
func (ix *Index) computeSummaries() {
	k := ix.t.K
	regions, rp := ix.regions(), 0
	rp = ix.regionStride()
	ix.t.Centroids = make([]float32, regions*RegionSize*vector.Dims)
	ix.t.BoxMin = make([]int16, regions*RegionSize*vector.Dims)
	ix.t.BoxMax = make([]int16, regions*RegionSize*vector.Dims)
	ix.t.RegionCentroids = make([]float32, rp*vector.Dims)
	ix.t.RegionMin = make([]int16, rp*vector.Dims)
	ix.t.RegionMax = make([]int16, rp*vector.Dims)
	ix.t.LeafStart = make([]uint32, k+1)
	for c := 0; c < k; c++ {
		ix.t.LeafStart[c+1] = ix.t.LeafStart[c] + uint32(leafCount(ix.size(c)))
	}
	ix.t.LeafBoxes = make([]int16, int(ix.t.LeafStart[k])*2*vector.Dims)
	regionSum := make([]int64, regions*vector.Dims)
	for c := 0; c < k; c++ {
		lo, hi, lp := ix.leafBoxes(c)
		nb := (ix.size(c) + Leaf - 1) / Leaf
		var sum [vector.Dims]int64
		for b := 0; b < nb; b++ {
			block, stride, n := ix.leaf(c, b)
			for d := 0; d < vector.Dims; d++ {
				row := block[d*stride : d*stride+n]
				lo[d*lp+b], hi[d*lp+b] = slices.Min(row), slices.Max(row)
				for _, v := range row {
					sum[d] += int64(v)
				}
			}
		}
		// The cluster's box is the union of its leaves' boxes, and the
		// region's the union of its clusters'.
		r := c / RegionSize
		for d := 0; d < vector.Dims; d++ {
			e := clusterEntry(c, d)
			ix.t.BoxMin[e] = slices.Min(lo[d*lp : d*lp+nb])
			ix.t.BoxMax[e] = slices.Max(hi[d*lp : d*lp+nb])
			ix.t.Centroids[e] = float32(float64(sum[d]) / float64(ix.size(c)))
			regionSum[r*vector.Dims+d] += sum[d]
			if c%RegionSize == 0 {
				ix.t.RegionMin[d*rp+r], ix.t.RegionMax[d*rp+r] = ix.t.BoxMin[e], ix.t.BoxMax[e]
			} else {
				ix.t.RegionMin[d*rp+r] = min(ix.t.RegionMin[d*rp+r], ix.t.BoxMin[e])
				ix.t.RegionMax[d*rp+r] = max(ix.t.RegionMax[d*rp+r], ix.t.BoxMax[e])
			}
		}
	}
	for r := 0; r < regions; r++ {
		first, last := r*RegionSize, r*RegionSize+ix.regionClusters(r)
		members := float64(ix.t.Start[last] - ix.t.Start[first])
		for d := 0; d < vector.Dims; d++ {
			ix.t.RegionCentroids[d*rp+r] = float32(float64(regionSum[r*vector.Dims+d]) / members)
		}
	}
	ix.init()
}

// init sets what the search derives from the tables once.
func (ix *Index) init() {
	ix.maxLeaves = 0
	for c := 0; c < ix.t.K; c++ {
		ix.maxLeaves = max(ix.maxLeaves, int(ix.t.LeafStart[c+1]-ix.t.LeafStart[c]))
	}
}

// leafBoxes returns the leaf box tables of cluster c and their row
// stride.
func (ix *Index) leafBoxes(c int) (lo, hi []int16, lp int) {
	lp = int(ix.t.LeafStart[c+1] - ix.t.LeafStart[c])
	o := int(ix.t.LeafStart[c]) * 2 * vector.Dims
	return ix.t.LeafBoxes[o : o+lp*vector.Dims], ix.t.LeafBoxes[o+lp*vector.Dims : o+2*lp*vector.Dims], lp
}

// size returns the number of members of cluster c.
func (ix *Index) size(c int) int { return int(ix.t.Start[c+1] - ix.t.Start[c]) }

// leaf returns leaf b of cluster c: its coordinate block (coordinate d of
// its member j is block[d*stride+j]), the block's row stride and the
// number of members.
func (ix *Index) leaf(c, b int) (block []int16, stride, n int) {
	m := ix.size(c)
	j0 := b * Leaf
	n = min(Leaf, m-j0)
	stride = Leaf
	if j0+Leaf >= m { // the last leaf
		stride = padded(n)
	}
	start := int(ix.t.PadStart[c]) + j0
	return ix.t.Vecs[start*vector.Dims : (start+stride)*vector.Dims], stride, n
}

// Vector returns the coordinates of member j of cluster c
// (0 ≤ j < ClusterSize(c)).
func (ix *Index) Vector(c, j int) [vector.Dims]int16 {
	var v [vector.Dims]int16
	block, stride, _ := ix.leaf(c, j/Leaf)
	for d := range v {
		v[d] = block[d*stride+j%Leaf]
	}
	return v
}

// Original returns all vectors row-major in their original order
// (Original()[p*vector.Dims+d] is coordinate d of the vector at position p) and
// their labels, as a brute-force scan needs them.
func (ix *Index) Original() (vecs []int16, labels []uint8) {
	vecs = make([]int16, ix.t.N*vector.Dims)
	labels = make([]uint8, ix.t.N)
	for c := 0; c < ix.t.K; c++ {
		for j := 0; j < ix.size(c); j++ {
			i := int(ix.t.Start[c]) + j
			p := int(ix.t.Pos[i])
			labels[p] = ix.t.Labels[i]
			v := ix.Vector(c, j)
			copy(vecs[p*vector.Dims:], v[:])
		}
	}
	return vecs, labels
}

// ClusterSize returns the number of members of cluster c.
func (ix *Index) ClusterSize(c int) int { return ix.size(c) }

// ClusterSizes returns the number of members of every cluster.
func (ix *Index) ClusterSizes() []int {
	s := make([]int, ix.t.K)
	for c := range s {
		s[c] = ix.size(c)
	}
	return s
}

// check verifies that the tables have the lengths N and K imply
// (tableList) and that
// the cluster tables are consistent: every cluster non-empty, padded to a
// multiple of Group. It is cheap (O(K)) and guards every index expression
// of the search; verify checks the contents.
func (ix *Index) check() error {
	n, k := ix.t.N, ix.t.K
	switch {
	case n <= 0 || k <= 0:
		return fmt.Errorf("index has %d vectors in %d clusters; want at least one of each", n, k)
	case k > n:
		return fmt.Errorf("index has %d clusters for %d vectors; every cluster must hold a vector", k, n)
	}
	for i := range tableList {
		tb := &tableList[i]
		if want, fixed := tb.Len(n, k); fixed && tableLen(tb.Slice(&ix.t)) != want {
			return fmt.Errorf("%s table has %d entries; %d vectors in %d clusters need %d", tb.Name, tableLen(tb.Slice(&ix.t)), n, k, want)
		}
	}
	if ix.t.Start[0] != 0 || ix.t.PadStart[0] != 0 || ix.t.LeafStart[0] != 0 {
		return errors.New("cluster tables do not start at 0")
	}
	for c := 0; c < k; c++ {
		m := int64(ix.t.Start[c+1]) - int64(ix.t.Start[c])
		p := int64(ix.t.PadStart[c+1]) - int64(ix.t.PadStart[c])
		if m <= 0 {
			return fmt.Errorf("cluster %d has %d members; want at least one", c, m)
		}
		if p != int64(padded(int(m))) {
			return fmt.Errorf("cluster %d has %d members padded to %d; want %d", c, m, p, padded(int(m)))
		}
		if l := int64(ix.t.LeafStart[c+1]) - int64(ix.t.LeafStart[c]); l != int64(leafCount(int(m))) {
			return fmt.Errorf("cluster %d has %d members in %d leaf slots; want %d", c, m, l, leafCount(int(m)))
		}
	}
	if len(ix.t.LeafBoxes) != int(ix.t.LeafStart[k])*2*vector.Dims {
		return fmt.Errorf("leaf box table has %d entries; the leaves need %d", len(ix.t.LeafBoxes), int(ix.t.LeafStart[k])*2*vector.Dims)
	}
	if int(ix.t.Start[k]) != n {
		return fmt.Errorf("clusters hold %d vectors; want N = %d", ix.t.Start[k], n)
	}
	if len(ix.t.Vecs) != int(ix.t.PadStart[k])*vector.Dims {
		return fmt.Errorf("%d coordinates; the padded clusters need %d", len(ix.t.Vecs), int(ix.t.PadStart[k])*vector.Dims)
	}
	return nil
}

// verify checks everything the search relies on, in O(N): check, every
// label 0 or 1, positions a permutation of 0..N-1, every coordinate in
// range (vector.InRange) and inside its leaf's and its cluster's box, every
// cluster's box inside its region's, padding zero, and every centroid
// finite.
func (ix *Index) verify() error {
	if err := ix.check(); err != nil {
		return err
	}
	seen := make([]uint64, (ix.t.N+63)/64)
	for i, p := range ix.t.Pos {
		if int(p) >= ix.t.N {
			return fmt.Errorf("vector %d (cluster order) has position %d, beyond N = %d", i, p, ix.t.N)
		}
		if seen[p/64]&(1<<(p%64)) != 0 {
			return fmt.Errorf("position %d appears twice", p)
		}
		seen[p/64] |= 1 << (p % 64)
	}
	for i, l := range ix.t.Labels {
		if l > 1 {
			return fmt.Errorf("vector %d (cluster order) has label %d; want 0 or 1", i, l)
		}
	}
	for _, t := range [][]float32{ix.t.Centroids, ix.t.RegionCentroids} {
		for _, f := range t {
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				return errors.New("a centroid coordinate is not finite")
			}
		}
	}
	if err := ix.verifyTables(); err != nil {
		return err
	}
	k := ix.t.K
	for c := 0; c < k; c++ {
		m := ix.size(c)
		llo, lhi, lp := ix.leafBoxes(c)
		nb := (m + Leaf - 1) / Leaf
		for d := 0; d < vector.Dims; d++ {
			for b := nb; b < lp; b++ {
				if a, z := llo[d*lp+b], lhi[d*lp+b]; a != 0 || z != 0 {
					return fmt.Errorf("cluster %d dimension %d: padding leaf %d has box [%d, %d]; want zeros", c, d, b, a, z)
				}
			}
		}
		for b := 0; b < nb; b++ {
			block, stride, n := ix.leaf(c, b)
			for d := 0; d < vector.Dims; d++ {
				lo, hi := ix.t.BoxMin[clusterEntry(c, d)], ix.t.BoxMax[clusterEntry(c, d)]
				a, z := llo[d*lp+b], lhi[d*lp+b]
				for j, v := range block[d*stride : (d+1)*stride] {
					switch {
					case j >= n:
						if v != 0 {
							return fmt.Errorf("cluster %d leaf %d dimension %d: padding entry %d is %d; want 0", c, b, d, j, v)
						}
					case !vector.InRange(d, v):
						return fmt.Errorf("cluster %d member %d dimension %d is %d, out of range", c, b*Leaf+j, d, v)
					case v < lo || v > hi:
						return fmt.Errorf("cluster %d member %d dimension %d is %d, outside the cluster's box [%d, %d]", c, b*Leaf+j, d, v, lo, hi)
					case v < a || v > z:
						return fmt.Errorf("cluster %d member %d dimension %d is %d, outside its leaf's box [%d, %d]", c, b*Leaf+j, d, v, a, z)
					}
				}
			}
		}
	}
	return nil
}

// verifyTables checks the cluster and region tables: every cluster's box
// inside its region's box, and every padding entry zero.
func (ix *Index) verifyTables() error {
	rp := ix.regionStride()
	regions := ix.regions()
	for r := 0; r < rp; r++ {
		for d := 0; d < vector.Dims; d++ {
			e := d*rp + r
			if r >= regions && (ix.t.RegionMin[e] != 0 || ix.t.RegionMax[e] != 0 || ix.t.RegionCentroids[e] != 0) {
				return fmt.Errorf("region table padding %d dimension %d is not zero", r, d)
			}
		}
	}
	for c := 0; c < regions*RegionSize; c++ {
		r := c / RegionSize
		for d := 0; d < vector.Dims; d++ {
			e := clusterEntry(c, d)
			lo, hi := ix.t.BoxMin[e], ix.t.BoxMax[e]
			switch {
			case c >= ix.t.K:
				if lo != 0 || hi != 0 || ix.t.Centroids[e] != 0 {
					return fmt.Errorf("cluster table padding %d dimension %d is not zero", c, d)
				}
			case lo < ix.t.RegionMin[d*rp+r] || hi > ix.t.RegionMax[d*rp+r]:
				return fmt.Errorf("cluster %d dimension %d: box [%d, %d] is not inside its region's [%d, %d]", c, d, lo, hi, ix.t.RegionMin[d*rp+r], ix.t.RegionMax[d*rp+r])
			}
		}
	}
	return nil
}
