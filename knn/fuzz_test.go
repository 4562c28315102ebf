package knn

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"fraudknn/vector"
)

// The fuzz targets turn arbitrary bytes into in-range inputs and compare
// every kernel set with the pure-Go one.

// coords reads in-range coordinates from b, cycling through the
// dimensions; exhausted input reads as zeros.
func coords(b []byte, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		var raw uint16
		if len(b) >= 2 {
			raw = binary.LittleEndian.Uint16(b)
			b = b[2:]
		}
		d := i % vector.Dims
		v := int16(raw % (vector.MaxValue + 1))
		if (d == 5 || d == 6) && raw >= 0xf000 {
			v = -v
		}
		out[i] = v
	}
	return out
}

func FuzzScanKernel(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint16(17), uint32(1e8))
	f.Add(make([]byte, 64), uint16(16), uint32(0))
	f.Add([]byte{0xff, 0xff, 0x10, 0x27}, uint16(1), uint32(math.MaxInt32))
	f.Fuzz(func(t *testing.T, data []byte, size uint16, bound uint32) {
		n := int(size % 200)
		stride := max(padded(n), Group)
		c := coords(data, vector.Dims+vector.Dims*stride)
		var q [vector.Dims]int16
		copy(q[:], c)
		// Columns past n hold arbitrary values too: a kernel must ignore them.
		block := c[vector.Dims:]
		bound = min(bound, math.MaxInt32)
		for _, ks := range kernelSets() {
			checkScan(t, ks, &q, block, stride, n, bound)
		}
	})
}

func FuzzBoundsKernel(f *testing.F) {
	f.Add([]byte{9, 8, 7}, uint16(33), uint32(5e7))
	f.Add(make([]byte, 100), uint16(64), uint32(0))
	f.Fuzz(func(t *testing.T, data []byte, size uint16, bound uint32) {
		k := int(size%200) + 1
		kp := (k + centroidGroup - 1) / centroidGroup * centroidGroup
		c := coords(data, vector.Dims+2*vector.Dims*kp)
		var q [vector.Dims]int16
		copy(q[:], c)
		lo, hi := c[vector.Dims:vector.Dims+vector.Dims*kp], c[vector.Dims+vector.Dims*kp:]
		for i := range lo {
			lo[i], hi[i] = min(lo[i], hi[i]), max(lo[i], hi[i])
		}
		qb, _ := fillQuery(&q)
		bound = min(bound, math.MaxInt32)
		wd, wc := make([]uint32, kp), make([]uint32, kp)
		wn := generic.bounds(qb, lo, hi, kp, k, bound, wd, wc)
		for _, ks := range kernelSets() {
			gd, gc := make([]uint32, kp), make([]uint32, kp)
			gn := ks.bounds(qb, lo, hi, kp, k, bound, gd, gc)
			if !slices.Equal(wd[:k], gd[:k]) || !slices.Equal(wc[:wn], gc[:gn]) {
				t.Fatalf("%s bounds k=%d bound=%d differ from the Go kernel", ks.name, k, bound)
			}
		}
	})
}

func FuzzCentroidKernel(f *testing.F) {
	f.Add([]byte{5, 5, 5, 5})
	f.Fuzz(func(t *testing.T, data []byte) {
		const kp = centroidGroup
		c := coords(data, vector.Dims+vector.Dims*kp)
		var q [vector.Dims]int16
		copy(q[:], c)
		cent := make([]float32, vector.Dims*kp)
		for i := range cent {
			cent[i] = float32(c[vector.Dims+i])
		}
		_, qf := fillQuery(&q)
		want := make([]float32, kp)
		generic.centroids(qf, cent, kp, want)
		for _, ks := range kernelSets() {
			got := make([]float32, kp)
			ks.centroids(qf, cent, kp, got)
			for i := range want {
				// Integer-valued inputs: every term and sum below 2²⁴ is
				// exact in both; above, see TestCentroidKernels' bound.
				if math.Abs(float64(got[i]-want[i])) > 2e-6*float64(want[i]) {
					t.Fatalf("%s centroid %d: %v; want %v", ks.name, i, got[i], want[i])
				}
			}
		}
	})
}

func FuzzNearestTwoKernel(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 2
		if n == 0 {
			return
		}
		dist := make([]float32, (n+7)/8*8)[:n]
		for i := range dist {
			dist[i] = float32(binary.LittleEndian.Uint16(data[2*i:])) // small range: ties
		}
		w1, w2 := nearestTwo(dist)
		for _, ks := range kernelSets() {
			if g1, g2 := ks.nearest2(dist); g1 != w1 || g2 != w2 {
				t.Fatalf("%s: %d, %d; want %d, %d", ks.name, g1, g2, w1, w2)
			}
		}
	})
}
