package server

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"fraudknn/artifact"
	"fraudknn/internal/decision"
	"fraudknn/internal/payloads"
	"fraudknn/internal/testenv"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

// explanation is the answer of POST /fraud-score/explain, decoded.
type explanation struct {
	Approved   *bool     `json:"approved"`
	FraudScore *float64  `json:"fraud_score"`
	Vector     []int16   `json:"vector"`
	VectorReal []float64 `json:"vector_real"`
	Neighbors  []struct {
		Position        uint32  `json:"position"`
		Label           string  `json:"label"`
		SquaredDistance uint32  `json:"squared_distance"`
		Distance        float64 `json:"distance"`
	} `json:"neighbors"`
}

// checkExplanation checks an explained answer against the query vector v
// and want, the brute-force result for it.
func checkExplanation(t *testing.T, name, body string, v vector.Vector, want *knn.Result) {
	t.Helper()
	var e explanation
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Approved == nil || e.FraudScore == nil {
		t.Fatalf("%s: unreadable explanation (%v): %s", name, err, body)
	}
	// The decision is /fraud-score's, word for word.
	plain := string(decision.Body(want.Frauds))
	if !strings.HasPrefix(body, plain[:len(plain)-1]+",") {
		t.Fatalf("%s: explanation %.80s… does not start with /fraud-score's answer %s", name, body, plain)
	}
	if len(e.Vector) != vector.Dims || len(e.VectorReal) != vector.Dims {
		t.Fatalf("%s: vector of %d and %d values", name, len(e.Vector), len(e.VectorReal))
	}
	for d, x := range v {
		if e.Vector[d] != x || e.VectorReal[d] != float64(x)/vector.Scale {
			t.Fatalf("%s: dimension %d is %d (%g); the query's is %d", name, d, e.Vector[d], e.VectorReal[d], x)
		}
	}
	got := want.List()
	if len(e.Neighbors) != len(got) {
		t.Fatalf("%s: %d neighbours; brute force finds %d", name, len(e.Neighbors), len(got))
	}
	for i, n := range e.Neighbors {
		w := got[i]
		label := map[uint8]string{0: "legit", 1: "fraud"}[w.Label]
		real := math.Sqrt(float64(w.Dist)) / vector.Scale
		if n.Position != w.Pos || n.Label != label || n.SquaredDistance != w.Dist || n.Distance != real {
			t.Fatalf("%s: neighbour %d is %+v; brute force finds position %d, %s, squared distance %d (%g)",
				name, i, n, w.Pos, label, w.Dist, real)
		}
	}
}

// randomIndex builds an index of n vectors: the vectors of request
// bodies, some of them twice (equal distances, broken by position), and
// random vectors on a coarse grid (more ties), in k clusters assigned at
// random, with random labels. It returns the vectors in original order.
func randomIndex(t *testing.T, seed uint64, n, k int) (*knn.Index, []int16, []uint8) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 17))
	vecs := make([]int16, 0, n*vector.Dims)
	labels := make([]uint8, n)
	assign := make([]uint32, n)
	for i := range n {
		var v [vector.Dims]int16
		switch rng.IntN(3) {
		case 0:
			x, err := vectorize.Vectorize(warmBody(rng.IntN(400)))
			if err != nil {
				t.Fatal(err)
			}
			v = x
		default:
			for d := range v {
				v[d] = int16(rng.IntN(5) * 2500)
				if (d == 5 || d == 6) && rng.IntN(4) == 0 {
					v[d] = -vector.MaxValue
				}
			}
		}
		vecs = append(vecs, v[:]...)
		labels[i] = uint8(rng.IntN(2))
		assign[i] = uint32(i % k)
		if i >= k {
			assign[i] = uint32(rng.IntN(k))
		}
	}
	ix, err := knn.Build(vecs, labels, assign, k)
	if err != nil {
		t.Fatal(err)
	}
	return ix, vecs, labels
}

// serveIndex serves ix on in-memory listeners and returns a client (see
// serveBoth).
func serveIndex(t *testing.T, ix *knn.Index) *fasthttp.Client {
	t.Helper()
	s := New(log.New(io.Discard, "", 0))
	s.ServeIndex(ix, 50)
	return serveBoth(t, s)
}

// TestExplainMatchesBruteForce explains requests over random indexes and
// checks every neighbour list against the brute-force oracle, and every
// decision against /fraud-score's for the same body.
func TestExplainMatchesBruteForce(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		ix, vecs, labels := randomIndex(t, seed, 3000, 24)
		c := serveIndex(t, ix)
		rng := rand.New(rand.NewPCG(seed, 99))
		var want knn.Result
		for i := range 100 {
			body := warmBody(rng.IntN(800))
			v, err := vectorize.Vectorize(body)
			if err != nil {
				t.Fatal(err)
			}
			knn.BruteForce(vecs, labels, (*[vector.Dims]int16)(&v), decision.Neighbors, &want)
			name := fmt.Sprintf("seed %d, query %d", seed, i)
			code, got, h := doAt(t, c, "operator", "POST", ExplainPath, string(body))
			if code != 200 || string(h.ContentType()) != "application/json" {
				t.Fatalf("%s: %d (%s) %s", name, code, h.ContentType(), got)
			}
			checkExplanation(t, name, got, v, &want)
			if _, plain, _ := do(t, c, "POST", "/fraud-score", string(body)); !strings.HasPrefix(got, plain[:len(plain)-1]) {
				t.Fatalf("%s: /fraud-score answers %s, the explanation %.60s…", name, plain, got)
			}
		}
	}
}

