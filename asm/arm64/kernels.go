package main

import "fraudknn/vector"

// The kernels. Registers: R0–R15 for arguments and loop state (R18 is the
// platform's, R26–R29 Go's, R27 the assembler's scratch), V0–V15 for data,
// V16–V29 for the query, V30–V31 for the bound and a scratch minimum.

// loadQuery loads the first 16 bytes of each of the 14 32-byte rows of the
// query block at base (8 int16 or 4 float32 copies of a coordinate) into
// V16–V29.
func loadQuery(a *asm, base string) {
	a.comment("The query, one coordinate per register, for the whole call.")
	for d := 0; d < vector.Dims; d++ {
		a.op("FMOVQ %d(%s), F%d", 32*d, base, vQuery+vreg(d))
	}
}

// addSquares adds the squares of the int16 lanes of lo (columns 0–7 of the
// step) and hi (columns 8–15) to the int32 distances in V4–V7 (columns
// 0–3, 4–7, 8–11, 12–15); the first dimension sets them instead.
//
// Exactness: every value is in [−10000, 10000], so a difference fits int16
// (|diff| ≤ 20000); SMLAL widens before it multiplies, and the sum of 14
// squares is at most 2.0·10⁹ < 2³¹: no step wraps or saturates.
func addSquares(a *asm, d int, lo, hi vreg) {
	mul := smlalH
	if d == 0 {
		mul = smullH
	}
	a.word(mul(false, 4, lo, lo))
	a.word(mul(true, 5, lo, lo))
	a.word(mul(false, 6, hi, hi))
	a.word(mul(true, 7, hi, hi))
}

// passMask sets the GP register mask to bit 4c for each column c of the
// step whose distance (V4–V7) is ≤ the bound (V30). NEON has no move-mask:
// the compares give all-ones lanes, narrowed twice to one byte a column,
// and SHRN #4 keeps a nibble of each byte, so the 16 columns fill the 64
// bits of one register.
func passMask(a *asm, mask string) {
	a.comment("Pass: bound ≥ distance (all ones).")
	for i := vreg(0); i < 4; i++ {
		a.word(cmhsS(i, vBound, 4+i))
	}
	a.op("VUZP1 V1.H8, V0.H8, V0.H8 // columns 0–7, an int16 each")
	a.op("VUZP1 V3.H8, V2.H8, V2.H8 // columns 8–15")
	a.op("VUZP1 V2.B16, V0.B16, V0.B16")
	a.word(shrnH8B(0, 0, 4))
	a.op("FMOVD F0, %s", mask)
	a.op("AND $0x1111111111111111, %s", mask)
}

// limitMask clears the bits of mask for the columns at or past n, where
// the first column of this step is column j of the block; a column has
// width bits and a step cols columns. A shift by a register counts modulo
// 64, so the mask of the clear bits is dropped when every column is in.
func limitMask(a *asm, mask, j, n string, width, cols int) {
	a.op("SUB %s, %s, R12 // columns left in the block: more than 0", j, n)
	a.op("LSL $%d, R12, R13", log2(width))
	a.op("MOVD $-1, R14")
	a.op("LSL R13, R14, R14")
	a.op("CMP $%d, R12", cols)
	a.op("CSEL LT, R14, ZR, R14")
	a.op("BIC R14, %s, %s", mask, mask)
}

func log2(x int) int {
	n := 0
	for 1<<n < x {
		n++
	}
	return n
}

// appendIndices stores j + c to cand[count], count++, for every set bit
// 4c of mask, lowest first.
func appendIndices(a *asm, name, mask, j, cand, count, next string) {
	a.label(name + "_bits")
	a.op("CBZ %s, %s", mask, next)
	a.op("RBIT %s, R12", mask)
	a.op("CLZ R12, R12 // 4c")
	a.op("ADD R12>>2, %s, R12", j)
	a.op("MOVW R12, (%s)(%s<<2)", cand, count)
	a.op("ADD $1, %s", count)
	a.op("SUB $1, %s, R13", mask)
	a.op("AND R13, %s, %s", mask, mask)
	a.op("B %s_bits", name)
}

