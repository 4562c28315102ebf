package loadtest

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCostOf(t *testing.T) {
	budget := map[string]Usage{
		"nginx": {CPUSeconds: 1.5, CPUUserSeconds: 0.5, CPUSystemSeconds: 1, VoluntaryCtx: 3000, Syscalls: 8000},
		"api1":  {CPUSeconds: 1, CPUUserSeconds: 0.6, CPUSystemSeconds: 0.4, VoluntaryCtx: 2000, Syscalls: 5000},
		"api2":  {CPUSeconds: 1, CPUUserSeconds: 0.6, CPUSystemSeconds: 0.4, VoluntaryCtx: 2000, Syscalls: -1},
	}
	c := CostOf(budget, 10000, "nginx")
	near := func(what string, got, want float64) {
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v; want %v", what, got, want)
		}
	}
	p := c.PerRequest
	near("total CPU", p["total"].CPU, 350)
	near("total user", p["total"].User, 170)
	near("nginx system", p["nginx"].System, 100)
	near("apis CPU", p["apis"].CPU, 200)
	near("apis voluntary", p["apis"].Voluntary, 0.4)
	near("nginx syscalls", p["nginx"].Syscalls, 0.8)
	near("api2 syscalls (not counted)", p["api2"].Syscalls, -1)
	near("apis syscalls (one not counted)", p["apis"].Syscalls, -1)
	if l := c.Line(); !strings.Contains(l, "total 350 µs (user 170, system 180)") {
		t.Errorf("Line() = %q", l)
	}
	if l := CostOf(nil, 0, "").Line(); !strings.Contains(l, "not measured") {
		t.Errorf("with nothing measured, Line() = %q", l)
	}
}

func TestReadPerfCount(t *testing.T) {
	dir := t.TempDir()
	for text, want := range map[string]int64{
		"# started on Thu Dec  3\n\n16604,,raw_syscalls:sys_enter,266656748,100.00,,\n": 16604,
		"<not counted>,,raw_syscalls:sys_enter,0,100.00,,\n":                            0,
	} {
		path := filepath.Join(dir, "perf.csv")
		os.WriteFile(path, []byte(text), 0o644)
		if got, err := readPerfCount(path); err != nil || got != want {
			t.Errorf("readPerfCount(%q) = %d, %v; want %d", text, got, err, want)
		}
	}
	os.WriteFile(filepath.Join(dir, "empty.csv"), nil, 0o644)
	if _, err := readPerfCount(filepath.Join(dir, "empty.csv")); err == nil {
		t.Error("readPerfCount of a file without the count succeeded")
	}
}
