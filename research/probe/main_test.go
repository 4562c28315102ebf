package main

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the echo process that
// roundTrips starts (it runs its own executable).
func TestMain(m *testing.M) {
	if path := os.Getenv(echoEnv); path != "" {
		serveEcho(path)
		return
	}
	os.Exit(m.Run())
}

func TestRoundTrips(t *testing.T) {
	var out strings.Builder
	if err := roundTrips(&out, 5*time.Millisecond); err != nil {
		t.Fatalf("roundTrips: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want one per gap (3):\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "unix-socket round trip") || !strings.Contains(l, "p99") {
			t.Errorf("unexpected line %q", l)
		}
	}
	// The 10 ms gap is longer than the run: it still makes one round trip.
	if !strings.Contains(lines[2], "(1 round trips)") {
		t.Errorf("the 10ms line should report one round trip: %q", lines[2])
	}
}

// TestMeasurePauses checks what the busy loop returns: it ran at least
// as long as asked, and every pause it counts is over minPause and fits
// in the time it ran.
func TestMeasurePauses(t *testing.T) {
	const d = 20 * time.Millisecond
	pauses, elapsed := measurePauses(d)
	if elapsed < d {
		t.Fatalf("the loop ran %v; asked for %v", elapsed, d)
	}
	var lost time.Duration
	for _, p := range pauses {
		if p <= minPause {
			t.Fatalf("a pause of %v counted; only pauses over %v count", p, minPause)
		}
		lost += p
	}
	if lost > elapsed {
		t.Fatalf("%v of pauses in a loop of %v", lost, elapsed)
	}
}

// TestReportPauses checks the summary line's arithmetic on known pauses.
func TestReportPauses(t *testing.T) {
	cases := []struct {
		pauses  []time.Duration
		elapsed time.Duration
		want    string
	}{
		{nil, 20 * time.Millisecond, "busy loop: no pause over 5µs in 20ms\n"},
		{
			[]time.Duration{40 * time.Microsecond, 10 * time.Microsecond, 30 * time.Microsecond, 20 * time.Microsecond},
			time.Millisecond,
			"busy loop: 4 pauses over 5µs in 1ms (one every 250µs), 10.0% of the time lost; pauses p50 30µs, p99 40µs, max 40µs\n",
		},
	}
	for _, c := range cases {
		var out strings.Builder
		reportPauses(&out, c.pauses, c.elapsed)
		if out.String() != c.want {
			t.Errorf("reportPauses(%v, %v):\n got %q\nwant %q", c.pauses, c.elapsed, out.String(), c.want)
		}
	}
}

// TestSum checks the unrolled sum against a plain loop, on lengths around
// the unrolling's edges.
func TestSum(t *testing.T) {
	words := make([]uint64, 100)
	for i := range words {
		words[i] = uint64(i*i + 7)
	}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 100} {
		var want uint64
		for _, w := range words[:n] {
			want += w
		}
		if got := sum(words[:n]); got != want {
			t.Errorf("sum of %d words = %d; want %d", n, got, want)
		}
	}
}

// TestMemory runs the memory measurements on a small buffer: two lines,
// a read rate and a time per line that are positive, finite numbers, and a
// load latency for each working set (1, 2 and 4 MiB).
func TestMemory(t *testing.T) {
	var out strings.Builder
	if err := memory(&out, 4<<20); err != nil {
		t.Fatalf("memory: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), out.String())
	}
	rate := regexp.MustCompile(`^memory: one core reading 4 MiB in order: (\S+) GB/s, (\S+) ns a 64-byte line`).FindStringSubmatch(lines[0])
	if rate == nil {
		t.Fatalf("first line %q does not give the read rate", lines[0])
	}
	positive(t, lines[0], rate[1:]...)
	for _, span := range []string{"1 MiB", "2 MiB", "4 MiB"} {
		m := regexp.MustCompile(span + ` (\S+) ns`).FindStringSubmatch(lines[1])
		if m == nil {
			t.Fatalf("second line has no figure for %s: %q", span, lines[1])
		}
		positive(t, lines[1], m[1])
	}
}

// positive fails the test unless every figure is a positive finite number.
func positive(t *testing.T, line string, figures ...string) {
	t.Helper()
	for _, f := range figures {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("figure %q in %q is not a positive number", f, line)
		}
	}
}

// TestChase checks that the cycle chase builds visits every line once.
func TestChase(t *testing.T) {
	words := make([]uint64, 1000*lineBytes/8)
	chase(words, 10)
	per := lineBytes / 8
	seen := make([]bool, 1000)
	p := 0
	for range 1000 {
		if p%per != 0 || seen[p/per] {
			t.Fatalf("the cycle revisits or misaligns at word %d", p)
		}
		seen[p/per] = true
		p = int(words[p])
	}
	if p != 0 {
		t.Fatalf("after visiting all 1000 lines the cycle is at word %d, not back at 0", p)
	}
}
