package main

import "fmt"

// The encodings of the Advanced SIMD instructions Go's arm64 assembler has
// no mnemonic for. Each returns the instruction word and the instruction
// in GNU syntax, which the generator writes as the WORD's comment; the
// tests decode every WORD of the generated file and compare it with its
// comment, so an encoding mistake cannot hide behind a right-looking
// comment. Field layouts are the Arm Architecture Reference Manual's
// (C4.1.95, "Advanced SIMD three same", "three different", "two-register
// miscellaneous", "across lanes", "shift by immediate").

// vreg is a SIMD register number, 0–31.
type vreg uint32

// insn is one encoded instruction.
type insn struct {
	word uint32
	gnu  string
}

// threeSame encodes 0 Q U 01110 size 1 Rm opcode 1 Rn Rd.
func threeSame(q, u, size, opcode uint32, d, n, m vreg) uint32 {
	return q<<30 | u<<29 | 0b01110<<24 | size<<22 | 1<<21 | uint32(m)<<16 | opcode<<11 | 1<<10 | uint32(n)<<5 | uint32(d)
}

// threeDiff encodes 0 Q U 01110 size 1 Rm opcode 00 Rn Rd.
func threeDiff(q, u, size, opcode uint32, d, n, m vreg) uint32 {
	return q<<30 | u<<29 | 0b01110<<24 | size<<22 | 1<<21 | uint32(m)<<16 | opcode<<12 | uint32(n)<<5 | uint32(d)
}

// smullH multiplies the signed int16 lanes 0–3 (upper: 4–7) of n and m
// into the int32 lanes of d: SMULL (SMULL2) Vd.4S, Vn.4H (8H), Vm.4H (8H).
func smullH(upper bool, d, n, m vreg) insn {
	return wideningH("smull", 0b1100, upper, d, n, m)
}

// smlalH is smullH adding the products to d: SMLAL (SMLAL2).
func smlalH(upper bool, d, n, m vreg) insn {
	return wideningH("smlal", 0b1000, upper, d, n, m)
}

func wideningH(name string, opcode uint32, upper bool, d, n, m vreg) insn {
	q, src := uint32(0), "4h"
	if upper {
		q, src, name = 1, "8h", name+"2"
	}
	return insn{threeDiff(q, 0, 0b01, opcode, d, n, m),
		fmt.Sprintf("%s v%d.4s, v%d.%s, v%d.%s", name, d, n, src, m, src)}
}

// smaxH sets each int16 lane of d to the larger of n's and m's (signed):
// SMAX Vd.8H, Vn.8H, Vm.8H.
func smaxH(d, n, m vreg) insn {
	return insn{threeSame(1, 0, 0b01, 0b01100, d, n, m), fmt.Sprintf("smax v%d.8h, v%d.8h, v%d.8h", d, n, m)}
}

// sminH is smaxH taking the smaller: SMIN Vd.8H, Vn.8H, Vm.8H.
func sminH(d, n, m vreg) insn {
	return insn{threeSame(1, 0, 0b01, 0b01101, d, n, m), fmt.Sprintf("smin v%d.8h, v%d.8h, v%d.8h", d, n, m)}
}

// cmhsS sets each uint32 lane of d to all ones where n's lane is ≥ m's
// (unsigned), else zero: CMHS Vd.4S, Vn.4S, Vm.4S.
func cmhsS(d, n, m vreg) insn {
	return insn{threeSame(1, 1, 0b10, 0b00111, d, n, m), fmt.Sprintf("cmhs v%d.4s, v%d.4s, v%d.4s", d, n, m)}
}

// fsubS subtracts m's float32 lanes from n's: FSUB Vd.4S, Vn.4S, Vm.4S.
func fsubS(d, n, m vreg) insn {
	// 0 Q 0 01110 1 sz 1 Rm 11010 1 Rn Rd: "three same" with size = 1 sz.
	return insn{threeSame(1, 0, 0b10, 0b11010, d, n, m), fmt.Sprintf("fsub v%d.4s, v%d.4s, v%d.4s", d, n, m)}
}

// fcmgtS sets each lane of d to all ones where n's float32 is greater
// than m's (false for NaN), else zero: FCMGT Vd.4S, Vn.4S, Vm.4S.
func fcmgtS(d, n, m vreg) insn {
	return insn{threeSame(1, 1, 0b10, 0b11100, d, n, m), fmt.Sprintf("fcmgt v%d.4s, v%d.4s, v%d.4s", d, n, m)}
}

// uminvS sets the low 32 bits of d to the least uint32 lane of n:
// UMINV Sd, Vn.4S (0 Q U 01110 size 11000 opcode 10 Rn Rd).
func uminvS(d, n vreg) insn {
	w := uint32(1)<<30 | 1<<29 | 0b01110<<24 | 0b10<<22 | 0b11000<<17 | 0b11010<<12 | 0b10<<10 | uint32(n)<<5 | uint32(d)
	return insn{w, fmt.Sprintf("uminv s%d, v%d.4s", d, n)}
}

// xtnH8B keeps the low byte of each int16 lane of n: XTN Vd.8B, Vn.8H
// (0 Q 0 01110 size 10000 10010 10 Rn Rd).
func xtnH8B(d, n vreg) insn {
	w := uint32(0b01110)<<24 | 0b00<<22 | 0b10000<<17 | 0b10010<<12 | 0b10<<10 | uint32(n)<<5 | uint32(d)
	return insn{w, fmt.Sprintf("xtn v%d.8b, v%d.8h", d, n)}
}

// shrnH8B shifts each uint16 lane of n right by shift (1–8) and keeps its
// low byte: SHRN Vd.8B, Vn.8H, #shift (0 Q 0 011110 immh:immb 10000 1 Rn
// Rd, immh:immb = 16 − shift for 8-bit results).
func shrnH8B(d, n vreg, shift uint32) insn {
	if shift < 1 || shift > 8 {
		panic("shrnH8B: shift out of range")
	}
	w := uint32(0b011110)<<23 | (16-shift)<<16 | 0b10000<<11 | 1<<10 | uint32(n)<<5 | uint32(d)
	return insn{w, fmt.Sprintf("shrn v%d.8b, v%d.8h, #%d", d, n, shift)}
}
