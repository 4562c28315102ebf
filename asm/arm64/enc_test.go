package main

import (
	"bufio"
	"encoding/binary"
	"os"
	"regexp"
	"strconv"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"
)

// wordLine matches an instruction written as its encoding, with the
// instruction in GNU syntax as its comment.
var wordLine = regexp.MustCompile(`^\tWORD \$0x([0-9a-f]{8}) // (.+)$`)

// TestWordsMatchComments decodes every instruction word of the committed
// kernels with golang.org/x/arch's disassembler, which shares no code with
// enc.go, and requires it to be the instruction its comment names.
func TestWordsMatchComments(t *testing.T) {
	f, err := os.Open("../../knn/kernels_arm64.s")
	if err != nil {
		t.Fatalf("the generated kernels: %v (run go generate in asm/)", err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		m := wordLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		checkWord(t, m[1], m[2], line)
		seen[regexp.MustCompile(`^\S+`).FindString(m[2])] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// Every encoder is used, so every encoder was checked.
	for _, name := range []string{"smull", "smull2", "smlal", "smlal2", "smax", "smin", "cmhs", "fsub", "fcmgt", "uminv", "xtn", "shrn"} {
		if !seen[name] {
			t.Errorf("no %s in the generated kernels: its encoding went unchecked", name)
		}
	}
}

// TestEncoders checks each encoder on registers the kernels do not use,
// so that a register field placed in the wrong bits shows.
func TestEncoders(t *testing.T) {
	for _, i := range []insn{
		smullH(false, 31, 17, 2), smullH(true, 1, 30, 29), smlalH(false, 9, 10, 11), smlalH(true, 31, 0, 16),
		smaxH(3, 31, 12), sminH(31, 3, 12), cmhsS(13, 31, 1), fsubS(1, 31, 30), fcmgtS(30, 1, 31),
		uminvS(31, 17), uminvS(1, 30), xtnH8B(31, 1), xtnH8B(1, 31), shrnH8B(17, 30, 1), shrnH8B(30, 17, 8),
	} {
		checkWord(t, strconv.FormatUint(uint64(i.word), 16), i.gnu, 0)
	}
}

func checkWord(t *testing.T, hex, want string, line int) {
	t.Helper()
	w, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		t.Fatalf("line %d: %v", line, err)
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(w))
	inst, err := arm64asm.Decode(b[:])
	if err != nil {
		t.Errorf("line %d: WORD $0x%08x (%s) does not decode: %v", line, w, want, err)
		return
	}
	if got := arm64asm.GNUSyntax(inst); got != want {
		t.Errorf("line %d: WORD $0x%08x is %q; its comment says %q", line, w, got, want)
	}
}
