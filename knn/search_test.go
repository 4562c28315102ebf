package knn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// synth returns n random in-range vectors and labels. With coarse set, the
// coordinates come from a handful of values, so duplicates and exact
// distance ties are everywhere; otherwise they span the whole range,
// extremes included.
func synth(rng *rand.Rand, n int, coarse bool) ([]int16, []uint8) {
	vecs := make([]int16, n*Dims)
	labels := make([]uint8, n)
	for i := 0; i < n; i++ {
		for d := 0; d < Dims; d++ {
			vecs[i*Dims+d] = randCoord(rng, d, coarse)
		}
		labels[i] = uint8(rng.IntN(2))
	}
	return vecs, labels
}

func randCoord(rng *rand.Rand, d int, coarse bool) int16 {
	if (d == 5 || d == 6) && rng.IntN(4) == 0 {
		return -MaxValue
	}
	if coarse {
		return int16(rng.IntN(3) * MaxValue / 2)
	}
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return MaxValue
	}
	return int16(rng.IntN(MaxValue + 1))
}

func randQuery(rng *rand.Rand, vecs []int16, coarse bool) [Dims]int16 {
	var q [Dims]int16
	if rng.IntN(3) == 0 { // a query equal to a reference: distance-0 ties
		p := rng.IntN(len(vecs) / Dims)
		copy(q[:], vecs[p*Dims:])
		return q
	}
	for d := range q {
		q[d] = randCoord(rng, d, coarse)
	}
	return q
}

// assignments returns cluster assignments of n vectors in several styles:
// random (boxes overlap everywhere), by a coordinate (boxes nearly
// disjoint), all in one, each alone.
func assignments(rng *rand.Rand, vecs []int16, n, k int) map[string][]uint32 {
	random := make([]uint32, n)
	byCoord := make([]uint32, n)
	one := make([]uint32, n)
	alone := make([]uint32, n)
	for i := range random {
		random[i] = uint32(rng.IntN(k))
		byCoord[i] = uint32(int(vecs[i*Dims+0]) * k / (MaxValue + 1))
		alone[i] = uint32(i)
	}
	return map[string][]uint32{"random": random, "by-coordinate": byCoord, "one-cluster": one, "singletons": alone}
}

func TestSearchMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 4, 5, 6, 37, 500, 3000} {
		for _, coarse := range []bool{false, true} {
			vecs, labels := synth(rng, n, coarse)
			for _, k := range []int{1, 3, 16, 64} {
				for style, assign := range assignments(rng, vecs, n, k) {
					kk := k
					if style == "singletons" {
						kk = n
					}
					ix, err := Build(vecs, labels, assign, kk)
					if err != nil {
						t.Fatal(err)
					}
					if err := ix.Verify(); err != nil {
						t.Fatalf("Verify after Build: %v", err)
					}
					name := fmt.Sprintf("n=%d/coarse=%v/k=%d/%s", n, coarse, k, style)
					for _, nn := range []int{1, 5, MaxNeighbors} {
						compare(t, name, ix, vecs, labels, nn, rng, coarse, 60)
					}
				}
			}
		}
	}
}

func compare(t *testing.T, name string, ix *Index, vecs []int16, labels []uint8, k int, rng *rand.Rand, coarse bool, queries int) {
	t.Helper()
	s := NewSearcher(ix, k)
	var got, want Result
	for i := 0; i < queries; i++ {
		q := randQuery(rng, vecs, coarse)
		s.Search(&q, &got)
		BruteForce(vecs, labels, &q, k, &want)
		if got.Count != want.Count || got.Frauds != want.Frauds || fmt.Sprint(got.List()) != fmt.Sprint(want.List()) {
			t.Fatalf("%s k=%d query %v:\n search %v (frauds %d)\n brute  %v (frauds %d)", name, k, q, got.List(), got.Frauds, want.List(), want.Frauds)
		}
		if got.Vectors > ix.N || got.Clusters > ix.K || got.Clusters < 1 {
			t.Fatalf("%s: counters out of range: %d clusters, %d vectors", name, got.Clusters, got.Vectors)
		}
	}
}

