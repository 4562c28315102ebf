package loadtest

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestScoreFormula runs k6/score.js's score function, the contest's
// formula, in k6 itself (no stack: a script that imports it and prints
// what it returns) on cases whose figures are known: a CI lane's score line
// and the formula's edges.
func TestScoreFormula(t *testing.T) {
	k6, err := filepath.Abs("../../../.tools/bin/k6")
	if err == nil {
		_, err = os.Stat(k6)
	}
	if err != nil {
		t.Skipf("skipping: no k6 at %s (make k6 builds it)", k6)
	}
	dir := t.TempDir()
	payloads := filepath.Join(dir, "payloads.json")
	os.WriteFile(payloads, []byte(`[{"request":{"id":"tx-1"},"expected_approved":true,"expected_fraud_score":0}]`), 0o644)
	script, err := filepath.Abs("../../../k6/score.js")
	if err != nil {
		t.Fatal(err)
	}
	test := filepath.Join(dir, "formula.js")
	os.WriteFile(test, []byte(`import { score } from '`+script+`';
const c = (tp, tn, fp, fn, errors) => ({ tp, tn, fp, fn, errors });
const got = [
  score(2.093, c(1300, 1709, 0, 0, 0)),   // a CI lane's line: score 5679.3 (p99 rounded)
  score(0.5, c(500, 500, 0, 0, 0)),       // p99 under 1 ms, no error: the best, 6000
  score(2500, c(500, 500, 0, 0, 0)),      // p99 over 2 s: -3000 for latency
  score(1, c(400, 400, 100, 100, 0)),     // 20 % failed: -3000 for detection
  score(1, c(499, 500, 1, 0, 0)),         // one FP in 1000
];
export const options = { iterations: 1, vus: 1 };
export default function () {}
export function handleSummary() { return { stdout: JSON.stringify(got) }; }
`), 0o644)
	cmd := exec.Command(k6, "run", "--quiet", "--no-usage-report", test)
	cmd.Env = append(os.Environ(), "PAYLOADS="+payloads, "K6_NO_USAGE_REPORT=true")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("k6: %v\n%s", err, out)
	}
	var got []struct {
		FinalScore     float64 `json:"final_score"`
		P99Score       float64 `json:"p99_score"`
		DetectionScore float64 `json:"detection_score"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("k6 printed %q: %v", out, err)
	}
	// SPEC.md: the latency part is 1000·log10(1000 ms / p99), at most
	// 3000; one FP in 1000 is weighted 1, eps 0.001, so its detection
	// part is 3000 − 300·log10(2).
	ci := 1000 * math.Log10(1000/2.093) // 2679.25: the CI line's score 5679.3, from the unrounded p99
	onePP := 3000 - 300*math.Log10(2)
	want := []struct{ final, p99, det float64 }{
		{ci + 3000, ci, 3000},
		{6000, 3000, 3000},
		{0, -3000, 3000},
		{3000 - 3000, 3000, -3000},
		{3000 + onePP, 3000, onePP},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(got), len(want), out)
	}
	for i, w := range want {
		g := got[i]
		if math.Abs(g.FinalScore-w.final) > 1e-6 || math.Abs(g.P99Score-w.p99) > 1e-6 || math.Abs(g.DetectionScore-w.det) > 1e-6 {
			t.Errorf("case %d: score %.3f (latency %.3f, detection %.3f); want %.3f (%.3f, %.3f)", i, g.FinalScore, g.P99Score, g.DetectionScore, w.final, w.p99, w.det)
		}
	}
}

func TestReadResults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	os.WriteFile(path, []byte(`{"latency_ms":{"p50":0.4,"p90":0.8,"p99":2.093,"max":9.5},"breakdown":{"tp":1300,"tn":1709,"fp":0,"fn":0,"errors":0},"requests":3009,"final_score":5679.3,"p99_score":2679.3}`), 0o644)
	r, err := ReadResults(path)
	if err != nil {
		t.Fatal(err)
	}
	if line := r.Line(); line != "score 5679.3 (p99 2.093 ms, FP 0, FN 0, errors 0, requests 3009)" {
		t.Errorf("line %q", line)
	}
	if !r.Clean() {
		t.Error("no FP, FN or error, yet not clean")
	}
	os.WriteFile(path, []byte(`{"latency_ms":`), 0o644)
	if _, err := ReadResults(path); err == nil {
		t.Error("a truncated results.json was read")
	}
}
