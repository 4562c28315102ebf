// Package kdsplit partitions fixed-point vectors into compact groups by
// recursive median cuts (a balanced k-d tree), deterministically.
package kdsplit

import (
	"sync"

	"fraudknn/vector"
)

// Split partitions the n vectors given row-major into k groups of sizes
// differing by at most one, by recursive median splits along the
// coordinate of largest variance, and writes each vector's group (< k) to
// assign. Ties in a coordinate are broken by index, so the result is
// deterministic; workers bounds the goroutines used.
func Split(vecs []int16, k, workers int, assign []uint32) {
	n := len(vecs) / vector.Dims
	idx := make([]uint32, n)
	for i := range idx {
		idx[i] = uint32(i)
	}
	keys := make([]uint64, n)
	sem := make(chan struct{}, max(workers, 1)-1) // extra goroutines allowed
	var wg sync.WaitGroup
	split(vecs, idx, keys, k, equalHalves, sem, &wg, func(leaf int, members []uint32) {
		for _, p := range members {
			assign[p] = uint32(leaf)
		}
	})
	wg.Wait()
}

// Leaves reorders idx, indices of vectors given row-major, so that every
// run of leaf consecutive entries (the last run shorter) is a compact
// group: the leaves of a k-d tree whose cuts fall on multiples of leaf.
func Leaves(vecs []int16, idx []uint32, leaf int) {
	n := len(idx)
	leaves := (n + leaf - 1) / leaf
	keys := make([]uint64, n)
	var wg sync.WaitGroup
	split(vecs, idx, keys, leaves, func(m, l int) int {
		return min(l/2*leaf, m)
	}, make(chan struct{}), &wg, func(int, []uint32) {})
}

// equalHalves gives the left part of m vectors spread over l leaves its
// share, l/2 leaves' worth, so that all leaves end up within one vector of
// the same size.
func equalHalves(m, l int) int { return int(int64(m) * int64(l/2) / int64(l)) }

// split cuts idx into leaves groups: the left part gets cut(len(idx),
// leaves) vectors and leaves/2 groups, the right part the rest; done
// receives every final group with its number.
func split(vecs []int16, idx []uint32, keys []uint64, leaves int, cut func(m, l int) int, sem chan struct{}, wg *sync.WaitGroup, done func(leaf int, members []uint32)) {
	first := 0
	for leaves > 1 {
		left := leaves / 2
		m := cut(len(idx), leaves)
		d := widest(vecs, idx)
		// Key: coordinate, then index; all keys differ, so the median
		// split is well defined even among equal coordinates.
		for i, p := range idx {
			keys[i] = uint64(uint16(int32(vecs[int(p)*vector.Dims+d])+32768))<<32 | uint64(p)
		}
		selectNth(keys, m)
		for i, key := range keys {
			idx[i] = uint32(key)
		}
		// Recurse into the left part, in a goroutine while one is free,
		// and loop on the right part.
		lidx, lkeys := idx[:m], keys[:m]
		offset := first
		sub := func(leaf int, members []uint32) { done(offset+leaf, members) }
		select {
		case sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				split(vecs, lidx, lkeys, left, cut, sem, wg, sub)
				<-sem
			}()
		default:
			split(vecs, lidx, lkeys, left, cut, sem, wg, sub)
		}
		idx, keys = idx[m:], keys[m:]
		first += left
		leaves -= left
	}
	done(first, idx)
}

// widest returns the coordinate along which the vectors idx vary most.
func widest(vecs []int16, idx []uint32) int {
	var sum, sq [vector.Dims]int64
	for _, p := range idx {
		v := vecs[int(p)*vector.Dims : int(p)*vector.Dims+vector.Dims]
		for d := range sum {
			x := int64(v[d])
			sum[d] += x
			sq[d] += x * x
		}
	}
	n := float64(len(idx))
	best, bestVar := 0, -1.0
	for d := range sum {
		mean := float64(sum[d]) / n
		if v := float64(sq[d])/n - mean*mean; v > bestVar {
			best, bestVar = d, v
		}
	}
	return best
}

// selectNth reorders keys so that keys[m] is the m-th smallest, every key
// before it smaller and every key after it larger (quickselect with a
// median-of-three pivot; keys are distinct).
func selectNth(keys []uint64, m int) {
	lo, hi := 0, len(keys)-1
	for hi-lo > 16 {
		mid := lo + (hi-lo)/2
		// Sort keys[lo], keys[mid] and keys[hi], and move the median of
		// the three to hi-1 as the pivot: keys[lo] ≤ pivot ≤ keys[hi]
		// stop both scans without bounds checks of their own.
		if keys[mid] < keys[lo] {
			keys[mid], keys[lo] = keys[lo], keys[mid]
		}
		if keys[hi] < keys[lo] {
			keys[hi], keys[lo] = keys[lo], keys[hi]
		}
		if keys[hi] < keys[mid] {
			keys[hi], keys[mid] = keys[mid], keys[hi]
		}
		keys[mid], keys[hi-1] = keys[hi-1], keys[mid]
		pivot := keys[hi-1]
		i, j := lo, hi-1
		for {
			for i++; keys[i] < pivot; i++ {
			}
			for j--; keys[j] > pivot; j-- {
			}
			if i >= j {
				break
			}
			keys[i], keys[j] = keys[j], keys[i]
		}
		keys[i], keys[hi-1] = keys[hi-1], keys[i]
		switch {
		case m < i:
			hi = i - 1
		case m > i:
			lo = i + 1
		default:
			return
		}
	}
	// Insertion sort of the small rest.
	for i := lo + 1; i <= hi; i++ {
		for j := i; j > lo && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
}