// TestTiesAtTheBoundary builds a set where many vectors sit at exactly the
// k-th distance in different clusters: the earliest positions must win,
// whichever cluster the search meets first.
func TestTiesAtTheBoundary(t *testing.T) {
	const n = 64
	vecs := make([]int16, n*Dims)
	labels := make([]uint8, n)
	assign := make([]uint32, n)
	// Every vector is at distance 1 from the origin query: coordinate d%Dims
	// is 1, the rest 0; later positions go to lower clusters so that the
	// cluster order and the position order disagree.
	for p := 0; p < n; p++ {
		vecs[p*Dims+p%Dims] = 1
		labels[p] = uint8(p % 2)
		assign[p] = uint32((n - 1 - p) / 4)
	}
	ix, err := Build(vecs, labels, assign, n/4)
	if err != nil {
		t.Fatal(err)
	}
	var q [Dims]int16
	var got Result
	NewSearcher(ix, 5).Search(&q, &got)
	for i, nb := range got.List() {
		if nb.Dist != 1 || nb.Pos != uint32(i) {
			t.Fatalf("neighbour %d is %+v; want distance 1 at position %d (earliest positions win ties)", i, nb, i)
		}
	}
	if got.Count != 5 || got.Frauds != 2 {
		t.Fatalf("got %d neighbours with %d frauds; want 5 with 2", got.Count, got.Frauds)
	}
}

// TestExtremeDistances checks the largest possible distance, which must
// not overflow the uint32 arithmetic of the kernels.
func TestExtremeDistances(t *testing.T) {
	var far, q [Dims]int16
	for d := range far {
		far[d] = MaxValue
	}
	q[5], q[6] = -MaxValue, -MaxValue
	vecs := append(far[:], make([]int16, Dims)...)
	ix, err := Build(vecs, []uint8{1, 0}, []uint32{0, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got Result
	NewSearcher(ix, 2).Search(&q, &got)
	const want = 2*20000*20000 + 12*10000*10000
	if got.Neighbors[1].Dist != want || got.Neighbors[1].Pos != 0 {
		t.Fatalf("farthest neighbour %+v; want distance %d at position 0", got.Neighbors[1], want)
	}
}

func TestBuildRejects(t *testing.T) {
	good := make([]int16, Dims)
	bad := make([]int16, Dims)
	bad[2] = -1
	cases := []struct {
		name   string
		vecs   []int16
		labels []uint8
		assign []uint32
		k      int
	}{
		{"negative outside dims 5 and 6", bad, []uint8{0}, []uint32{0}, 1},
		{"label 2", good, []uint8{2}, []uint32{0}, 1},
		{"assignment beyond k", good, []uint8{0}, []uint32{1}, 1},
		{"length mismatch", good, []uint8{0, 1}, []uint32{0, 0}, 1},
		{"no clusters", good, []uint8{0}, []uint32{0}, 0},
		{"no vectors", nil, nil, nil, 1},
	}
	for _, c := range cases {
		if _, err := Build(c.vecs, c.labels, c.assign, c.k); err == nil {
			t.Errorf("%s: Build accepted it", c.name)
		}
	}
}

func TestVerifyCatchesDamage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vecs, labels := synth(rng, 200, false)
	assign := assignments(rng, vecs, 200, 8)["by-coordinate"]
	damage := map[string]func(ix *Index){
		"member outside its box": func(ix *Index) { ix.BoxMax[clusterEntry(0, 3)] = ix.BoxMin[clusterEntry(0, 3)] - 1 },
		"box outside its region": func(ix *Index) {
			ix.BoxMax[clusterEntry(1, 2)] = ix.RegionMax[2*ix.regionStride()] + 1
		},
		"centroid not finite":   func(ix *Index) { ix.RegionCentroids[0] = float32(math.NaN()) },
		"cluster table padding": func(ix *Index) { ix.BoxMin[clusterEntry(ix.K, 0)] = 1 },
		"region table padding":  func(ix *Index) { ix.RegionMax[1] = 1 },
		"duplicate position":    func(ix *Index) { ix.Pos[1] = ix.Pos[0] },
		"position beyond N":     func(ix *Index) { ix.Pos[0] = uint32(ix.N) },
		"label 7":               func(ix *Index) { ix.Labels[5] = 7 },
		"cluster tables short":  func(ix *Index) { ix.Start = ix.Start[:ix.K] },
		"empty cluster":         func(ix *Index) { ix.Start[1] = ix.Start[0] },
		"nonzero padding":       func(ix *Index) { ix.Vecs[int(ix.PadStart[1])*Dims-1] = 3 },
		"vectors truncated":     func(ix *Index) { ix.Vecs = ix.Vecs[:len(ix.Vecs)-1] },
		"member outside its leaf": func(ix *Index) {
			lo, hi, lp := ix.leafBoxes(0)
			hi[2*lp] = lo[2*lp] - 1
		},
		"leaf table short": func(ix *Index) { ix.LeafBoxes = ix.LeafBoxes[:len(ix.LeafBoxes)-1] },
	}
	for name, f := range damage {
		ix, err := Build(vecs, labels, assign, 8)
		if err != nil {
			t.Fatal(err)
		}
		if ix.PadStart[1] == ix.Start[1] && name == "nonzero padding" {
			continue // the first cluster happens to need no padding
		}
		f(ix)
		if err := ix.Verify(); err == nil {
			t.Errorf("%s: Verify found nothing wrong", name)
		}
	}
}

func TestSearchAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vecs, labels := synth(rng, 2000, false)
	ix, err := Build(vecs, labels, assignments(rng, vecs, 2000, 32)["random"], 32)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSearcher(ix, 5)
	q := randQuery(rng, vecs, false)
	var r Result
	if a := testing.AllocsPerRun(100, func() { s.Search(&q, &r) }); a != 0 {
		t.Fatalf("Search allocates %v times per call; want 0", a)
	}
}

func TestOriginalRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vecs, labels := synth(rng, 300, false)
	ix, err := Build(vecs, labels, assignments(rng, vecs, 300, 16)["random"], 16)
	if err != nil {
		t.Fatal(err)
	}
	v2, l2 := ix.Original()
	if fmt.Sprint(v2) != fmt.Sprint(vecs) || fmt.Sprint(l2) != fmt.Sprint(labels) {
		t.Fatal("Original does not give back the vectors Build was given")
	}
}

func TestNearestTwo(t *testing.T) {
	inf := float32(math.Inf(1))
	cases := []struct {
		in     []float32
		b1, b2 int
	}{
		{[]float32{5}, 0, -1},
		{[]float32{5, 3}, 1, 0},
		{[]float32{3, 3, 3}, 0, 1},
		{[]float32{9, 1, 4, 1, 0}, 4, 1},
		{[]float32{inf, inf}, 0, 1},
		{[]float32{2, inf, 1}, 2, 0},
	}
	for _, c := range cases {
		if b1, b2 := nearestTwo(c.in); b1 != c.b1 || b2 != c.b2 {
			t.Errorf("nearestTwo(%v) = %d, %d; want %d, %d", c.in, b1, b2, c.b1, c.b2)
		}
	}
}

// TestTiesAcrossLeaves puts 256 vectors at distance 1 from the query in
// one cluster: positions 0–127 are e₀ and 128–255 are e₁. The k-d order of
// the leaves puts e₁ (the later positions) in the first leaves, so once
// they are scanned the k-th distance is 1 and every remaining leaf has a
// bound of exactly 1: only "bound ≤ k-th distance" finds positions 0–4.
func TestTiesAcrossLeaves(t *testing.T) {
	const n = 256
	vecs := make([]int16, n*Dims)
	for p := 0; p < n; p++ {
		if p < n/2 {
			vecs[p*Dims+0] = 1
		} else {
			vecs[p*Dims+1] = 1
		}
	}
	ix, err := Build(vecs, make([]uint8, n), make([]uint32, n), 1)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Pos[0] < n/2 {
		t.Fatalf("test set-up: the first leaf starts with position %d; want a later position", ix.Pos[0])
	}
	var q [Dims]int16
	for _, ks := range kernelSets() {
		var got Result
		newSearcher(ix, 5, ks).Search(&q, &got)
		for i, nb := range got.List() {
			if nb.Dist != 1 || nb.Pos != uint32(i) {
				t.Fatalf("%s: neighbour %d is %+v; want distance 1 at position %d", ks.name, i, nb, i)
			}
		}
	}
}
