// Package replay runs labelled test payloads through vectorize and the
// search in-process and compares every answer with the expected one.
package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"fraudknn/internal/decision"
	"fraudknn/internal/payloads"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

// Neighbors is the number of neighbours a decision looks at.
const Neighbors = decision.Neighbors

// Options tune a replay.
type Options struct {
	Show  int       // print the first Show wrong answers and errors in detail
	Brute int       // also check the neighbours of the first Brute payloads against a brute-force scan
	Log   io.Writer // where details go; nil discards them
	// Passes > 1 times every search again in Passes-1 further passes over
	// all payloads and reports, beside the first pass, the quantiles of
	// each query's fastest pass (BestP50, BestP99). Every pass sweeps the
	// whole index, so no pass finds the previous query's data in cache;
	// the fastest of several passes filters out what the machine adds
	// now and then (interrupts, a virtual CPU descheduled), which decides
	// a single pass's p99 on a noisy machine.
	Passes int
}

// Summary counts what a replay found.
type Summary struct {
	N             int // payloads replayed
	Wrong         int // approved differs from expected
	FP, FN        int // wrong answers denying a legit / approving a fraud
	ScoreMismatch int // fraud_score differs from expected
	Errors        int // payloads that failed to vectorize, or whose neighbours differ from brute force
	BruteChecked  int // payloads checked against brute force

	SearchP50, SearchP99   time.Duration
	ScannedP50, ScannedP99 int // vectors whose distance was computed

	Passes           int           // passes timed (Options.Passes)
	BestP50, BestP99 time.Duration // quantiles of each query's fastest pass, when Passes > 1
}

// OK reports whether every answer was right and nothing failed.
func (s Summary) OK() bool { return s.Wrong == 0 && s.ScoreMismatch == 0 && s.Errors == 0 }

// String is the one-line summary cmd/replay ends with.
func (s Summary) String() string {
	line := fmt.Sprintf("replayed %d payloads: %d wrong (FP %d, FN %d), %d fraud_score mismatches, %d errors; search p50 %.1f µs, p99 %.1f µs; vectors scanned p50 %d, p99 %d",
		s.N, s.Wrong, s.FP, s.FN, s.ScoreMismatch, s.Errors,
		float64(s.SearchP50)/1e3, float64(s.SearchP99)/1e3, s.ScannedP50, s.ScannedP99)
	if s.Passes > 1 {
		line += fmt.Sprintf("; fastest of %d passes per query: p50 %.1f µs, p99 %.1f µs", s.Passes, float64(s.BestP50)/1e3, float64(s.BestP99)/1e3)
	}
	return line
}

// Run replays entries against ix.
func Run(ix *knn.Index, entries []payloads.Entry, opt Options) Summary {
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	s := knn.NewSearcher(ix, Neighbors)
	var sum Summary
	times := make([]time.Duration, 0, len(entries))
	scanned := make([]int, 0, len(entries))
	var refVecs []int16
	var refLabels []uint8
	if opt.Brute > 0 {
		refVecs, refLabels = ix.Original()
	}
	shown := 0
	show := func(format string, args ...any) {
		if shown < opt.Show {
			shown++
			fmt.Fprintf(log, format, args...)
		}
	}
	var r, b knn.Result
	var queries [][vector.Dims]int16 // every query that vectorized, for further passes
	for i, e := range entries {
		sum.N++
		v, err := vectorize.Vectorize(e.Request)
		if err != nil {
			sum.Errors++
			show("entry %d (%s): vectorize: %v\n", i, requestID(e.Request), err)
			continue
		}
		q := (*[vector.Dims]int16)(&v)
		t0 := time.Now()
		s.Search(q, &r)
		times = append(times, time.Since(t0))
		if opt.Passes > 1 {
			queries = append(queries, *q)
		}
		scanned = append(scanned, r.Vectors)

		approved, score := decision.Decide(r.Frauds)
		if approved != e.ExpectedApproved {
			sum.Wrong++
			if approved {
				sum.FN++
			} else {
				sum.FP++
			}
		}
		if math.Abs(score-e.ExpectedFraudScore) > 1e-9 {
			sum.ScoreMismatch++
		}
		if approved != e.ExpectedApproved || math.Abs(score-e.ExpectedFraudScore) > 1e-9 {
			show("entry %d (%s): expected approved=%v fraud_score=%g, got approved=%v fraud_score=%g\n  vector %v\n  neighbours %s\n",
				i, requestID(e.Request), e.ExpectedApproved, e.ExpectedFraudScore, approved, score, v.Floats(), describe(r.List()))
		}
		if i < opt.Brute {
			sum.BruteChecked++
			knn.BruteForce(refVecs, refLabels, q, Neighbors, &b)
			if !slices.Equal(r.List(), b.List()) {
				sum.Errors++
				show("entry %d (%s): search and brute force disagree\n  search %s\n  brute  %s\n", i, requestID(e.Request), describe(r.List()), describe(b.List()))
			}
		}
	}
	if opt.Passes > 1 {
		best := slices.Clone(times)
		for pass := 1; pass < opt.Passes; pass++ {
			for i := range queries {
				t0 := time.Now()
				s.Search(&queries[i], &r)
				best[i] = min(best[i], time.Since(t0))
			}
		}
		sum.Passes = opt.Passes
		sum.BestP50, sum.BestP99 = quantile(best, 0.50), quantile(best, 0.99)
	}
	sum.SearchP50, sum.SearchP99 = quantile(times, 0.50), quantile(times, 0.99)
	sum.ScannedP50, sum.ScannedP99 = quantile(scanned, 0.50), quantile(scanned, 0.99)
	return sum
}

// quantile returns the q-quantile of xs (nearest rank), sorting xs.
func quantile[T int | time.Duration](xs []T, q float64) T {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(i, 0)]
}

func describe(ns []knn.Neighbor) string {
	s := ""
	for _, n := range ns {
		label := "legit"
		if n.Label == 1 {
			label = "fraud"
		}
		s += fmt.Sprintf("[pos %d dist %.4f %s] ", n.Pos, math.Sqrt(float64(n.Dist))/1e4, label)
	}
	return s
}

// requestID returns the "id" of a request body for messages, or "no id".
func requestID(body []byte) string {
	var r struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &r) != nil || r.ID == "" {
		return "no id"
	}
	return r.ID
}
