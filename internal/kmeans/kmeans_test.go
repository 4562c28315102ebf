package kmeans

import (
	"math/rand/v2"
	"slices"
	"testing"

	"fraudknn/vector"
)

// blobs returns n vectors around a few centres, with many exact duplicates.
func blobs(n int, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([][dims]int16, 12)
	for c := range centres {
		for d := range centres[c] {
			centres[c][d] = int16(rng.IntN(vector.MaxValue + 1))
		}
	}
	vecs := make([]int16, n*dims)
	for i := 0; i < n; i++ {
		c := centres[rng.IntN(len(centres))]
		for d := 0; d < dims; d++ {
			v := int(c[d])
			if rng.IntN(2) == 0 { // half the coordinates stay on the centre
				v += rng.IntN(2001) - 1000
			}
			vecs[i*dims+d] = int16(min(max(v, 0), vector.MaxValue))
		}
		if rng.IntN(5) == 0 {
			vecs[i*dims+5], vecs[i*dims+6] = -vector.MaxValue, -vector.MaxValue
		}
	}
	return vecs
}

// TestRunConverges runs Lloyd to convergence and checks the fixed point:
// every vector belongs to its nearest centroid (the lowest numbered among
// equals), and the result does not depend on the number of workers.
func TestRunConverges(t *testing.T) {
	vecs := blobs(5000, 3)
	var first *Result
	for _, workers := range []int{1, 2, 3} {
		res, err := Run(vecs, Config{K: 40, MaxIter: 100, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if last := res.Moved[len(res.Moved)-1]; last != 0 {
			t.Fatalf("did not converge in 100 iterations (%d moved last)", last)
		}
		if first == nil {
			first = res
		} else if !slices.Equal(first.Assign, res.Assign) {
			t.Fatalf("%d workers cluster differently from 1", workers)
		}
	}
	s := newSums(40)
	s.add(vecs, first.Assign)
	cent := make([]int16, 40*dims)
	s.means(cent)
	for i := 0; i < 5000; i++ {
		v := vecs[i*dims : i*dims+dims]
		best := 0
		for c := 1; c < 40; c++ {
			if s.count[c] > 0 && dist(v, cent[c*dims:c*dims+dims]) < dist(v, cent[best*dims:best*dims+dims]) {
				best = c
			}
		}
		if got := first.Assign[i]; dist(v, cent[int(got)*dims:int(got)*dims+dims]) != dist(v, cent[best*dims:best*dims+dims]) {
			t.Fatalf("vector %d is in cluster %d, but centroid %d is nearer", i, got, best)
		}
	}
}

func TestRunWithSample(t *testing.T) {
	vecs := blobs(6000, 4)
	a, err := Run(vecs, Config{K: 30, MaxIter: 5, Sample: 1000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(vecs, Config{K: 30, MaxIter: 5, Sample: 1000, Seed: 9, Workers: 1})
	c, _ := Run(vecs, Config{K: 30, MaxIter: 5, Sample: 1000, Seed: 10})
	if len(a.Assign) != 6000 || !slices.Equal(a.Assign, b.Assign) {
		t.Fatal("same seed, different clusters")
	}
	if slices.Equal(a.Assign, c.Assign) {
		t.Fatal("the seed has no effect on the sample")
	}
	for _, x := range a.Assign {
		if x >= 30 {
			t.Fatalf("assignment %d beyond K", x)
		}
	}
}

func TestSampleDistinct(t *testing.T) {
	vecs := make([]int16, 1000*dims)
	for i := range 1000 {
		vecs[i*dims] = int16(i)
	}
	s := sample(vecs, 300, 7)
	seen := map[int16]bool{}
	for i := 0; i < 300; i++ {
		v := s[i*dims]
		if seen[v] || (i > 0 && v <= s[(i-1)*dims]) {
			t.Fatalf("sample repeats or is out of order at %d", i)
		}
		seen[v] = true
	}
}

func TestRoundDiv(t *testing.T) {
	for _, c := range []struct{ a, b, want int64 }{{5, 2, 3}, {-5, 2, -3}, {4, 3, 1}, {-4, 3, -1}, {7, 7, 1}, {0, 5, 0}, {1, 3, 0}, {2, 3, 1}} {
		if got := roundDiv(c.a, c.b); got != c.want {
			t.Errorf("roundDiv(%d, %d) = %d; want %d", c.a, c.b, got, c.want)
		}
	}
}
