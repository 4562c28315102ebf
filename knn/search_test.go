package knn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"fraudknn/internal/testenv"
	"fraudknn/vector"
)

// synth returns n random in-range vectors and labels. With coarse set, the
// coordinates come from a handful of values, so duplicates and exact
// distance ties are everywhere; otherwise they span the whole range,
// extremes included.
func synth(rng *rand.Rand, n int, coarse bool) ([]int16, []uint8) {
	vecs := make([]int16, n*vector.Dims)
	labels := make([]uint8, n)
	for i := 0; i < n; i++ {
		for d := 0; d < vector.Dims; d++ {
			vecs[i*vector.Dims+d] = randCoord(rng, d, coarse)
		}
		labels[i] = uint8(rng.IntN(2))
	}
	return vecs, labels
}

func randCoord(rng *rand.Rand, d int, coarse bool) int16 {
	if (d == 5 || d == 6) && rng.IntN(4) == 0 {
		return -vector.MaxValue
	}
	if coarse {
		return int16(rng.IntN(3) * vector.MaxValue / 2)
	}
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return vector.MaxValue
	}
	return int16(rng.IntN(vector.MaxValue + 1))
}

func randQuery(rng *rand.Rand, vecs []int16, coarse bool) [vector.Dims]int16 {
	var q [vector.Dims]int16
	if rng.IntN(3) == 0 { // a query equal to a reference: distance-0 ties
		p := rng.IntN(len(vecs) / vector.Dims)
		copy(q[:], vecs[p*vector.Dims:])
		return q
	}
	for d := range q {
		q[d] = randCoord(rng, d, coarse)
	}
	return q
}

// styled is one way of assigning vectors to clusters.
type styled struct {
	name   string
	assign []uint32
	k      int // clusters the assignments range over
}

// assignments returns cluster assignments of n vectors to at most k
// clusters in several styles, always in this order: random (boxes overlap
// everywhere), by a coordinate (boxes nearly disjoint), all in one, each
// alone (n clusters).
func assignments(rng *rand.Rand, vecs []int16, n, k int) []styled {
	random := make([]uint32, n)
	byCoord := make([]uint32, n)
	one := make([]uint32, n)
	alone := make([]uint32, n)
	for i := range random {
		random[i] = uint32(rng.IntN(k))
		byCoord[i] = uint32(int(vecs[i*vector.Dims+0]) * k / (vector.MaxValue + 1))
		alone[i] = uint32(i)
	}
	return []styled{{"random", random, k}, {"by-coordinate", byCoord, k}, {"one-cluster", one, k}, {"singletons", alone, n}}
}

// assignment returns the assignments of the named style.
func assignment(rng *rand.Rand, vecs []int16, n, k int, style string) []uint32 {
	for _, a := range assignments(rng, vecs, n, k) {
		if a.name == style {
			return a.assign
		}
	}
	panic("no assignment style " + style)
}