func scanBlock(a *asm, k kernel) {
	a.text(k)
	a.op("MOVD qb+0(FP), R0")
	a.op("MOVD block+8(FP), R1")
	a.op("MOVD stride+16(FP), R2")
	a.op("MOVD n+24(FP), R3")
	a.op("MOVWU bound+32(FP), R4")
	a.op("MOVD dist+40(FP), R5")
	a.op("MOVD cand+48(FP), R6")
	loadQuery(a, "R0")
	a.op("VDUP R4, V%d.S4", vBound)
	a.op("LSL $1, R2, R7 // bytes between two rows")
	a.op("MOVD ZR, R8 // candidates so far")
	a.op("MOVD ZR, R9 // j, the step's first column")

	a.label("scan_loop")
	a.comment("Column j of row d is at block + 2j + d·rowBytes; R10 walks the rows.")
	a.op("ADD R9<<1, R1, R10")
	for d := 0; d < vector.Dims; d++ {
		a.comment("dimension %d", d)
		a.op("VLD1.P (R10)(R7), [V0.H8, V1.H8]")
		a.op("VSUB V%d.H8, V0.H8, V0.H8", vQuery+vreg(d))
		a.op("VSUB V%d.H8, V1.H8, V1.H8", vQuery+vreg(d))
		addSquares(a, d, 0, 1)
		if d%2 == 1 && d+1 < vector.Dims {
			// Once every one of the 16 partial sums exceeds the bound,
			// no column of the step is a candidate: skip its other
			// rows. Every term is a square, so a partial sum never
			// exceeds the distance, and none wraps (addSquares).
			if d == 1 {
				a.comment("All 16 partial sums > bound: no candidate here, skip the other rows.")
			}
			a.op("VUMIN V5.S4, V4.S4, V2.S4")
			a.op("VUMIN V7.S4, V6.S4, V3.S4")
			a.op("VUMIN V3.S4, V2.S4, V2.S4")
			a.word(uminvS(vMin, 2))
			a.op("FMOVS F%d, R11", vMin)
			a.op("CMPW R4, R11")
			a.op("BHI scan_next // least partial sum > bound")
		}
	}
	endStep(a, "scan", "R5", "R9", "R3", "R6", "R8", 56)
}

func boxBounds(a *asm, k kernel) {
	a.text(k)
	a.op("MOVD qb+0(FP), R0")
	a.op("MOVD lo+8(FP), R1")
	a.op("MOVD hi+16(FP), R2")
	a.op("MOVD kp+24(FP), R3")
	a.op("MOVD k+32(FP), R4")
	a.op("MOVWU bound+40(FP), R5")
	a.op("MOVD dst+48(FP), R6")
	a.op("MOVD cand+56(FP), R7")
	loadQuery(a, "R0")
	a.op("VDUP R5, V%d.S4", vBound)
	a.op("LSL $1, R3, R8 // bytes between two rows")
	a.op("MOVD ZR, R9 // candidates so far")
	a.op("MOVD ZR, R10 // c, the step's first box")

	a.label("box_loop")
	a.op("ADD R10<<1, R1, R11")
	a.op("ADD R10<<1, R2, R15")
	for d := 0; d < vector.Dims; d++ {
		q := vQuery + vreg(d)
		a.comment("dimension %d", d)
		a.op("VLD1.P (R11)(R8), [V0.H8, V1.H8] // lo")
		a.op("VLD1.P (R15)(R8), [V2.H8, V3.H8] // hi")
		if d == 0 {
			a.comment("The gap to [lo, hi] is max(lo, q) − min(hi, q): lo − q below")
			a.comment("the box, q − hi above it, 0 inside (lo ≤ hi).")
		}
		a.word(smaxH(0, 0, q))
		a.word(smaxH(1, 1, q))
		a.word(sminH(2, 2, q))
		a.word(sminH(3, 3, q))
		a.op("VSUB V2.H8, V0.H8, V0.H8")
		a.op("VSUB V3.H8, V1.H8, V1.H8")
		addSquares(a, d, 0, 1)
	}
	endStep(a, "box", "R6", "R10", "R4", "R7", "R9", 64)
}

// endStep ends a step of the scan or box kernel (name): it stores the
// step's sums (V4-V7) at dst + 4·j, appends the columns within bound and
// below n to cand, counting them in count, steps j on by a group and
// loops to name_loop while j < n, then returns count at ret(FP).
func endStep(a *asm, name, dst, j, n, cand, count string, ret int) {
	a.op("ADD %s<<2, %s, R11", j, dst)
	a.op("VST1 [V4.S4, V5.S4, V6.S4, V7.S4], (R11)")
	passMask(a, "R11")
	limitMask(a, "R11", j, n, 4, group)
	appendIndices(a, name, "R11", j, cand, count, name+"_next")

	a.label(name + "_next")
	a.op("ADD $%d, %s", group, j)
	a.op("CMP %s, %s", n, j)
	a.op("BLO %s_loop", name)
	a.op("MOVD %s, ret+%d(FP)", count, ret)
	a.op("RET")
}

// centroidStep is how many centroids one step handles: 8 registers of 4
// float32, enough independent FMLA chains to hide the instruction's
// latency, with the query's 14 registers and 8 of loaded values.
const centroidStep = 32

