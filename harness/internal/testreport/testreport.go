// Package testreport reads the event stream of `go test -json` (see
// `go doc test2json`), prints what a plain `go test` would print, and
// remembers each skipped test with the reason its t.Skip gave, so that
// `make test` can end by naming every test it did not run.
package testreport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// event is one line of `go test -json` output; the fields the report
// uses.
type event struct {
	Action     string
	Package    string
	ImportPath string // build events name the package here
	Test       string
	Output     string
}

// Skip is a test that called t.Skip, with what it printed before.
type Skip struct {
	Package string `json:"package"`
	Test    string `json:"test"`
	Reason  string `json:"reason"`
}

// Result is what one `go test -json` run came to.
type Result struct {
	Failed  bool   // a test, a package or a build failed
	Skipped []Skip // in the order the tests ended
}

// Stream copies the concise report of the events read from r to w: the
// lines go test prints without -v (each package's ok/FAIL line, the output
// of failed tests, build errors), and collects the skipped tests. A line
// that is not an event (go's own error before any package runs) is
// copied as it is and counts as a failure.
func Stream(r io.Reader, w io.Writer) (Result, error) {
	var res Result
	// A test's output is held until it ends: printed if it failed,
	// kept as the reason if it skipped, dropped if it passed.
	held := map[[2]string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line)
			res.Failed = true
			continue
		}
		if e.Package == "" {
			e.Package = e.ImportPath
		}
		key := [2]string{e.Package, e.Test}
		switch {
		case e.Action == "build-output":
			io.WriteString(w, e.Output)
		case e.Action == "build-fail":
			res.Failed = true
		case e.Test == "":
			// The package's own lines; a package without tests
			// "skips", which is no test skipped.
			if e.Action == "output" && e.Output != "PASS\n" {
				io.WriteString(w, e.Output)
			}
			if e.Action == "fail" {
				res.Failed = true
			}
		case e.Action == "output":
			held[key] = append(held[key], e.Output)
		case e.Action == "fail":
			res.Failed = true
			for _, out := range held[key] {
				if !isProgressLine(out) {
					io.WriteString(w, out)
				}
			}
			delete(held, key)
		case e.Action == "skip":
			res.Skipped = append(res.Skipped, Skip{e.Package, e.Test, reason(held[key])})
			delete(held, key)
		case e.Action == "pass":
			delete(held, key)
		}
	}
	return res, sc.Err()
}

// isProgressLine reports whether a line of test output is one of the
// "=== RUN", "=== PAUSE", "=== CONT" lines that -json turns on.
func isProgressLine(out string) bool {
	return strings.HasPrefix(out, "=== ")
}

// reason joins what a skipped test printed, without the framing lines
// (=== RUN, --- SKIP) and the file:line prefix of t.Skip.
func reason(outs []string) string {
	var parts []string
	for _, out := range outs {
		s := strings.TrimSpace(out)
		if s == "" || isProgressLine(out) || strings.HasPrefix(s, "--- SKIP") {
			continue
		}
		if i := strings.Index(s, ": "); i > 0 && strings.Contains(s[:i], ".go:") {
			s = s[i+2:]
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, "; ")
}

// Run is the skipped tests of one `go test` run, named for the summary
// (the product's tests, again with -tags purego, the harness's).
type Run struct {
	Name    string
	Skipped []Skip
}

// Summarize writes, after every run, one line per skipped test with the
// runs it was skipped in and its reason, or that none was skipped.
func Summarize(w io.Writer, runs []Run) {
	type key struct{ pkg, test, reason string }
	var order []key
	in := map[key][]string{}
	for _, r := range runs {
		for _, s := range r.Skipped {
			k := key{s.Package, s.Test, s.Reason}
			if _, seen := in[k]; !seen {
				order = append(order, k)
			}
			in[k] = append(in[k], r.Name)
		}
	}
	if len(order) == 0 {
		fmt.Fprintln(w, "no test was skipped")
		return
	}
	fmt.Fprintf(w, "%d tests skipped (go test -v -run NAME PACKAGE runs one and shows why):\n", len(order))
	for _, k := range order {
		fmt.Fprintf(w, "  %s %s [%s]: %s\n", k.pkg, k.test, strings.Join(in[k], ", "), k.reason)
	}
}