func TestSearchMatchesBruteForce(t *testing.T) {
	rng := testenv.Rand(t, 1)
	for _, n := range []int{1, 4, 5, 6, 37, 500, 3000} {
		for _, coarse := range []bool{false, true} {
			vecs, labels := synth(rng, n, coarse)
			for _, k := range []int{1, 3, 16, 64} {
				for _, a := range assignments(rng, vecs, n, k) {
					name := fmt.Sprintf("n=%d/coarse=%v/k=%d/%s", n, coarse, k, a.name)
					ix, err := Build(vecs, labels, a.assign, a.k)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if err := ix.verify(); err != nil {
						t.Fatalf("%s: Build made an index that does not verify: %v", name, err)
					}
					for _, nn := range []int{1, 5, maxNeighbors} {
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
		if got.Count != want.Count || got.Frauds != want.Frauds || !slices.Equal(got.List(), want.List()) {
			t.Fatalf("%s k=%d query %v:\n search %v (frauds %d)\n brute  %v (frauds %d)", name, k, q, got.List(), got.Frauds, want.List(), want.Frauds)
		}
		if got.Vectors > ix.Len() || got.Clusters > ix.Clusters() || got.Clusters < 1 {
			t.Fatalf("%s: counters out of range: %d clusters, %d vectors", name, got.Clusters, got.Vectors)
		}
	}
}

// TestSearchScansWhatItsBoxesRequire checks the search against
// RequiredWork, which the artifact benchmark reports as the least work
// possible: every cluster and leaf whose box bound does not exceed the
// final k-th distance must have been scanned, or the search could have
// missed a neighbour there. It also checks RequiredWork itself, whose
// figures would otherwise be trusted unchecked.
func TestSearchScansWhatItsBoxesRequire(t *testing.T) {
	rng := testenv.Rand(t, 7)
	const n = 3000
	vecs, labels := synth(rng, n, false)
	for _, a := range assignments(rng, vecs, n, 96) {
		ix, err := Build(vecs, labels, a.assign, a.k)
		if err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		s := NewSearcher(ix, 5)
		var r Result
		for range 40 {
			q := randQuery(rng, vecs, false)
			s.Search(&q, &r)
			clusters, _, vectors := RequiredWork(ix, &q, r.worst())
			if r.Clusters < clusters || r.Vectors < vectors {
				t.Fatalf("%s query %v: the search scanned %d clusters and %d vectors, fewer than the %d and %d whose bounds are within its 5th distance %d",
					a.name, q, r.Clusters, r.Vectors, clusters, vectors, r.worst())
			}
			if clusters < 1 || vectors < 5 {
				t.Fatalf("%s query %v: RequiredWork counts %d clusters and %d vectors; the 5 neighbours' own clusters are at least 1 and 5", a.name, q, clusters, vectors)
			}
		}
	}
}

// TestTiesAtTheBoundary builds a set where many vectors sit at exactly the
// k-th distance in different clusters: the earliest positions must win,
// whichever cluster the search meets first.
func TestTiesAtTheBoundary(t *testing.T) {
	const n = 64
	vecs := make([]int16, n*vector.Dims)
	labels := make([]uint8, n)
	assign := make([]uint32, n)
	// Every vector is at distance 1 from the origin query: coordinate d%vector.Dims
	// is 1, the rest 0; later positions go to lower clusters so that the
	// cluster order and the position order disagree.
	for p := 0; p < n; p++ {
		vecs[p*vector.Dims+p%vector.Dims] = 1
		labels[p] = uint8(p % 2)
		assign[p] = uint32((n - 1 - p) / 4)
	}
	ix, err := Build(vecs, labels, assign, n/4)
	if err != nil {
		t.Fatal(err)
	}
	var q [vector.Dims]int16
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
	var far, q [vector.Dims]int16
	for d := range far {
		far[d] = vector.MaxValue
	}
	q[5], q[6] = -vector.MaxValue, -vector.MaxValue
	vecs := append(far[:], make([]int16, vector.Dims)...)
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
	good := make([]int16, vector.Dims)
	bad := make([]int16, vector.Dims)
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

// TestNewRefusesDamage damages the tables of a good index in every way
// the search could be hurt by, one at a time: New must refuse each.
func TestNewRefusesDamage(t *testing.T) {
	rng := testenv.Rand(t, 3)
	vecs, labels := synth(rng, 200, false)
	assign := assignment(rng, vecs, 200, 8, "by-coordinate")
	damage := []struct {
		name string
		f    func(t *Tables)
	}{
		{"member outside its box", func(t *Tables) { t.BoxMax[clusterEntry(0, 3)] = t.BoxMin[clusterEntry(0, 3)] - 1 }},
		{"box outside its region", func(t *Tables) { t.BoxMax[clusterEntry(1, 2)] = t.RegionMax[2*len(t.RegionMax)/vector.Dims] + 1 }},
		{"centroid not finite", func(t *Tables) { t.RegionCentroids[0] = float32(math.NaN()) }},
		{"cluster table padding", func(t *Tables) { t.BoxMin[clusterEntry(t.K, 0)] = 1 }},
		{"region table padding", func(t *Tables) { t.RegionMax[1] = 1 }},
		{"duplicate position", func(t *Tables) { t.Pos[1] = t.Pos[0] }},
		{"position beyond N", func(t *Tables) { t.Pos[0] = uint32(t.N) }},
		{"label 7", func(t *Tables) { t.Labels[5] = 7 }},
		{"cluster tables short", func(t *Tables) { t.Start = t.Start[:t.K] }},
		{"empty cluster", func(t *Tables) { t.Start[1] = t.Start[0] }},
		{"nonzero padding", func(t *Tables) {
			// The last entry of a cluster whose size is not a multiple
			// of Group is padding (200 is not a multiple of Group, so
			// such a cluster exists).
			c := 0
			for t.Start[c+1]-t.Start[c] == t.PadStart[c+1]-t.PadStart[c] {
				c++
			}
			t.Vecs[int(t.PadStart[c+1])*vector.Dims-1] = 3
		}},
		{"vectors truncated", func(t *Tables) { t.Vecs = t.Vecs[:len(t.Vecs)-1] }},
		{"member outside its leaf", func(t *Tables) {
			lp := int(t.LeafStart[1])
			t.LeafBoxes[(vector.Dims+2)*lp] = t.LeafBoxes[2*lp] - 1
		}},
		{"leaf table short", func(t *Tables) { t.LeafBoxes = t.LeafBoxes[:len(t.LeafBoxes)-1] }},
		{"no vectors", func(t *Tables) { t.N = 0 }},
		{"more clusters than vectors", func(t *Tables) { t.K = t.N + 1 }},
	}
	good, err := Build(vecs, labels, assign, 8)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(good.Tables()); err != nil {
		t.Fatalf("New refuses the tables of a good index: %v", err)
	}
	for _, c := range damage {
		tables := clone(good.Tables())
		c.f(&tables)
		if _, err := New(tables); err == nil {
			t.Errorf("%s: New accepted it", c.name)
		}
	}
}

// clone returns a deep copy of t.
func clone(t Tables) Tables {
	t.Vecs, t.Start, t.PadStart = slices.Clone(t.Vecs), slices.Clone(t.Start), slices.Clone(t.PadStart)
	t.Labels, t.Pos, t.Centroids = slices.Clone(t.Labels), slices.Clone(t.Pos), slices.Clone(t.Centroids)
	t.BoxMin, t.BoxMax = slices.Clone(t.BoxMin), slices.Clone(t.BoxMax)
	t.LeafStart, t.LeafBoxes = slices.Clone(t.LeafStart), slices.Clone(t.LeafBoxes)
	t.RegionCentroids, t.RegionMin, t.RegionMax = slices.Clone(t.RegionCentroids), slices.Clone(t.RegionMin), slices.Clone(t.RegionMax)
	return t
}

func TestSearchAllocatesNothing(t *testing.T) {
	rng := testenv.Rand(t, 5)
	vecs, labels := synth(rng, 2000, false)
	ix, err := Build(vecs, labels, assignment(rng, vecs, 2000, 32, "random"), 32)
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
	rng := testenv.Rand(t, 7)
	vecs, labels := synth(rng, 300, false)
	ix, err := Build(vecs, labels, assignment(rng, vecs, 300, 16, "random"), 16)
	if err != nil {
		t.Fatal(err)
	}
	v2, l2 := ix.Original()
	if !slices.Equal(v2, vecs) || !slices.Equal(l2, labels) {
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
	vecs := make([]int16, n*vector.Dims)
	for p := 0; p < n; p++ {
		if p < n/2 {
			vecs[p*vector.Dims+0] = 1
		} else {
			vecs[p*vector.Dims+1] = 1
		}
	}
	ix, err := Build(vecs, make([]uint8, n), make([]uint32, n), 1)
	if err != nil {
		t.Fatal(err)
	}
	if ix.t.Pos[0] < n/2 {
		t.Fatalf("test set-up: the first leaf starts with position %d; want a later position", ix.t.Pos[0])
	}
	var q [vector.Dims]int16
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