func centroidDists(a *asm, k kernel) {
	a.text(k)
	a.op("MOVD qf+0(FP), R0")
	a.op("MOVD cent+8(FP), R1")
	a.op("MOVD kp+16(FP), R2")
	a.op("MOVD dst+24(FP), R3")
	loadQuery(a, "R0")
	a.op("LSL $2, R2, R4 // bytes between two rows")
	a.op("MOVD ZR, R5 // c, the step's first centroid")

	a.label("cent_loop")
	a.op("ADD R5<<2, R1, R6 // centroids c to c+15 of row d")
	a.op("ADD $64, R6, R7 // c+16 to c+31")
	for u := 0; u < 8; u++ {
		a.op("VEOR V%d.B16, V%d.B16, V%d.B16", u, u, u)
	}
	for d := 0; d < vector.Dims; d++ {
		a.op("VLD1.P (R6)(R4), [V8.S4, V9.S4, V10.S4, V11.S4]")
		a.op("VLD1.P (R7)(R4), [V12.S4, V13.S4, V14.S4, V15.S4]")
		for u := vreg(0); u < 8; u++ {
			a.word(fsubS(8+u, 8+u, vQuery+vreg(d)))
		}
		for u := 0; u < 8; u++ {
			a.op("VFMLA V%d.S4, V%d.S4, V%d.S4 // acc += x·x, one rounding", 8+u, 8+u, u)
		}
	}
	a.op("ADD R5<<2, R3, R6")
	a.op("VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R6)")
	a.op("VST1 [V4.S4, V5.S4, V6.S4, V7.S4], (R6)")
	a.op("ADD $%d, R5", centroidStep)
	a.op("CMP R2, R5")
	a.op("BLO cent_loop")
	a.op("RET")
}

func nearestTwo(a *asm, k kernel) {
	a.text(k)
	a.op("MOVD dist+0(FP), R0")
	a.op("MOVD n+8(FP), R1")
	a.op("MOVD $-1, R2 // b1")
	a.op("MOVD $-1, R3 // b2")
	a.op("MOVW $0x7f800000, R4 // +Inf")
	a.op("FMOVS R4, F0 // v1")
	a.op("FMOVS R4, F1 // v2")
	a.op("VDUP V1.S[0], V2.S4 // v2 in every lane: the bar a value must pass")
	a.op("MOVD ZR, R5 // c")

	a.comment("Most groups of 8 hold nothing below the second-best value: one")
	a.comment("compare skips them. The rare group that does goes through the")
	a.comment("scalar update, in index order, so ties keep the lower index.")
	a.label("near_loop")
	a.op("ADD R5<<2, R0, R6")
	a.op("VLD1 (R6), [V4.S4, V5.S4]")
	a.comment("second best > x, all ones; then a byte a value.")
	a.word(fcmgtS(4, 2, 4))
	a.word(fcmgtS(5, 2, 5))
	a.op("VUZP1 V5.H8, V4.H8, V4.H8")
	a.word(xtnH8B(4, 4))
	a.op("FMOVD F4, R7")
	a.op("CBZ R7, near_next")
	limitMask(a, "R7", "R5", "R1", 8, 8)
	a.op("AND $0x0101010101010101, R7")

	a.label("near_bits")
	a.op("CBZ R7, near_next")
	a.op("RBIT R7, R8")
	a.op("CLZ R8, R8")
	a.op("ADD R8>>3, R5, R8 // the value's index")
	a.op("FMOVS (R0)(R8<<2), F3")
	a.op("FCMPS F1, F3")
	a.op("BGE near_clear // v ≥ second best")
	a.op("FCMPS F0, F3")
	a.op("BGE near_second // best ≤ v < second best")
	a.op("MOVD R2, R3")
	a.op("FMOVS F0, F1")
	a.op("MOVD R8, R2")
	a.op("FMOVS F3, F0")
	a.op("B near_raise")
	a.label("near_second")
	a.op("MOVD R8, R3")
	a.op("FMOVS F3, F1")
	a.label("near_raise")
	a.op("VDUP V1.S[0], V2.S4")
	a.label("near_clear")
	a.op("SUB $1, R7, R9")
	a.op("AND R9, R7, R7")
	a.op("B near_bits")

	a.label("near_next")
	a.op("ADD $8, R5")
	a.op("CMP R1, R5")
	a.op("BLO near_loop")
	a.op("MOVD R2, first+16(FP)")
	a.op("MOVD R3, second+24(FP)")
	a.op("RET")
}

// prefetch asks for every 64-byte line of a block to be brought into the
// caches ahead of use (PLDL1KEEP: for a load, into L1, kept normally). A
// prefetch never faults; the Go wrapper still keeps it inside the slice it
// was given.
func prefetch(a *asm, k kernel) {
	a.text(k)
	a.op("MOVD p+0(FP), R0")
	a.op("MOVD bytes+8(FP), R1")
	a.op("ADD R0, R1, R1 // the end")
	a.label("prefetch_loop")
	a.op("PRFM (R0), PLDL1KEEP")
	a.op("ADD $64, R0")
	a.op("CMP R1, R0")
	a.op("BLO prefetch_loop")
	a.op("RET")
}
