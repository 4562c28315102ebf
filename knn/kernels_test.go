package knn

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"fraudknn/internal/testenv"
	"fraudknn/vector"
)

// The kernel tests run every kernel set this machine supports against the
// pure-Go one, which is the oracle.

// TestKernelChoice checks the kernel set searches use: the fastest this
// build runs here (the last of kernelSets), and, when
// FRAUDKNN_EXPECT_KERNELS names one (make test-arm64 sets neon), that one,
// so that a run meant to test the assembly cannot pass on the pure-Go
// fallback.
func TestKernelChoice(t *testing.T) {
	sets := kernelSets()
	if best := sets[len(sets)-1]; kernels != best {
		t.Errorf("searches use the %q kernels; want %q, the fastest this build runs here", Kernel(), best.name)
	}
	want := os.Getenv("FRAUDKNN_EXPECT_KERNELS")
	if want == "" {
		t.Logf("kernels: %s (set FRAUDKNN_EXPECT_KERNELS to require one)", Kernel())
		return
	}
	if Kernel() != want {
		t.Fatalf("searches use the %q kernels; FRAUDKNN_EXPECT_KERNELS requires %q", Kernel(), want)
	}
}

func fillQuery(q *[vector.Dims]int16) (*queryBlock, *queryFloats) {
	qb, qf := new(queryBlock), new(queryFloats)
	for d, v := range q {
		for i := range qb[d] {
			qb[d][i] = v
		}
		for i := range qf[d] {
			qf[d][i] = float32(v)
		}
	}
	return qb, qf
}

// extreme returns a coordinate at an end of its range, or a random one.
func extreme(rng *rand.Rand, d int) int16 {
	switch rng.IntN(4) {
	case 0:
		if d == 5 || d == 6 {
			return -vector.MaxValue
		}
		return 0
	case 1:
		return vector.MaxValue
	}
	return randCoord(rng, d, false)
}

// block returns a cluster block of n members with the given stride, sliced
// off at an odd offset of a larger buffer, so that loads are unaligned.
func testBlock(rng *rand.Rand, n, stride int, coord func(d int) int16) []int16 {
	buf := make([]int16, vector.Dims*stride+7)
	off := rng.IntN(7)
	block := buf[off : off+vector.Dims*stride]
	for d := 0; d < vector.Dims; d++ {
		for j := 0; j < n; j++ {
			block[d*stride+j] = coord(d)
		}
	}
	return block
}

func TestScanKernels(t *testing.T) {
	rng := testenv.Rand(t, 21)
	sizes := []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 733}
	for _, ks := range kernelSets() {
		for _, n := range sizes {
			for trial := 0; trial < 20; trial++ {
				stride := padded(n) + Group*rng.IntN(2)
				if stride == 0 {
					stride = Group
				}
				coord := func(d int) int16 { return extreme(rng, d) }
				block := testBlock(rng, n, stride, coord)
				var q [vector.Dims]int16
				for d := range q {
					q[d] = extreme(rng, d)
				}
				bounds := []uint32{0, math.MaxInt32, uint32(rng.IntN(2e9)), 1e8}
				if n > 0 { // a bound equal to a member's distance: "≤" must keep it
					j := rng.IntN(n)
					var d int64
					for i := 0; i < vector.Dims; i++ {
						x := int64(q[i]) - int64(block[i*stride+j])
						d += x * x
					}
					bounds = append(bounds, uint32(d), uint32(d)-1)
				}
				for _, bound := range bounds {
					checkScan(t, ks, &q, block, stride, n, bound)
				}
			}
		}
	}
}

func checkScan(t *testing.T, ks *kernelSet, q *[vector.Dims]int16, block []int16, stride, n int, bound uint32) {
	t.Helper()
	qb, _ := fillQuery(q)
	wantDist, wantCand := make([]uint32, stride), make([]uint32, stride)
	gotDist, gotCand := make([]uint32, stride), make([]uint32, stride)
	wn := generic.scan(qb, block, stride, n, bound, wantDist, wantCand)
	gn := ks.scan(qb, block, stride, n, bound, gotDist, gotCand)
	// Only the candidates' distances are defined: a kernel may leave a
	// group early once no member of it can pass.
	same := slices.Equal(wantCand[:wn], gotCand[:gn])
	for _, j := range wantCand[:wn] {
		same = same && gotDist[j] == wantDist[j]
	}
	if !same {
		t.Fatalf("%s scan n=%d stride=%d bound=%d q=%v:\n got dist %v cand %v\nwant dist %v cand %v",
			ks.name, n, stride, bound, q, gotDist[:n], gotCand[:gn], wantDist[:n], wantCand[:wn])
	}
	// An independent check of the oracle: the plain formula.
	for j := 0; j < n; j++ {
		var s int64
		for d := 0; d < vector.Dims; d++ {
			x := int64(q[d]) - int64(block[d*stride+j])
			s += x * x
		}
		if uint32(s) != wantDist[j] {
			t.Fatalf("generic scan: member %d distance %d; want %d", j, wantDist[j], s)
		}
	}
}

