package knn

import "fraudknn/vector"

// RequiredWork counts what any search that prunes with this index's boxes
// must scan to prove that w is the k-th distance from q: the clusters
// whose box bound is ≤ w, the leaves of those clusters whose own bound is
// ≤ w, and those leaves' members. (A leaf cannot be skipped without
// reading something finer than the index holds.) Benchmarks compare it
// with what Search scanned: the gap is the cost of not knowing w in
// advance. It computes every bound in scalar Go, for measurements only.
func RequiredWork(ix *Index, q *[vector.Dims]int16, w uint32) (clusters, leaves, vectors int) {
	for c := range ix.t.K {
		g, j := c/RegionSize, c%RegionSize
		at := func(d int) int { return g*RegionSize*vector.Dims + d*RegionSize + j }
		if boxBound(q, func(d int) (int16, int16) { return ix.t.BoxMin[at(d)], ix.t.BoxMax[at(d)] }) > w {
			continue
		}
		clusters++
		m := ix.size(c)
		if m <= Leaf {
			leaves++
			vectors += m
			continue
		}
		lo, hi, lp := ix.leafBoxes(c)
		for b := range (m + Leaf - 1) / Leaf {
			if boxBound(q, func(d int) (int16, int16) { return lo[d*lp+b], hi[d*lp+b] }) <= w {
				_, _, n := ix.leaf(c, b)
				leaves++
				vectors += n
			}
		}
	}
	return clusters, leaves, vectors
}

// boxBound is the exact lower bound of the squared distance from q to any
// point of a box, whose side d is box(d).
func boxBound(q *[vector.Dims]int16, box func(d int) (lo, hi int16)) uint32 {
	var sum uint32
	for d, v := range q {
		lo, hi := box(d)
		gap := max(int32(lo)-int32(v), int32(v)-int32(hi), 0)
		sum += uint32(gap * gap)
	}
	return sum
}
