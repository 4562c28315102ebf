// Command asm generates the AVX2 kernels of package knn with avo. Run it
// through go generate; the output is committed:
//
//	go -C asm generate ./...
//
// Each kernel works on a whole block per call (one query against a
// cluster, or against all boxes or all centroids) and has a pure-Go twin in
// knn/kernels_generic.go that documents its contract and is its test oracle.
package main

//go:generate go run . -out ../knn/kernels_amd64.s -stubs ../knn/kernels_stub_amd64.go -pkg knn

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"fraudknn/vector"
)

// group is the number of int16 lanes of a 256-bit register.
const group = 16

func main() {
	ConstraintExpr("gc,!purego")
	scanBlock()
	boxBounds()
	centroidDists()
	nearestTwo()
	prefetch()
	Generate()
}

// squaredDistances16 computes, for 16 consecutive columns of a set of 14
// int16 rows (rows[d] addresses column 0 of row d), the exact squared
// distance Σ_d (row_d − q_d)² to the query broadcast in qb (qb.Offset(32·d)
// holds q_d 16 times), via diff(d) which leaves row_d − q_d in a register.
// It returns two registers of 8 int32 distances: columns 0–7 and 8–15.
//
// Exactness: every value is in [−10000, 10000], so a difference fits int16
// (|diff| ≤ 20000), VPMADDWD of a pair of differences is at most
// 2·20000² = 8·10⁸, and the sum of 7 pairs is at most 2.0·10⁹ < 2³¹: no
// step wraps or saturates.
//
// If partial is not nil, it is called after each pair of rows but the
// last with the two accumulators, which hold partial sums of the
// distances (every term is a square, so a partial sum never exceeds the
// distance).
func squaredDistances16(diff func(d int) VecVirtual, partial func(accLo, accHi VecVirtual)) (VecVirtual, VecVirtual) {
	// VPUNPCK interleaves within each 128-bit half, so accLo gathers
	// columns 0–3 and 8–11, accHi columns 4–7 and 12–15.
	accLo, accHi := YMM(), YMM()
	VPXOR(accLo, accLo, accLo)
	VPXOR(accHi, accHi, accHi)
	for d := 0; d < vector.Dims; d += 2 {
		a, b := diff(d), diff(d+1)
		lo, hi := YMM(), YMM()
		VPUNPCKLWD(b, a, lo) // a0 b0 a1 b1 … per half
		VPUNPCKHWD(b, a, hi)
		VPMADDWD(lo, lo, lo) // a_j² + b_j², int32
		VPMADDWD(hi, hi, hi)
		VPADDD(lo, accLo, accLo)
		VPADDD(hi, accHi, accHi)
		if partial != nil && d+2 < vector.Dims {
			partial(accLo, accHi)
		}
	}
	first, second := YMM(), YMM()
	VPERM2I128(U8(0x20), accHi, accLo, first)  // columns 0–3, 4–7
	VPERM2I128(U8(0x31), accHi, accLo, second) // columns 8–11, 12–15
	return first, second
}

// passMask sets mask to a 16-bit mask of the columns whose distance is ≤
// bound (bound ≤ 2³¹−1, distances too, so the signed compare is exact).
func passMask(first, second, bound VecVirtual, mask GPVirtual) {
	gt1, gt2 := YMM(), YMM()
	VPCMPGTD(bound, first, gt1) // distance > bound
	VPCMPGTD(bound, second, gt2)
	hi := GP32()
	VMOVMSKPS(gt1, mask.As32())
	VMOVMSKPS(gt2, hi)
	SHLL(U8(8), hi)
	ORL(hi, mask.As32())
	NOTL(mask.As32())
	ANDL(U32(0xffff), mask.As32())
}

// limitMask clears the bits of mask for columns at or past n, where
// column 0 of this step is column j < n of the block. BZHI keeps the low
// n−j bits; it reads only the low 8 bits of its count, so the count is
// clamped to 16 first.
func limitMask(mask GPVirtual, j, n Register) {
	left, full := GP64(), GP64()
	MOVQ(n, left)
	SUBQ(j, left)
	MOVQ(U32(group), full)
	CMPQ(left, full)
	CMOVQGT(full, left)
	BZHIQ(left, mask, mask)
}