// TestScanLargestDistance puts the query and the members at opposite ends
// of every range: the largest distance the contract allows, 2.0·10⁹.
func TestScanLargestDistance(t *testing.T) {
	var q [vector.Dims]int16
	q[5], q[6] = -vector.MaxValue, -vector.MaxValue
	block := make([]int16, vector.Dims*Group)
	for d := 0; d < vector.Dims; d++ {
		for j := 0; j < Group; j++ {
			block[d*Group+j] = vector.MaxValue
		}
	}
	qb, _ := fillQuery(&q)
	for _, ks := range kernelSets() {
		dist, cand := make([]uint32, Group), make([]uint32, Group)
		n := ks.scan(qb, block, Group, 9, math.MaxInt32, dist, cand)
		if n != 9 || dist[0] != 2_000_000_000 || dist[8] != 2_000_000_000 {
			t.Fatalf("%s: %d candidates, distances %v; want 9 at 2000000000", ks.name, n, dist[:9])
		}
	}
}

// TestScanEarlyExit builds groups in which every member but one is over
// the bound after the first pairs of dimensions, so that a kernel which
// leaves a group early must still keep the one member whose distance
// builds up only in the last dimensions, equal to the bound, and must not
// keep a member whose partial sums stay under the bound until the last
// pair pushes it over.
func TestScanEarlyExit(t *testing.T) {
	const bound = 4 * 5000 * 5000
	var q [vector.Dims]int16 // all zeros
	for _, late := range []int{0, 7, 15} {
		block := make([]int16, vector.Dims*Group*2)
		const stride = 2 * Group
		for j := 0; j < 2*Group; j++ {
			block[0*stride+j], block[1*stride+j] = vector.MaxValue, vector.MaxValue // over the bound after the first pair
		}
		// Member late of the first group: nothing in the first ten
		// dimensions, then 5000 in the last four: exactly the bound.
		// Member late of the second group: one more in dimension 13, over
		// the bound only in the last pair.
		for d := 10; d < vector.Dims; d++ {
			block[d*stride+late] = 5000
			block[d*stride+Group+late] = 5000
		}
		for _, j := range []int{late, Group + late} {
			block[0*stride+j], block[1*stride+j] = 0, 0
		}
		block[13*stride+Group+late] = 5001
		for _, ks := range kernelSets() {
			qb, _ := fillQuery(&q)
			dist, cand := make([]uint32, stride), make([]uint32, stride)
			n := ks.scan(qb, block, stride, 2*Group, bound, dist, cand)
			if n != 1 || cand[0] != uint32(late) || dist[late] != bound {
				t.Errorf("%s, member %d: candidates %v (distances %v); want only %d at %d",
					ks.name, late, cand[:n], dist, late, bound)
			}
		}
	}
}

func TestBoundsKernels(t *testing.T) {
	rng := testenv.Rand(t, 23)
	for _, ks := range kernelSets() {
		for _, k := range []int{1, 7, 15, 16, 17, 63, 64, 65, 200} {
			for trial := 0; trial < 20; trial++ {
				kp := (k + centroidGroup - 1) / centroidGroup * centroidGroup
				lo, hi := make([]int16, vector.Dims*kp), make([]int16, vector.Dims*kp)
				for d := 0; d < vector.Dims; d++ {
					for c := 0; c < k; c++ {
						a, b := extreme(rng, d), extreme(rng, d)
						if d == 5 && rng.IntN(2) == 0 {
							a = -vector.MaxValue
						}
						lo[d*kp+c], hi[d*kp+c] = min(a, b), max(a, b)
					}
				}
				var q [vector.Dims]int16
				for d := range q {
					q[d] = extreme(rng, d)
				}
				qb, _ := fillQuery(&q)
				for _, bound := range []uint32{0, math.MaxInt32, uint32(rng.IntN(1e9))} {
					wd, wc := make([]uint32, kp), make([]uint32, kp)
					gd, gc := make([]uint32, kp), make([]uint32, kp)
					wn := generic.bounds(qb, lo, hi, kp, k, bound, wd, wc)
					gn := ks.bounds(qb, lo, hi, kp, k, bound, gd, gc)
					if !slices.Equal(wd[:k], gd[:k]) || !slices.Equal(wc[:wn], gc[:gn]) {
						t.Fatalf("%s bounds k=%d bound=%d:\n got %v %v\nwant %v %v", ks.name, k, bound, gd[:k], gc[:gn], wd[:k], wc[:wn])
					}
				}
			}
		}
	}
}

