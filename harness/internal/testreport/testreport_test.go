package testreport

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// events is a `go test -json` stream as Go 1.26 writes it: a package with
// a passing, a skipped and a failing test (whose subtest failed), a
// package without tests, and a package that does not build.
const events = `{"Action":"start","Package":"p/a"}
{"Action":"run","Package":"p/a","Test":"TestPass"}
{"Action":"output","Package":"p/a","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Action":"output","Package":"p/a","Test":"TestPass","Output":"    a_test.go:9: a log line of a passing test\n"}
{"Action":"output","Package":"p/a","Test":"TestPass","Output":"--- PASS: TestPass (0.00s)\n"}
{"Action":"pass","Package":"p/a","Test":"TestPass","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestNeedsData"}
{"Action":"output","Package":"p/a","Test":"TestNeedsData","Output":"=== RUN   TestNeedsData\n"}
{"Action":"output","Package":"p/a","Test":"TestNeedsData","Output":"    a_test.go:20: skipping: no data (set FRAUDKNN_DATA)\n"}
{"Action":"output","Package":"p/a","Test":"TestNeedsData","Output":"--- SKIP: TestNeedsData (0.00s)\n"}
{"Action":"skip","Package":"p/a","Test":"TestNeedsData","Elapsed":0}
{"Action":"run","Package":"p/a","Test":"TestFails"}
{"Action":"output","Package":"p/a","Test":"TestFails","Output":"=== RUN   TestFails\n"}
{"Action":"run","Package":"p/a","Test":"TestFails/case"}
{"Action":"output","Package":"p/a","Test":"TestFails/case","Output":"=== RUN   TestFails/case\n"}
{"Action":"output","Package":"p/a","Test":"TestFails/case","Output":"    a_test.go:31: got 1, want 2\n"}
{"Action":"output","Package":"p/a","Test":"TestFails/case","Output":"    --- FAIL: TestFails/case (0.00s)\n"}
{"Action":"fail","Package":"p/a","Test":"TestFails/case","Elapsed":0}
{"Action":"output","Package":"p/a","Test":"TestFails","Output":"--- FAIL: TestFails (0.00s)\n"}
{"Action":"fail","Package":"p/a","Test":"TestFails","Elapsed":0}
{"Action":"output","Package":"p/a","Output":"FAIL\n"}
{"Action":"output","Package":"p/a","Output":"FAIL\tp/a\t0.010s\n"}
{"Action":"fail","Package":"p/a","Elapsed":0.01}
{"Action":"start","Package":"p/empty"}
{"Action":"output","Package":"p/empty","Output":"?   \tp/empty\t[no test files]\n"}
{"Action":"skip","Package":"p/empty","Elapsed":0}
{"ImportPath":"p/broken","Action":"build-output","Output":"# p/broken\n"}
{"ImportPath":"p/broken","Action":"build-output","Output":"broken.go:3:1: syntax error\n"}
{"ImportPath":"p/broken","Action":"build-fail"}
`

func TestStream(t *testing.T) {
	var out bytes.Buffer
	res, err := Stream(strings.NewReader(events), &out)
	if err != nil {
		t.Fatal(err)
	}
	want := "    a_test.go:31: got 1, want 2\n" +
		"    --- FAIL: TestFails/case (0.00s)\n" +
		"--- FAIL: TestFails (0.00s)\n" +
		"FAIL\n" +
		"FAIL\tp/a\t0.010s\n" +
		"?   \tp/empty\t[no test files]\n" +
		"# p/broken\n" +
		"broken.go:3:1: syntax error\n"
	if out.String() != want {
		t.Errorf("printed:\n%s\nwant what plain go test prints:\n%s", out.String(), want)
	}
	if !res.Failed {
		t.Error("a failed test and a failed build: Failed is false")
	}
	wantSkips := []Skip{{"p/a", "TestNeedsData", "skipping: no data (set FRAUDKNN_DATA)"}}
	if !slices.Equal(res.Skipped, wantSkips) {
		t.Errorf("skipped %+v, want %+v (a package without tests is not a skipped test)", res.Skipped, wantSkips)
	}
}

func TestStreamPassing(t *testing.T) {
	var out bytes.Buffer
	res, err := Stream(strings.NewReader(`{"Action":"pass","Package":"p/a","Test":"TestX"}
{"Action":"output","Package":"p/a","Output":"PASS\n"}
{"Action":"output","Package":"p/a","Output":"ok  \tp/a\t0.01s\n"}
{"Action":"pass","Package":"p/a"}
`), &out)
	if err != nil || res.Failed || len(res.Skipped) != 0 {
		t.Errorf("a passing run: Failed %v, skipped %v, err %v", res.Failed, res.Skipped, err)
	}
	if out.String() != "ok  \tp/a\t0.01s\n" {
		t.Errorf("printed %q, want only the package's ok line", out.String())
	}
}

// TestStreamNotJSON: go's own errors (a bad flag, a pattern matching
// nothing) come before any event, as plain text; they are shown and fail
// the run.
func TestStreamNotJSON(t *testing.T) {
	var out bytes.Buffer
	res, _ := Stream(strings.NewReader("go: no packages to test\n"), &out)
	if !res.Failed || out.String() != "go: no packages to test\n" {
		t.Errorf("plain text: Failed %v, printed %q; want it shown and failing", res.Failed, out.String())
	}
}

func TestSummarize(t *testing.T) {
	var out bytes.Buffer
	Summarize(&out, []Run{
		{"product", []Skip{{"p/a", "TestNeedsData", "no data"}}},
		{"purego", []Skip{{"p/a", "TestNeedsData", "no data"}, {"p/a", "TestAVX2", "no AVX2"}}},
	})
	want := "2 tests skipped (go test -v -run NAME PACKAGE runs one and shows why):\n" +
		"  p/a TestNeedsData [product, purego]: no data\n" +
		"  p/a TestAVX2 [purego]: no AVX2\n"
	if out.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	Summarize(&out, []Run{{"product", nil}})
	if out.String() != "no test was skipped\n" {
		t.Errorf("nothing skipped: %q", out.String())
	}
}
