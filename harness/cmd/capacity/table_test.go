package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sweepRows is a made-up sweep: the stack leaves the 2 ms scale at 1200/s,
// the floor at 2400/s, lb fails at 2400/s.
var sweepRows = []row{
	{Config: "stack", Rate: 300, P50: 0.4, P99: 1.1, CPU: 400, APIs: 250, Cores: 0.12},
	{Config: "stack", Rate: 600, P50: 0.5, P99: 1.8, CPU: 390, APIs: 240, Cores: 0.23},
	{Config: "stack", Rate: 1200, P50: 0.9, P99: 6.5, CPU: 380, APIs: 230, Cores: 0.46},
	{Config: "floor", Rate: 300, P50: 0.3, P99: 0.9, CPU: 350, APIs: 200, Cores: 0.1},
	{Config: "floor", Rate: 1200, P50: 0.4, P99: 1.9, CPU: 340, APIs: 190, Cores: 0.41},
	{Config: "floor", Rate: 2400, P50: 0.8, P99: 2.5, CPU: 330, APIs: 180, Cores: 0.79},
	{Config: "lb", Rate: 1200, P50: 0.3, P99: 1.0, CPU: 210, APIs: 190, Cores: 0.25},
	{Config: "lb", Rate: 2400, P50: 0.3, P99: 0.9, Errors: 3, CPU: 200, APIs: 180, Cores: 0.48, Syscalls: -1},
}

func TestKnee(t *testing.T) {
	for config, want := range map[string]int{"stack": 600, "floor": 1200, "lb": 1200} {
		if k, ok := knee(config, sweepRows, 2*time.Millisecond); !ok || k.Rate != want {
			t.Errorf("knee(%s) = %d, %v; want %d", config, k.Rate, ok, want)
		}
	}
	if _, ok := knee("stack", sweepRows, time.Millisecond); ok {
		t.Error("a knee under 1 ms, where no step of the stack was")
	}
	busy := []row{{Config: "stack", Rate: 3000, P99: 1, Cores: 1.2}}
	if _, ok := knee("stack", busy, 2*time.Millisecond); ok {
		t.Error("a knee where the stack needed more than one CPU")
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir, sweepRows, 2*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "capacity.csv"))
	if lines := strings.Count(string(csv), "\n"); lines != len(sweepRows)+1 {
		t.Errorf("capacity.csv has %d lines; want a header and %d rows", lines, len(sweepRows))
	}
	md, _ := os.ReadFile(filepath.Join(dir, "capacity.md"))
	if !strings.Contains(string(md), "knee stack: 600 requests/s") || !strings.Contains(string(md), "| lb | 2400 |") {
		t.Errorf("capacity.md lacks the knee or a row:\n%s", md)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "capacity.svg"))
	if !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), "floor p99") {
		t.Errorf("capacity.svg is not a picture with a legend (%d bytes)", len(svg))
	}
}

func TestParsePlan(t *testing.T) {
	p, err := parsePlan("stack,lb", "150,300", 10)
	if err != nil || p.load() != 40*time.Second {
		t.Fatalf("parsePlan = %+v, %v; want 40 s of load", p, err)
	}
	for _, bad := range [][2]string{{"stack,nginx", "150"}, {"stack", "300,150"}, {"stack", "0"}, {"stack", "fast"}} {
		if _, err := parsePlan(bad[0], bad[1], 10); err == nil {
			t.Errorf("parsePlan(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}
