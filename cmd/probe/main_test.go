package main

import (
	"os"
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

func TestGaps(t *testing.T) {
	var out strings.Builder
	gaps(&out, 20*time.Millisecond)
	if !strings.HasPrefix(out.String(), "busy loop: ") {
		t.Fatalf("unexpected report %q", out.String())
	}
}
