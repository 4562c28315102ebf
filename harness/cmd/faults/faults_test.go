package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fraudknn/harness/internal/loadtest"
	"fraudknn/harness/internal/stack"
)

func TestVmRSS(t *testing.T) {
	status := "Name:\tapi\nVmPeak:\t  200000 kB\nVmRSS:\t  111616 kB\nThreads:\t5\n"
	if got := vmRSS(status); got != 109 {
		t.Errorf("VmRSS 111616 kB read as %v MiB, want 109", got)
	}
	if got := vmRSS("Name:\tkthread\n"); got != 0 {
		t.Errorf("no VmRSS line: %v, want 0", got)
	}
}

func TestRSSSampler(t *testing.T) {
	r := &rssSampler{quit: make(chan struct{}), stats: map[string]*RSS{}}
	for _, mib := range []float64{100, 104, 98, 101} {
		r.add("api1", mib)
	}
	got := r.stop()["api1"]
	if want := (RSS{First: 100, Min: 98, Max: 104, Last: 101}); got != want {
		t.Errorf("samples 100, 104, 98, 101: %+v, want %+v", got, want)
	}
}

// TestReadTimeline reads k6's CSV samples around an update whose first
// instance stops at 1000 ms and whose last is ready at 2000 ms: the old
// index's answers are tp/tn, the new one's fp/fn.
func TestReadTimeline(t *testing.T) {
	csv := "metric_name,timestamp,metric_value\n" +
		"http_reqs,500,1\n" + // not a decision: ignored
		"decision_tp,500,1\n" + "decision_tn,900,1\n" + "decision_fp,950,1\n" + // before: 2 old, 1 new (wrong index)
		"decision_tn,1500,1\n" + "decision_fn,1200,1\n" + // during: 1 old, 1 new
		"decision_fn,2500,1\n" + "decision_tp,2100,1\n" + // after: 1 new, 1 old (wrong index)
		"decision_error,2600,1\n"
	path := filepath.Join(t.TempDir(), "samples.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	base := time.UnixMilli(0)
	roll := stack.Roll{Steps: []stack.Step{{Stop: base.Add(1000 * time.Millisecond)}, {Ready: base.Add(2000 * time.Millisecond)}}}
	got, err := readTimeline(path, roll)
	if err != nil {
		t.Fatal(err)
	}
	want := timeline{BeforeOld: 2, BeforeNew: 1, DuringOld: 1, DuringNew: 1, AfterOld: 1, AfterNew: 1, Errors: 1,
		FirstNewMs: -50, LastOldMs: 1100, BothMs: 1150}
	if got != want {
		t.Errorf("timeline\n got %+v\nwant %+v", got, want)
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("decision_tp,soon,1\n"), 0o644)
	if _, err := readTimeline(bad, roll); err == nil || !strings.Contains(err.Error(), `"soon"`) {
		t.Errorf("a bad timestamp: %v; want an error naming it", err)
	}
}

// TestReport: faults.json keeps its flat keys, each drill's result among
// them, and the reindex drill counts its wrong answers by index, not by
// k6's labels.
func TestReport(t *testing.T) {
	var res loadtest.Results
	res.Requests, res.Breakdown.Errors, res.Breakdown.FP, res.Breakdown.FN, res.Latency.P99 = 36000, 0, 2, 1, 0.961

	stop := report{Fault: "kill9", Rate: 600, Seconds: 60, StopResult: &StopResult{API1AfterRestart: 6328}}
	stop.count(&res)
	b, err := json.Marshal(stop)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for key, want := range map[string]any{"fault": "kill9", "requests": 36000.0, "failed": 0.0, "wrong": 3.0, "p99_ms": 0.961, "api1_requests_after_restart": 6328.0} {
		if m[key] != want {
			t.Errorf("faults.json %s = %v, want %v (%s)", key, m[key], want, b)
		}
	}
	if _, ok := m["p99_alone_ms"]; ok {
		t.Errorf("a kill9 report carries the slow drill's fields: %s", b)
	}
	if line := stop.line("runs/x/faults.json"); line != "kill9: 36000 requests, 0 failed, 3 wrong, p99 0.961 ms; runs/x/faults.json" {
		t.Errorf("line: %q", line)
	}

	re := report{Fault: "reindex", ReindexResult: &ReindexResult{WrongIndex: 0}}
	re.count(&res)
	if re.Wrong != 0 {
		t.Errorf("reindex: %d wrong; the new index's answers are its design, only answers from the wrong index count", re.Wrong)
	}
}
