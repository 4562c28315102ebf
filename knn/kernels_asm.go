//go:build gc && !purego && (amd64 || arm64)

package knn

import "fraudknn/vector"

// asm is this architecture's assembly kernel set: kernels_amd64.go and
// kernels_arm64.go give its name, whether this CPU runs it, and the
// kernels themselves under the names the wrappers below call.
var asm = kernelSet{
	name:      asmName,
	scan:      scanAsm,
	bounds:    boundsAsm,
	centroids: centroidsAsm,
	nearest2:  nearestTwoAsmChecked,
	prefetch:  prefetchAsmChecked,
}

// kernels is the kernel set searches use, chosen once at start-up.
var kernels = func() *kernelSet {
	if hasAsm {
		return &asm
	}
	return &generic
}()

// kernelSets lists every kernel set this build can run here.
func kernelSets() []*kernelSet {
	if hasAsm {
		return []*kernelSet{&generic, &asm}
	}
	return []*kernelSet{&generic}
}

// The wrappers check what the assembly trusts, the same on every
// architecture: every load and store stays inside the slices it was given.

func scanAsm(qb *queryBlock, block []int16, stride, n int, bound uint32, dist, cand []uint32) int {
	if n == 0 {
		return 0
	}
	if n > stride || len(block) < (vector.Dims-1)*stride+padded(n) || len(dist) < padded(n) || len(cand) < padded(n) {
		panic("knn: BUG: the " + asmName + " scan kernel called with slices too short for the block")
	}
	return scanBlockAsm((*[vector.Dims][Group]int16)(qb), &block[0], stride, n, bound, &dist[0], &cand[0])
}

func boundsAsm(qb *queryBlock, lo, hi []int16, kp, k int, bound uint32, dst, cand []uint32) int {
	if k == 0 {
		return 0
	}
	if kp%Group != 0 || k > kp || len(lo) < vector.Dims*kp || len(hi) < vector.Dims*kp || len(dst) < kp || len(cand) < kp {
		panic("knn: BUG: the " + asmName + " bounds kernel called with slices too short for the boxes")
	}
	return boxBoundsAsm((*[vector.Dims][Group]int16)(qb), &lo[0], &hi[0], kp, k, bound, &dst[0], &cand[0])
}

func centroidsAsm(qf *queryFloats, cent []float32, kp int, dst []float32) {
	if kp == 0 {
		return
	}
	if kp%centroidGroup != 0 || len(cent) < vector.Dims*kp || len(dst) < kp {
		panic("knn: BUG: the " + asmName + " centroid kernel called with slices too short for the centroids")
	}
	centroidDistsAsm((*[vector.Dims][8]float32)(qf), &cent[0], kp, &dst[0])
}

func nearestTwoAsmChecked(dist []float32) (int, int) {
	if len(dist) == 0 {
		return -1, -1
	}
	if cap(dist) < (len(dist)+7)/8*8 {
		panic("knn: BUG: the " + asmName + " nearest-two kernel called with a slice whose capacity is not padded to 8")
	}
	return nearestTwoAsm(&dist[0], len(dist))
}

func prefetchAsmChecked(block []int16) {
	if len(block) > 0 {
		prefetchAsm(&block[0], 2*len(block))
	}
}
