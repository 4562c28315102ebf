package main

import (
	"strings"
	"testing"

	"fraudknn/harness/internal/loadtest"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := append([]float64(nil), c.in...)
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Errorf("median reordered its argument: %v, was %v", c.in, in)
			}
		}
	}
}

// TestSummary: the medians of three runs, then each run's line; the CPU
// per request only when every run sampled it.
func TestSummary(t *testing.T) {
	run := func(score, p99, cpu float64) *loadtest.Results {
		r := &loadtest.Results{FinalScore: score, Requests: 54000}
		r.Latency.P99 = p99
		if cpu > 0 {
			r.Cost = loadtest.Costs{Balancer: "nginx", PerRequest: map[string]loadtest.Cost{"total": {CPU: cpu}, "nginx": {CPU: cpu / 2}, "apis": {CPU: cpu / 2}}}
		}
		return r
	}
	got := summary("stack", []*loadtest.Results{run(5879.9, 1.319, 180), run(5775.6, 1.676, 190), run(5937.1, 1.156, 170)})
	first, _, _ := strings.Cut(got, "\n")
	if want := "stack, 3 runs: median score 5879.9, median p99 1.319 ms, median CPU per request 180 µs (nginx 90, api1+api2 90)"; first != want {
		t.Errorf("summary line\n got %q\nwant %q", first, want)
	}
	if n := strings.Count(got, "\n  run "); n != 3 {
		t.Errorf("%d run lines, want 3:\n%s", n, got)
	}
	got = summary("floor", []*loadtest.Results{run(6000, 0.9, 180), run(6000, 0.8, 0)})
	if strings.Contains(got, "median CPU") {
		t.Errorf("a run without CPU figures, yet a median CPU: %s", got)
	}
}

func TestParseHandled(t *testing.T) {
	metrics := "# TYPE fraudknn_request_duration_seconds histogram\n" +
		"fraudknn_request_duration_seconds_bucket{le=\"0.001\"} 90\n" +
		"fraudknn_request_duration_seconds_sum 0.0125\n" +
		"fraudknn_request_duration_seconds_count 100\n"
	if got := parseHandled(metrics); got != (handled{0.0125, 100}) {
		t.Errorf("parsed %+v, want 0.0125 s over 100 requests", got)
	}
	a, b := handled{2, 10}, handled{0.5, 4}
	if got := a.plus(b).minus(b); got != a {
		t.Errorf("plus then minus: %+v, want %+v", got, a)
	}
}
