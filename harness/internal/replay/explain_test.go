package replay

import (
	"bufio"
	"encoding/json"
	"io"
	"log"
	"net"
	"strings"
	"testing"

	"fraudknn/internal/decision"
	"fraudknn/internal/server"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

// TestExplain checks every line Explain writes: valid JSON, the entry's
// expectation, and an answer whose decision and neighbours are a
// brute-force scan's; a broken entry gets its error.
func TestExplain(t *testing.T) {
	ix, entries := synthetic(t, 2000, 40)
	entries[7].Request = []byte(`{"transaction":`)
	var out strings.Builder
	failed, err := Explain(ix, entries, &out)
	if err != nil || failed != 1 {
		t.Fatalf("Explain: %d failed, %v", failed, err)
	}
	vecs, labels := ix.Original()
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	n := 0
	for ; sc.Scan(); n++ {
		var line struct {
			Entry            int    `json:"entry"`
			ID               string `json:"id"`
			ExpectedApproved bool   `json:"expected_approved"`
			Error            string `json:"error"`
			Answer           *struct {
				Approved  bool    `json:"approved"`
				Vector    []int16 `json:"vector"`
				Neighbors []struct {
					Position        uint32 `json:"position"`
					SquaredDistance uint32 `json:"squared_distance"`
				} `json:"neighbors"`
			} `json:"answer"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Entry != n {
			t.Fatalf("line %d (%v): %s", n, err, sc.Text())
		}
		if n == 7 {
			if line.Answer != nil || !strings.Contains(line.Error, "unexpected end of input") {
				t.Fatalf("the broken entry's line: %s", sc.Text())
			}
			continue
		}
		v, _ := vectorize.Vectorize(entries[n].Request)
		var want knn.Result
		knn.BruteForce(vecs, labels, (*[vector.Dims]int16)(&v), decision.Neighbors, &want)
		approved, _ := decision.Decide(want.Frauds)
		a := line.Answer
		if a == nil || line.ExpectedApproved != entries[n].ExpectedApproved || a.Approved != approved || len(a.Neighbors) != want.Count || a.Vector[0] != v[0] {
			t.Fatalf("line %d: %s", n, sc.Text())
		}
		for i, nb := range a.Neighbors {
			if w := want.Neighbors[i]; nb.Position != w.Pos || nb.SquaredDistance != w.Dist {
				t.Fatalf("line %d, neighbour %d: %+v; brute force: %+v", n, i, nb, w)
			}
		}
	}
	if n != len(entries) {
		t.Fatalf("%d lines for %d entries", n, len(entries))
	}
}

// TestExplainHTTP asks an operator listener (a real server.Service on a
// loopback port) for the same entries: every line equals the in-process
// one, except the broken entry's, which carries the API's 400.
func TestExplainHTTP(t *testing.T) {
	ix, entries := synthetic(t, 2000, 20)
	entries[3].Request = []byte(`{"transaction":`)
	svc := server.New(log.New(io.Discard, "", 0))
	svc.ServeIndex(ix, 10)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	op := svc.NewOperatorServer()
	go op.Serve(ln)
	defer op.Shutdown()
	var local, remote strings.Builder
	if _, err := Explain(ix, entries, &local); err != nil {
		t.Fatal(err)
	}
	failed, err := ExplainHTTP("http://"+ln.Addr().String(), entries, &remote)
	if err != nil || failed != 1 {
		t.Fatalf("ExplainHTTP: %d failed, %v", failed, err)
	}
	l, r := strings.Split(local.String(), "\n"), strings.Split(remote.String(), "\n")
	if len(l) != len(r) {
		t.Fatalf("%d lines in-process, %d over HTTP", len(l), len(r))
	}
	for i := range l {
		if i == 3 {
			if !strings.Contains(r[i], `"error":`) || !strings.Contains(r[i], ": 400 ") {
				t.Fatalf("the broken entry over HTTP: %s", r[i])
			}
			continue
		}
		if l[i] != r[i] {
			t.Fatalf("line %d differs:\nin-process %s\nover HTTP  %s", i, l[i], r[i])
		}
	}
	// The public port's answer (a 404) is an error, not an explanation.
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := svc.NewServer(server.DefaultOptions)
	go srv.Serve(pub)
	defer srv.Shutdown()
	var out strings.Builder
	if failed, err := ExplainHTTP("http://"+pub.Addr().String(), entries[:2], &out); err != nil || failed != 2 || !strings.Contains(out.String(), "404") {
		t.Fatalf("asked of the public listener: %d failed, %v: %s", failed, err, out.String())
	}
}
