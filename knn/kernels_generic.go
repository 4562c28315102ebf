package knn

import "fraudknn/vector"

// The distance kernels. Each works on a whole block (one query against a
// cluster, or against all boxes or all centroids), so that an assembly
// implementation can replace one without touching the search around it.
// The pure-Go kernels here are always compiled: they run where no
// assembly does, and they are the oracle the assembly is tested against.

// queryBlock holds every coordinate of a query repeated Group times, so
// that a kernel can load a whole SIMD register of it.
type queryBlock [vector.Dims][Group]int16

// queryFloats holds every coordinate of a query, as float32, repeated 8
// times (one 256-bit register of float32).
type queryFloats [vector.Dims][8]float32

// kernelSet is one implementation of the kernels.
type kernelSet struct {
	name string

	// scan writes to cand the indices j < n, in increasing order, of the
	// columns of a block of 14 rows of row stride stride whose exact
	// squared distance from the query is ≤ bound, and that distance to
	// dist[j]; it returns their number. (The block may start anywhere in
	// a cluster's rows, but its first row must hold n rounded up to Group
	// columns.) Other entries of dist are unspecified: a kernel may stop
	// computing a column once a partial sum exceeds bound. dist and cand
	// need room for stride entries: a kernel may write up to the padded
	// size.
	scan func(qb *queryBlock, block []int16, stride, n int, bound uint32, dist, cand []uint32) int

	// bounds writes to dst[c] the exact squared distance from the query to
	// box c, for the first k of kp boxes stored as lo[d*kp+c], hi[d*kp+c]
	// (kp a multiple of Group; entries of dst past k are unspecified), and
	// to cand the boxes c < k with dst[c] ≤ bound, in increasing order; it
	// returns their number. dst and cand need room for kp entries.
	bounds func(qb *queryBlock, lo, hi []int16, kp, k int, bound uint32, dst, cand []uint32) int

	// centroids writes to dst[c] the float32 squared distance from the
	// query to centroid c, for all kp centroids stored as cent[d*kp+c]
	// (kp a multiple of centroidGroup).
	centroids func(qf *queryFloats, cent []float32, kp int, dst []float32)

	// nearest2 returns the indices of the two smallest values of dist
	// (finite), the lower index first among equal values, the second −1
	// when dist has one element. cap(dist) must be a multiple of 8.
	nearest2 func(dist []float32) (int, int)

	// prefetch asks the CPU to bring block into its caches ahead of use;
	// it changes no result. The search calls it for what it will read
	// next, so that memory fetches overlap instead of queueing one after
	// another.
	prefetch func(block []int16)
}

// centroidGroup is the multiple the centroid table is padded to: the
// assembly kernel handles 64 centroids per step.
const centroidGroup = 64

// generic is the pure-Go kernel set.
var generic = kernelSet{
	name:      "go",
	scan:      scanGeneric,
	bounds:    boundsGeneric,
	centroids: centroidsGeneric,
	nearest2:  nearestTwo,
	prefetch:  func([]int16) {}, // pure Go has no prefetch instruction
}

// Kernel names the kernel set searches use: "avx2" (amd64), "neon"
// (arm64) or "go".
func Kernel() string { return kernels.name }

func scanGeneric(qb *queryBlock, block []int16, stride, n int, bound uint32, dist, cand []uint32) int {
	dist = dist[:n]
	clear(dist)
	for d := 0; d < vector.Dims; d++ {
		addSquares(int32(qb[d][0]), block[d*stride:d*stride+n], dist)
	}
	return filter(dist, bound, cand)
}

// addSquares adds (qd - row[j])² to dist[j]. Every value is in range
// (vector.InRange), so a difference is at most 20000 and every sum stays below
// 2³¹. A function of its own keeps its few values in registers.
func addSquares(qd int32, row []int16, dist []uint32) {
	dist = dist[:len(row)] // lets the compiler drop the bounds checks
	for j, v := range row {
		x := qd - int32(v)
		dist[j] += uint32(x * x)
	}
}

// filter writes the indices j with dist[j] ≤ bound to cand.
func filter(dist []uint32, bound uint32, cand []uint32) int {
	n := 0
	for j, d := range dist {
		if d <= bound {
			cand[n] = uint32(j)
			n++
		}
	}
	return n
}

func boundsGeneric(qb *queryBlock, lo, hi []int16, kp, k int, bound uint32, dst, cand []uint32) int {
	dst = dst[:kp]
	clear(dst)
	for d := 0; d < vector.Dims; d++ {
		addGaps(int32(qb[d][0]), lo[d*kp:d*kp+kp], hi[d*kp:d*kp+kp], dst)
	}
	return filter(dst[:k], bound, cand)
}

// addGaps adds to dst[c] the squared gap between qd and [lo[c], hi[c]]:
// zero when qd lies inside, else its distance to the nearer end. No member
// of a box is closer to the query in this coordinate.
func addGaps(qd int32, lo, hi []int16, dst []uint32) {
	hi = hi[:len(lo)]
	dst = dst[:len(lo)]
	for c, l := range lo {
		g := max(int32(l)-qd, qd-int32(hi[c]), 0)
		dst[c] += uint32(g * g)
	}
}

func centroidsGeneric(qf *queryFloats, cent []float32, kp int, dst []float32) {
	dst = dst[:kp]
	clear(dst)
	for d := 0; d < vector.Dims; d++ {
		row := cent[d*kp : d*kp+kp]
		row = row[:len(dst)]
		qd := qf[d][0]
		for c, v := range row {
			x := v - qd
			dst[c] += x * x
		}
	}
}
