package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
	"unsafe"

	"fraudknn/artifact/hugemem"
)

// lineBytes is the size of a cache line.
const lineBytes = 64

// sink receives what the measured loops compute, so that no compiler can
// drop them as unused.
var sink uint64

// memory measures what reading memory costs, in a buffer of size bytes
// in huge pages as the API's copy of the index is, and writes two lines
// to w. The rate of one core reading the buffer in order, which bounds
// any search that reads more than the caches hold: a search that reads
// L lines cannot take less than L times the time per line given here.
// And the latency of a load whose address depends on the previous one,
// over working sets of growing size: where it jumps shows how much the
// caches really hold, which on a virtual machine can be far less than
// lscpu reports.
func memory(w io.Writer, size int) error {
	mem, err := hugemem.Alloc(size)
	if err != nil {
		return err
	}
	defer mem.Free()
	words := unsafe.Slice((*uint64)(unsafe.Pointer(&mem.Data[0])), size/8)
	for i := range words {
		words[i] = uint64(i)
	}
	huge := hugemem.Backed(mem.Pages)

	best := time.Duration(1<<63 - 1)
	for range 3 {
		t0 := time.Now()
		sink += sum(words)
		best = min(best, time.Since(t0))
	}
	lines := size / lineBytes
	fmt.Fprintf(w, "memory: one core reading %s in order: %.1f GB/s, %.2f ns a %d-byte line (best of 3; %s of it in huge pages)\n",
		mib(size), float64(size)/best.Seconds()/1e9, float64(best.Nanoseconds())/float64(lines), lineBytes, mib(int(max(huge, 0))))

	var b strings.Builder
	for span := 1 << 20; span <= size; span *= 2 {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %.1f ns", mib(span), chase(words[:span/8], 1<<20))
	}
	fmt.Fprintf(w, "memory: dependent loads, one %d-byte line at random each, over a working set of %s\n", lineBytes, b.String())
	return nil
}

// sum adds all of words, in four independent chains so that the loads,
// not the additions, set the pace.
func sum(words []uint64) uint64 {
	var s0, s1, s2, s3 uint64
	i := 0
	for ; i+8 <= len(words); i += 8 {
		s0 += words[i] + words[i+4]
		s1 += words[i+1] + words[i+5]
		s2 += words[i+2] + words[i+6]
		s3 += words[i+3] + words[i+7]
	}
	for ; i < len(words); i++ {
		s0 += words[i]
	}
	return s0 + s1 + s2 + s3
}

// chase links every line of words into one cycle in random order (the
// first word of a line holds the index of the next line's first word)
// and returns the time per step of following it steps times.
func chase(words []uint64, steps int) float64 {
	per := lineBytes / 8
	n := len(words) / per
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	for i, l := range order {
		words[l*per] = uint64(order[(i+1)%n] * per)
	}
	p := uint64(order[0] * per)
	for range n { // one lap to bring the set into whatever cache holds it
		p = words[p]
	}
	t0 := time.Now()
	for range steps {
		p = words[p]
	}
	el := time.Since(t0)
	sink += p
	return float64(el.Nanoseconds()) / float64(steps)
}

// mib formats a byte count in MiB.
func mib(n int) string {
	return fmt.Sprintf("%d MiB", n>>20)
}
