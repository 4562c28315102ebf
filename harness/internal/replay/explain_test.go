package replay

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"fraudknn/internal/decision"
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
