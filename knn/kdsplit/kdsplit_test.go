package kdsplit

import (
	"math/rand/v2"
	"slices"
	"testing"

	"fraudknn/internal/testenv"
	"fraudknn/vector"
)

// blobs returns n random vectors around a few centres.
func blobs(n int, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	vecs := make([]int16, n*vector.Dims)
	for i := range vecs {
		vecs[i] = int16(rng.IntN(4) * 2500)
		if rng.IntN(2) == 0 {
			vecs[i] += int16(rng.IntN(100))
		}
	}
	return vecs
}

func TestSelectNth(t *testing.T) {
	rng := testenv.Rand(t, 1)
	for _, n := range []int{1, 2, 3, 17, 18, 100, 1000} {
		for trial := 0; trial < 20; trial++ {
			keys := make([]uint64, n)
			for i := range keys {
				keys[i] = uint64(rng.IntN(n*4))<<32 | uint64(i)
			}
			sorted := slices.Clone(keys)
			slices.Sort(sorted)
			m := rng.IntN(n)
			selectNth(keys, m)
			if keys[m] != sorted[m] {
				t.Fatalf("n=%d m=%d: keys[m] = %x; want %x", n, m, keys[m], sorted[m])
			}
			for i := range keys {
				if (i < m && keys[i] > keys[m]) || (i > m && keys[i] < keys[m]) {
					t.Fatalf("n=%d m=%d: key %d on the wrong side", n, m, i)
				}
			}
		}
	}
}

func TestSplitBalancedAndDeterministic(t *testing.T) {
	vecs := blobs(10007, 2)
	for _, k := range []int{1, 2, 3, 64, 100, 10007} {
		var first []uint32
		for _, workers := range []int{1, 2, 5} {
			assign := make([]uint32, 10007)
			Split(vecs, k, workers, assign)
			size := make([]int, k)
			for _, c := range assign {
				size[c]++
			}
			lo, hi := slices.Min(size), slices.Max(size)
			if hi-lo > 1 {
				t.Fatalf("k=%d: group sizes range %d..%d; want within one", k, lo, hi)
			}
			if first == nil {
				first = assign
			} else if !slices.Equal(first, assign) {
				t.Fatalf("k=%d: %d workers split differently from 1", k, workers)
			}
		}
	}
}

func TestLeaves(t *testing.T) {
	vecs := blobs(1000, 3)
	for _, n := range []int{1, 63, 64, 65, 200, 1000} {
		idx := make([]uint32, n)
		for i := range idx {
			idx[i] = uint32(i * 1000 / n)
		}
		orig := slices.Clone(idx)
		Leaves(vecs, idx, 64)
		sorted := slices.Clone(idx)
		slices.Sort(sorted)
		slices.Sort(orig)
		if !slices.Equal(sorted, orig) {
			t.Fatalf("n=%d: Leaves lost or duplicated entries", n)
		}
		// Leaves are tighter than arbitrary runs: the sum of the leaves'
		// box volumes (in log terms, their side lengths) is no larger than
		// that of the same runs in the original order.
		if n >= 128 && spread(vecs, idx, 64) > spread(vecs, orig, 64) {
			t.Fatalf("n=%d: leaves are wider than the unordered runs", n)
		}
	}
}

// spread sums, over runs of leaf entries, the side lengths of their boxes.
func spread(vecs []int16, idx []uint32, leaf int) int64 {
	var s int64
	for lo := 0; lo < len(idx); lo += leaf {
		run := idx[lo:min(lo+leaf, len(idx))]
		for d := 0; d < vector.Dims; d++ {
			a, b := int16(32767), int16(-32768)
			for _, p := range run {
				a, b = min(a, vecs[int(p)*vector.Dims+d]), max(b, vecs[int(p)*vector.Dims+d])
			}
			s += int64(b) - int64(a)
		}
	}
	return s
}
