package knn

import (
	"math/rand/v2"
	"testing"
)

func benchBlock(n int) (q [Dims]int16, block []int16, dst []uint32) {
	rng := rand.New(rand.NewPCG(1, 1))
	stride := padded(n)
	block = make([]int16, stride*Dims)
	for d := 0; d < Dims; d++ {
		for j := 0; j < n; j++ {
			block[d*stride+j] = randCoord(rng, d, false)
		}
		q[d] = randCoord(rng, d, false)
	}
	return q, block, make([]uint32, n)
}

func BenchmarkDistBlock(b *testing.B) {
	q, block, dst := benchBlock(733)
	b.ReportAllocs()
	b.SetBytes(int64(len(dst) * Dims * 2))
	for b.Loop() {
		distBlock(&q, block, padded(733), dst)
	}
}

func BenchmarkBoxBounds(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	const k = 4096
	lo, hi := make([]int16, k*Dims), make([]int16, k*Dims)
	var q [Dims]int16
	for d := 0; d < Dims; d++ {
		for c := 0; c < k; c++ {
			a, z := randCoord(rng, d, false), randCoord(rng, d, false)
			lo[d*k+c], hi[d*k+c] = min(a, z), max(a, z)
		}
		q[d] = randCoord(rng, d, false)
	}
	dst := make([]uint32, k)
	b.ReportAllocs()
	for b.Loop() {
		boxBounds(&q, lo, hi, k, dst)
	}
}

func BenchmarkCentroidDists(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	const k = 4096
	cent := make([]float32, k*Dims)
	var q [Dims]float32
	for i := range cent {
		cent[i] = float32(rng.IntN(MaxValue))
	}
	dst := make([]float32, k)
	b.ReportAllocs()
	for b.Loop() {
		centroidDists(&q, cent, k, dst)
	}
}
