package main

import (
	"math"
	"math/rand/v2"
	"testing"

	"fraudknn/internal/testenv"
	"fraudknn/knn"
	"fraudknn/vector"
)

func synthetic(t *testing.T, n, k int) (*knn.Index, []int16) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	vecs := make([]int16, n*vector.Dims)
	labels := make([]uint8, n)
	assign := make([]uint32, n)
	for i := range n {
		c := rng.IntN(k)
		for d := range vector.Dims {
			// Clustered: each cluster around its own corner, so boxes prune.
			vecs[i*vector.Dims+d] = int16(min(c*900+rng.IntN(1500), vector.MaxValue))
		}
		assign[i] = uint32(c)
	}
	ix, err := knn.Build(vecs, labels, assign, k)
	if err != nil {
		t.Fatal(err)
	}
	return ix, vecs
}

// TestEverythingPasses: with no bound every layout reads every vector.
func TestEverythingPasses(t *testing.T) {
	ix, _ := synthetic(t, 3000, 10)
	tr := buildTree(ix, []int{8, 16})
	var q [vector.Dims]int16
	c := tr.count(&q, math.MaxInt64)
	for i, v := range c.vectors {
		if v != ix.Len() {
			t.Errorf("layout %d: %d vectors counted with no bound; want all %d", i, v, ix.Len())
		}
		if c.lines[i] < float64(ix.Len()*vecBytes)/line {
			t.Errorf("layout %d: %.0f lines, fewer than the vectors alone take", i, c.lines[i])
		}
	}
}

// TestBoxes: a 1-byte box contains the exact box it stands for.
func TestBoxes(t *testing.T) {
	ix, _ := synthetic(t, 3000, 10)
	tr := buildTree(ix, []int{8})
	contains := func(outer, inner box) bool {
		for d := range inner.lo {
			if outer.lo[d] > inner.lo[d] || outer.hi[d] < inner.hi[d] {
				return false
			}
		}
		return true
	}
	for ci, cl := range tr.clusters {
		if !contains(cl.coarse, cl.exact) || !contains(tr.regions[ci/knn.RegionSize], cl.exact) {
			t.Fatalf("cluster %d: a box does not contain the cluster", ci)
		}
		for li, lf := range cl.children {
			if !contains(lf.coarse, lf.exact) || !contains(cl.exact, lf.exact) {
				t.Fatalf("cluster %d leaf %d: a box does not contain the leaf", ci, li)
			}
			for gi, g := range lf.groups[0] {
				if !contains(g.coarse, g.exact) || !contains(lf.exact, g.exact) {
					t.Fatalf("cluster %d leaf %d group %d: a box does not contain the group", ci, li, gi)
				}
			}
		}
	}
}

// TestOracle: with the true k-th distance, every layout counts at least
// the vectors within it, finer groups count no more than the leaves, and
// looser 1-byte boxes no fewer than int16 ones.
func TestOracle(t *testing.T) {
	ix, vecs := synthetic(t, 3000, 10)
	_, labels := ix.Original()
	tr := buildTree(ix, []int{8, 16})
	rng := testenv.Rand(t, 1)
	var r knn.Result
	for range 50 {
		var q [vector.Dims]int16
		for d := range q {
			q[d] = int16(rng.IntN(vector.MaxValue + 1))
		}
		knn.BruteForce(vecs, labels, &q, 5, &r)
		D := int64(r.Neighbors[4].Dist)
		within := 0
		for p := range ix.Len() {
			var s int64
			for d := range vector.Dims {
				x := int64(vecs[p*vector.Dims+d]) - int64(q[d])
				s += x * x
			}
			if s <= D {
				within++
			}
		}
		c := tr.count(&q, D)
		for i, v := range c.vectors {
			if v < within {
				t.Fatalf("query %v: layout %d counts %d vectors, fewer than the %d within the k-th distance", q, i, v, within)
			}
		}
		for gi := range 2 {
			exact, coarse := c.vectors[1+2*gi], c.vectors[2+2*gi]
			if exact > c.vectors[0] || coarse < exact {
				t.Fatalf("query %v, group size index %d: index %d, int16 groups %d, 1-byte groups %d vectors", q, gi, c.vectors[0], exact, coarse)
			}
		}
	}
}
