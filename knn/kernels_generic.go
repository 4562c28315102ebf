package knn

// The distance kernels. Each works on a whole block (one query against a
// cluster, or against all centroids or boxes), so a faster implementation
// can replace one without touching the search around it.

// distBlock writes to dst[j] the exact squared distance from q to member j
// of a cluster block with the given row stride, for every j < len(dst).
// Every coordinate of q and of the block must be in range (InRange), which
// keeps every sum below 2³¹.
func distBlock(q *[Dims]int16, block []int16, stride int, dst []uint32) {
	n := len(dst)
	clear(dst)
	for d := 0; d < Dims; d++ {
		row := block[d*stride : d*stride+n]
		dst := dst[:len(row)] // lets the compiler drop the bounds checks
		qd := int32(q[d])
		for j, v := range row {
			x := qd - int32(v)
			dst[j] += uint32(x * x)
		}
	}
}

// centroidDists writes to dst[c] the squared distance, in float32, from q
// to centroid c of the k centroids stored as cent[d*k+c].
func centroidDists(q *[Dims]float32, cent []float32, k int, dst []float32) {
	dst = dst[:k]
	clear(dst)
	for d := 0; d < Dims; d++ {
		row := cent[d*k : d*k+k]
		dst := dst[:len(row)]
		qd := q[d]
		for c, v := range row {
			x := qd - v
			dst[c] += x * x
		}
	}
}

// boxBounds writes to dst[c] the exact squared distance from q to the
// bounding box of cluster c: the sum over dimensions of the gap between
// q[d] and [lo[d*k+c], hi[d*k+c]] (zero when q[d] lies inside), squared.
// No member of the cluster is closer to q than this bound.
func boxBounds(q *[Dims]int16, lo, hi []int16, k int, dst []uint32) {
	dst = dst[:k]
	clear(dst)
	for d := 0; d < Dims; d++ {
		boxRow(int32(q[d]), lo[d*k:d*k+k], hi[d*k:d*k+k], dst)
	}
}

// boxRow adds the squared gap between qd and [lo[c], hi[c]] to dst[c]. A
// function of its own keeps its few values in registers.
func boxRow(qd int32, lo, hi []int16, dst []uint32) {
	hi = hi[:len(lo)]
	dst = dst[:len(lo)]
	for c, l := range lo {
		g := max(int32(l)-qd, qd-int32(hi[c]), 0)
		dst[c] += uint32(g * g)
	}
}