// broadcastParam loads the uint32 argument name into all 8 lanes of a
// register.
func broadcastParam(name string) VecVirtual {
	x, y := XMM(), YMM()
	VMOVD(Load(Param(name), GP32()), x)
	VPBROADCASTD(x, y)
	return y
}

// appendIndices stores j + bit for every set bit of mask to cand[count],
// count++.
func appendIndices(name string, mask GPVirtual, j, cand, count Register) {
	Label(name + "_bits")
	TESTQ(mask, mask)
	JZ(LabelRef(name + "_bits_done"))
	bit := GP64()
	BSFQ(mask, bit)
	ADDQ(j, bit)
	MOVL(bit.As32(), Mem{Base: cand, Index: count, Scale: 4})
	INCQ(count)
	lower := GP64()
	LEAQ(Mem{Base: mask, Disp: -1}, lower)
	ANDQ(lower, mask)
	JMP(LabelRef(name + "_bits"))
	Label(name + "_bits_done")
}

func scanBlock() {
	TEXT("scanBlockAVX2", NOSPLIT, "func(qb *[14][16]int16, block *int16, stride int, n int, bound uint32, dist *uint32, cand *uint32) int")
	Pragma("noescape")
	Doc("scanBlockAVX2 is scanGeneric in AVX2: see kernelSet.scan.",
		"n > 0; block holds 14 rows stride int16 apart, the last with room for n rounded up to 16;",
		"dist and cand have room for n rounded up to 16.")
	qb := Mem{Base: Load(Param("qb"), GP64())}
	block := Load(Param("block"), GP64())
	stride := Load(Param("stride"), GP64())
	n := Load(Param("n"), GP64())
	dist := Load(Param("dist"), GP64())
	cand := Load(Param("cand"), GP64())
	bound := broadcastParam("bound")

	rowBytes := GP64() // bytes between two rows
	MOVQ(stride, rowBytes)
	SHLQ(U8(1), rowBytes)
	count, j := GP64(), GP64()
	XORQ(count, count)
	XORQ(j, j)

	Label("scan_loop")
	// Column j of row d is at block + 2j + d·rowBytes. row walks the rows.
	row := GP64()
	LEAQ(Mem{Base: block, Index: j, Scale: 2}, row)
	first, second := squaredDistances16(func(d int) VecVirtual {
		v := YMM()
		if d > 0 {
			ADDQ(rowBytes, row)
		}
		VMOVDQU(Mem{Base: row}, v)
		VPSUBW(qb.Offset(32*d), v, v)
		return v
	}, func(accLo, accHi VecVirtual) {
		// Once every one of the 16 partial sums exceeds the bound, no
		// column of the group is a candidate: skip its other rows.
		least, gt := YMM(), YMM()
		VPMINSD(accLo, accHi, least)
		VPCMPGTD(bound, least, gt) // partial sum > bound, all 8 lanes?
		lanes := GP32()
		VMOVMSKPS(gt, lanes)
		CMPL(lanes, U8(0xff))
		JE(LabelRef("scan_next"))
	})
	VMOVDQU(first, Mem{Base: dist, Index: j, Scale: 4})
	VMOVDQU(second, Mem{Base: dist, Index: j, Scale: 4, Disp: 32})
	mask := GP64()
	passMask(first, second, bound, mask)
	limitMask(mask, j, n)
	appendIndices("scan", mask, j, cand, count)
	Label("scan_next")
	ADDQ(U8(group), j)
	CMPQ(j, n)
	JB(LabelRef("scan_loop"))

	VZEROUPPER()
	Store(count, ReturnIndex(0))
	RET()
}

