package server

import (
	"math"
	"strconv"

	"github.com/valyala/fasthttp"

	"fraudknn/knn"
	"fraudknn/vector"
)

// ExplainPath is the route that answers like /fraud-score and adds the
// evidence: the query vector and the neighbours the vote counted. It sits
// under /fraud-score because it is the same resource seen in more detail:
// the same method, body, limits and errors.
const ExplainPath = "/fraud-score/explain"

// explainScratch is room for a whole explanation (about 900 bytes), so
// that building one does not reach the heap.
const explainScratch = 2048

// explain answers POST /fraud-score/explain, on the operator listener
// only: the public router does not know the route, so /fraud-score's own
// path gains no branch and port 9999 never explains.
func (s *Service) explain(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		s.fail(ctx, fasthttp.StatusMethodNotAllowed, "method "+string(ctx.Method())+" not allowed on "+ExplainPath+"; use POST")
		return
	}
	w, pool, v, ok := s.search(ctx)
	if !ok {
		return
	}
	var scratch [explainScratch]byte
	body := AppendExplanation(scratch[:0], &v, &w.r)
	pool.Put(w)
	ctx.SetContentTypeBytes(contentJSON)
	ctx.SetBody(body)
}

// AppendExplanation appends the explained answer for query v and its
// search result r to dst: the decision exactly as /fraud-score words it,
// then the query vector (the int16 values at vector.Scale and the real
// values), then the neighbours nearest first, which is the order of the
// search and of the vote: each one's position in the reference file
// (0-based), its label, its squared distance as the exact integer (at
// Scale², so 10⁸ is 1.0) and its distance as a real number. docs/API.md
// shows an example.
func AppendExplanation(dst []byte, v *vector.Vector, r *knn.Result) []byte {
	answer := answers[r.Frauds]
	dst = append(dst, answer[:len(answer)-1]...) // without its closing brace
	dst = append(dst, `,"vector":[`...)
	for i, x := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, int64(x), 10)
	}
	dst = append(dst, `],"vector_real":[`...)
	for i, x := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendFloat(dst, float64(x)/vector.Scale, 'f', -1, 64)
	}
	dst = append(dst, `],"neighbors":[`...)
	for i, n := range r.List() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"position":`...)
		dst = strconv.AppendUint(dst, uint64(n.Pos), 10)
		dst = append(dst, `,"label":"`...)
		dst = append(dst, labelNames[n.Label&1]...)
		dst = append(dst, `","squared_distance":`...)
		dst = strconv.AppendUint(dst, uint64(n.Dist), 10)
		dst = append(dst, `,"distance":`...)
		dst = strconv.AppendFloat(dst, math.Sqrt(float64(n.Dist))/vector.Scale, 'f', -1, 64)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// labelNames are the labels as the reference file spells them.
var labelNames = [2]string{"legit", "fraud"}
