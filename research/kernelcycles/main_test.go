package main

import (
	"slices"
	"testing"
)

// A loop of the shape the kernels have: a step, an early exit, a
// candidate loop (test, body, jump back), the loop's own branch.
var loop = []insn{
	{0x00, "mov x0, #0", 0},
	{0x04, "ld1 {v0.8h}, [x1]", 0}, // the loop starts here
	{0x08, "b.hi 0x1c <f+0x1c>", 0x1c},
	{0x0c, "add x2, x2, #1", 0},
	{0x10, "cbz x11, 0x1c <f+0x1c>", 0x1c}, // the candidate loop's test
	{0x14, "rbit x12, x11", 0},
	{0x18, "b 0x10 <f+0x10>", 0x10},
	{0x1c, "add x9, x9, #16", 0},
	{0x20, "b.lo 0x4 <f+0x4>", 0x04},
	{0x24, "ret", 0},
}

func TestLoopPath(t *testing.T) {
	got, err := loopPath(loop, false)
	want := []string{"ld1 {v0.8h}, [x1]", "b.hi L", "add x2, x2, #1", "cbz x11, L", "add x9, x9, #16", "b.lo L"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("no-candidate path: %q, %v; want %q", got, err, want)
	}
	got, err = loopPath(loop, true)
	want = []string{"ld1 {v0.8h}, [x1]", "b.hi L", "add x9, x9, #16", "b.lo L"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("early-exit path: %q, %v; want %q", got, err, want)
	}
	if _, err := loopPath(loop[:2], false); err == nil {
		t.Error("a function without a loop gave a path")
	}
}