func boxBounds() {
	TEXT("boxBoundsAVX2", NOSPLIT, "func(qb *[14][16]int16, lo *int16, hi *int16, kp int, k int, bound uint32, dst *uint32, cand *uint32) int")
	Pragma("noescape")
	Doc("boxBoundsAVX2 is boundsGeneric in AVX2: see kernelSet.bounds.",
		"0 < k ≤ kp, kp a multiple of 16; lo and hi hold 14 rows of kp int16;",
		"dst and cand have room for kp entries. Only dst[:k] is defined.")
	qb := Mem{Base: Load(Param("qb"), GP64())}
	lo := Load(Param("lo"), GP64())
	hi := Load(Param("hi"), GP64())
	kp := Load(Param("kp"), GP64())
	k := Load(Param("k"), GP64())
	dst := Load(Param("dst"), GP64())
	cand := Load(Param("cand"), GP64())
	bound := broadcastParam("bound")

	rowBytes := GP64()
	MOVQ(kp, rowBytes)
	SHLQ(U8(1), rowBytes)
	count, c := GP64(), GP64()
	XORQ(count, count)
	XORQ(c, c)

	Label("box_loop")
	lrow, hrow := GP64(), GP64()
	LEAQ(Mem{Base: lo, Index: c, Scale: 2}, lrow)
	LEAQ(Mem{Base: hi, Index: c, Scale: 2}, hrow)
	first, second := squaredDistances16(func(d int) VecVirtual {
		if d > 0 {
			ADDQ(rowBytes, lrow)
			ADDQ(rowBytes, hrow)
		}
		// The gap to [lo, hi] is max(lo, q) − min(hi, q): lo − q below
		// the box, q − hi above it, 0 inside (lo ≤ hi).
		q, a, b := YMM(), YMM(), YMM()
		VMOVDQU(qb.Offset(32*d), q)
		VPMAXSW(Mem{Base: lrow}, q, a)
		VPMINSW(Mem{Base: hrow}, q, b)
		VPSUBW(b, a, a)
		return a
	}, nil)
	VMOVDQU(first, Mem{Base: dst, Index: c, Scale: 4})
	VMOVDQU(second, Mem{Base: dst, Index: c, Scale: 4, Disp: 32})
	mask := GP64()
	passMask(first, second, bound, mask)
	limitMask(mask, c, k)
	appendIndices("box", mask, c, cand, count)
	ADDQ(U8(group), c)
	CMPQ(c, k)
	JB(LabelRef("box_loop"))

	VZEROUPPER()
	Store(count, ReturnIndex(0))
	RET()
}

// centroidUnroll is how many 8-centroid groups one step handles: enough
// independent FMA chains to hide the instruction's latency.
const centroidUnroll = 8

func centroidDists() {
	TEXT("centroidDistsAVX2", NOSPLIT, "func(qf *[14][8]float32, cent *float32, kp int, dst *float32)")
	Pragma("noescape")
	Doc("centroidDistsAVX2 is centroidsGeneric in AVX2 with FMA: see kernelSet.centroids.",
		fmt.Sprintf("kp > 0 is a multiple of %d; cent holds 14 rows of kp float32.", 8*centroidUnroll))
	qf := Mem{Base: Load(Param("qf"), GP64())}
	cent := Load(Param("cent"), GP64())
	kp := Load(Param("kp"), GP64())
	dst := Load(Param("dst"), GP64())
	rowBytes := GP64()
	MOVQ(kp, rowBytes)
	SHLQ(U8(2), rowBytes)
	c := GP64()
	XORQ(c, c)

	Label("cent_loop")
	row := GP64()
	LEAQ(Mem{Base: cent, Index: c, Scale: 4}, row)
	acc := make([]VecVirtual, centroidUnroll)
	for u := range acc {
		acc[u] = YMM()
		VXORPS(acc[u], acc[u], acc[u])
	}
	for d := 0; d < vector.Dims; d++ {
		if d > 0 {
			ADDQ(rowBytes, row)
		}
		for u := range acc {
			x := YMM()
			VMOVUPS(Mem{Base: row, Disp: 32 * u}, x)
			VSUBPS(qf.Offset(32*d), x, x)
			VFMADD231PS(x, x, acc[u]) // acc += x·x, one rounding
		}
	}
	for u := range acc {
		VMOVUPS(acc[u], Mem{Base: dst, Index: c, Scale: 4, Disp: 32 * u})
	}
	ADDQ(U8(8*centroidUnroll), c)
	CMPQ(c, kp)
	JB(LabelRef("cent_loop"))

	VZEROUPPER()
	RET()
}