// TestCentroidKernels compares float32 distances. The FMA kernel rounds
// once per step where the Go kernel rounds twice; each of the 14 steps adds
// a relative error of at most 2⁻²⁴ to a sum of non-negative terms, so the
// two differ by well under 14·2⁻²³ ≈ 1.7·10⁻⁶ of the distance.
func TestCentroidKernels(t *testing.T) {
	rng := testenv.Rand(t, 25)
	for _, ks := range kernelSets() {
		for _, kp := range []int{64, 128, 4096} {
			cent := make([]float32, vector.Dims*kp)
			for d := 0; d < vector.Dims; d++ {
				for c := 0; c < kp; c++ {
					cent[d*kp+c] = float32(extreme(rng, d)) + rng.Float32()
				}
			}
			var q [vector.Dims]int16
			for d := range q {
				q[d] = extreme(rng, d)
			}
			_, qf := fillQuery(&q)
			want, got := make([]float32, kp), make([]float32, kp)
			generic.centroids(qf, cent, kp, want)
			ks.centroids(qf, cent, kp, got)
			for c := range want {
				if diff := math.Abs(float64(got[c] - want[c])); diff > 2e-6*float64(want[c])+1e-3 {
					t.Fatalf("%s centroid %d of %d: %v; want %v", ks.name, c, kp, got[c], want[c])
				}
			}
		}
	}
}

// TestSearchEveryKernel runs the search with every kernel set against
// brute force.
func TestSearchEveryKernel(t *testing.T) {
	rng := testenv.Rand(t, 27)
	vecs, labels := synth(rng, 3000, false)
	ix, err := Build(vecs, labels, assignment(rng, vecs, 3000, 40, "by-coordinate"), 40)
	if err != nil {
		t.Fatal(err)
	}
	for _, ks := range kernelSets() {
		s := newSearcher(ix, 5, ks)
		var got, want Result
		for i := 0; i < 300; i++ {
			q := randQuery(rng, vecs, false)
			s.Search(&q, &got)
			BruteForce(vecs, labels, &q, 5, &want)
			if !slices.Equal(got.List(), want.List()) {
				t.Fatalf("%s: query %v: %v; want %v", ks.name, q, got.List(), want.List())
			}
		}
	}
}

func TestNearestTwoKernels(t *testing.T) {
	rng := testenv.Rand(t, 29)
	for _, ks := range kernelSets() {
		for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 100, 4096} {
			for trial := 0; trial < 50; trial++ {
				dist := make([]float32, (n+7)/8*8)[:n]
				for i := range dist {
					switch rng.IntN(3) {
					case 0:
						dist[i] = float32(rng.IntN(4)) // many exact ties
					default:
						dist[i] = rng.Float32() * 1e9
					}
				}
				w1, w2 := nearestTwo(dist)
				g1, g2 := ks.nearest2(dist)
				if w1 != g1 || w2 != g2 {
					t.Fatalf("%s n=%d: %d, %d; want %d, %d (%v)", ks.name, n, g1, g2, w1, w2, dist)
				}
			}
		}
	}
}

// TestPrefetchKernels runs every prefetch over what the search can hand
// it: empty, short, odd-length and unaligned slices, and one that ends at
// the end of its backing array. A prefetch changes nothing a test could
// see; what can go wrong is the wrapper, which must not index an empty
// slice, and the assembly, which must not fault at the end of a slice.
func TestPrefetchKernels(t *testing.T) {
	buf := make([]int16, 4099)
	for _, ks := range kernelSets() {
		for _, n := range []int{0, 1, 31, 32, 33, 64, 4096} {
			for _, off := range []int{0, 1, 3} {
				ks.prefetch(buf[off : off+n])
			}
		}
		ks.prefetch(buf[len(buf)-1:])
		ks.prefetch(buf[len(buf):])
		ks.prefetch(nil)
	}
}