// TestExplainSharedPayloads explains a sample of the shared payloads with
// the real artifact: the neighbours equal a brute-force scan of all the
// references, and the decision is the payload's expected one.
func TestExplainSharedPayloads(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the full-data explanations in -short mode")
	}
	path := os.Getenv("FRAUDKNN_ARTIFACT")
	if path == "" {
		t.Skip("skipping: FRAUDKNN_ARTIFACT does not name the full artifact (`make test` sets it when the data is present)")
	}
	p, err := payloads.Load(testenv.DataFile(t, "test-data.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Map(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	s := New(log.New(io.Discard, "", 0))
	s.ServeIndex(a.Index, 100)
	vecs, labels := a.Index.Original()
	const sample = 48
	var ctx fasthttp.RequestCtx
	var want knn.Result
	for j := range sample {
		i := j * len(p.Entries) / sample
		e := p.Entries[i]
		v, err := vectorize.Vectorize(e.Request)
		if err != nil {
			t.Fatalf("payload %d: %v", i, err)
		}
		knn.BruteForce(vecs, labels, (*[vector.Dims]int16)(&v), decision.Neighbors, &want)
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI(ExplainPath)
		ctx.Request.SetBody(e.Request)
		s.OperatorHandler(&ctx)
		name := fmt.Sprintf("payload %d", i)
		if ctx.Response.StatusCode() != 200 {
			t.Fatalf("%s: %d %s", name, ctx.Response.StatusCode(), ctx.Response.Body())
		}
		checkExplanation(t, name, string(ctx.Response.Body()), v, &want)
		if approved, _ := decision.Decide(want.Frauds); approved != e.ExpectedApproved {
			t.Fatalf("%s: approved %v; the payload expects %v", name, approved, e.ExpectedApproved)
		}
	}
}

// TestExplainMatrix sends the bad-input matrix to the explain route on
// the operator listener: the same statuses and errors as /fraud-score,
// and the same explanation for the same transaction written differently.
func TestExplainMatrix(t *testing.T) {
	_, c, _ := serve(t, true)
	do := func(method, path, contentType, body string) (int, string) {
		code, b, _ := doCTAt(t, c, "operator", method, path, contentType, body)
		return code, b
	}
	_, base := do("POST", ExplainPath, "application/json", testenv.SpecLegit)
	if !strings.Contains(base, `"neighbors":[{`) {
		t.Fatalf("the base request's explanation: %s", base)
	}
	for _, row := range testenv.Matrix(testenv.SpecLegit) {
		testenv.CheckRow(t, row.At(ExplainPath), base, do)
	}
	code, body, h := doCTAt(t, c, "operator", "GET", ExplainPath, "", "")
	if code != 405 || string(h.Peek("Allow")) != "POST" || !strings.Contains(body, "not allowed on "+ExplainPath) {
		t.Fatalf("GET %s: %d %s (Allow %q)", ExplainPath, code, body, h.Peek("Allow"))
	}
}

// TestExplainNotReady: before ServeIndex the route answers 503, as /fraud-score.
func TestExplainNotReady(t *testing.T) {
	_, c, _ := serve(t, false)
	if code, body, _ := doAt(t, c, "operator", "POST", ExplainPath, testenv.SpecLegit); code != 503 || !strings.Contains(body, "not ready") {
		t.Fatalf("%s before ServeIndex: %d %s", ExplainPath, code, body)
	}
}

// TestExplainAllocations counts the explain route's allocations per
// request: it builds its answer on the stack, so none.
func TestExplainAllocations(t *testing.T) {
	a := allocsThrough(t, (*Service).OperatorHandler, ExplainPath)
	t.Logf("POST %s: %v allocations per request", ExplainPath, a)
	if a > 0 {
		t.Fatalf("POST %s allocates %v times per request; want 0", ExplainPath, a)
	}
}

// TestExplanationFitsScratch: the longest explanation possible (every
// coordinate and distance at its widest) fits the handler's scratch, so
// the append never moves to the heap.
func TestExplanationFitsScratch(t *testing.T) {
	var v vector.Vector
	var r knn.Result
	for d := range v {
		v[d] = -1234 // the widest: a sign and four digits, "-0.1234"
	}
	r.Count, r.Frauds = decision.Neighbors, 2
	for i := range r.Count {
		r.Neighbors[i] = knn.Neighbor{Dist: 1999999999, Pos: 4294967295, Label: 0}
	}
	if n := len(AppendExplanation(nil, &v, &r)); n > explainScratch {
		t.Fatalf("the longest explanation takes %d bytes; the scratch has %d", n, explainScratch)
	}
}