func nearestTwo() {
	TEXT("nearestTwoAVX2", NOSPLIT, "func(dist *float32, n int) (first int, second int)")
	Pragma("noescape")
	Doc("nearestTwoAVX2 is nearestTwo in AVX2: the indices of the two smallest of",
		"dist[:n] (lower index first among equals; second −1 when n = 1). n > 0;",
		"dist holds finite values and has room for n rounded up to 8.")
	dist := Load(Param("dist"), GP64())
	n := Load(Param("n"), GP64())
	b1, b2 := GP64(), GP64()
	MOVQ(I32(-1), b1)
	MOVQ(I32(-1), b2)
	v1, v2, v := XMM(), XMM(), XMM()
	inf := GP32()
	MOVL(U32(0x7f800000), inf) // +Inf
	VMOVD(inf, v1)
	VMOVD(inf, v2)
	second := YMM() // v2 in every lane: the bar a value must pass
	VBROADCASTSS(v2, second)
	c := GP64()
	XORQ(c, c)

	// Most groups of 8 hold nothing below the second-best value: one
	// compare skips them. The rare group that does goes through the
	// scalar update, in index order, so ties keep the lower index.
	Label("near_loop")
	x, lt := YMM(), YMM()
	VMOVUPS(Mem{Base: dist, Index: c, Scale: 4}, x)
	VCMPPS(U8(1), second, x, lt) // x < second (LT_OS)
	mask := GP64()
	VMOVMSKPS(lt, mask.As32())
	left, full := GP64(), GP64()
	MOVQ(n, left)
	SUBQ(c, left)
	MOVQ(U32(8), full)
	CMPQ(left, full)
	CMOVQGT(full, left)
	BZHIQ(left, mask, mask)

	Label("near_bits")
	TESTQ(mask, mask)
	JZ(LabelRef("near_next"))
	idx := GP64()
	BSFQ(mask, idx)
	ADDQ(c, idx)
	VMOVSS(Mem{Base: dist, Index: idx, Scale: 4}, v)
	VUCOMISS(v2, v)
	JAE(LabelRef("near_clear")) // v ≥ second best
	VUCOMISS(v1, v)
	JAE(LabelRef("near_second")) // best ≤ v < second best
	MOVQ(b1, b2)
	VMOVAPS(v1, v2)
	MOVQ(idx, b1)
	VMOVAPS(v, v1)
	JMP(LabelRef("near_raise"))
	Label("near_second")
	MOVQ(idx, b2)
	VMOVAPS(v, v2)
	Label("near_raise")
	VBROADCASTSS(v2, second)
	Label("near_clear")
	lower := GP64()
	LEAQ(Mem{Base: mask, Disp: -1}, lower)
	ANDQ(lower, mask)
	JMP(LabelRef("near_bits"))

	Label("near_next")
	ADDQ(U8(8), c)
	CMPQ(c, n)
	JB(LabelRef("near_loop"))

	VZEROUPPER()
	Store(b1, Return("first"))
	Store(b2, Return("second"))
	RET()
}

// prefetch asks for every 64-byte line of a block to be brought into all
// cache levels ahead of use. A prefetch never faults, so it cannot read
// out of bounds in any sense that matters; the Go wrapper still keeps it
// inside the slice it was given.
func prefetch() {
	TEXT("prefetchAVX2", NOSPLIT, "func(p *int16, bytes int)")
	Pragma("noescape")
	Doc("prefetchAVX2 issues PREFETCHT0 for every 64-byte line of [p, p+bytes);",
		"bytes > 0.")
	p := Load(Param("p"), GP64())
	n := Load(Param("bytes"), GP64())
	off := GP64()
	XORQ(off, off)
	Label("prefetch_loop")
	PREFETCHT0(Mem{Base: p, Index: off, Scale: 1})
	ADDQ(U8(64), off)
	CMPQ(off, n)
	JB(LabelRef("prefetch_loop"))
	RET()
}
