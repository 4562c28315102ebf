package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"fraudknn/internal/server"
	"fraudknn/internal/testenv"
)

// TestStackExplain asks each API's operator listener for the explanation
// of SPEC.md's examples: the decision /fraud-score gives, and 5
// neighbours nearest first whose labels make that decision.
func TestStackExplain(t *testing.T) {
	for _, url := range operatorURLs(t) {
		t.Run(url, func(t *testing.T) { checkExplain(t, url) })
	}
}

func checkExplain(t *testing.T, url string) {
	for _, c := range []struct{ body, want string }{
		{testenv.SpecLegit, testenv.SpecLegitAnswer},
		{testenv.SpecFraud, testenv.SpecFraudAnswer},
	} {
		code, body, h := post(t, "POST", url+server.ExplainPath, c.body)
		if code != 200 || h.Get("Content-Type") != "application/json" || !strings.HasPrefix(body, c.want[:len(c.want)-1]+",") {
			t.Fatalf("got %d %s (%s); want 200 starting with %s", code, body, h.Get("Content-Type"), c.want)
		}
		var e struct {
			FraudScore float64 `json:"fraud_score"`
			Neighbors  []struct {
				Label           string `json:"label"`
				SquaredDistance uint32 `json:"squared_distance"`
			} `json:"neighbors"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || len(e.Neighbors) != 5 {
			t.Fatalf("explanation (%v): %s", err, body)
		}
		frauds := 0
		for i, n := range e.Neighbors {
			if n.Label == "fraud" {
				frauds++
			}
			if i > 0 && n.SquaredDistance < e.Neighbors[i-1].SquaredDistance {
				t.Fatalf("neighbours out of order: %s", body)
			}
		}
		if float64(frauds)/5 != e.FraudScore {
			t.Fatalf("%d fraud neighbours for fraud_score %g: %s", frauds, e.FraudScore, body)
		}
	}
}

// TestStackExplainMatrix runs the bad-input matrix at the explain route
// of an operator listener: its statuses and errors are /fraud-score's.
func TestStackExplainMatrix(t *testing.T) {
	url := operatorURLs(t)[0]
	do := func(method, path, contentType, body string) (int, string) {
		return matrixPost(t, method, url+path, contentType, body)
	}
	_, base := do("POST", server.ExplainPath, "application/json", testenv.SpecLegit)
	for _, row := range testenv.Matrix(testenv.SpecLegit) {
		testenv.CheckRow(t, row.At(server.ExplainPath), base, do)
	}
}
