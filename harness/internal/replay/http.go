package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"fraudknn/internal/decision"
	"fraudknn/internal/payloads"
)

// HTTPSummary counts what an HTTP replay found.
type HTTPSummary struct {
	N, Conns      int
	Wrong         int
	FP, FN        int
	ScoreMismatch int
	Errors        int // transport errors, non-200 statuses, unreadable answers

	LatencyP50, LatencyP99, LatencyMax time.Duration
}

// OK reports whether every answer was right and nothing failed.
func (s HTTPSummary) OK() bool { return s.Wrong == 0 && s.ScoreMismatch == 0 && s.Errors == 0 }

func (s HTTPSummary) String() string {
	return fmt.Sprintf("replayed %d payloads over HTTP (%d connections): %d wrong (FP %d, FN %d), %d fraud_score mismatches, %d errors; latency p50 %.3f ms, p99 %.3f ms, max %.3f ms",
		s.N, s.Conns, s.Wrong, s.FP, s.FN, s.ScoreMismatch, s.Errors,
		float64(s.LatencyP50)/1e6, float64(s.LatencyP99)/1e6, float64(s.LatencyMax)/1e6)
}

// RunHTTP posts every entry to url + "/fraud-score" over conns keep-alive
// connections and compares each answer with the expected one.
func RunHTTP(url string, entries []payloads.Entry, conns int, opt Options) HTTPSummary {
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true},
	}
	sum := HTTPSummary{N: len(entries), Conns: conns}
	times := make([]time.Duration, len(entries))
	var mu sync.Mutex
	shown := 0
	show := func(format string, args ...any) {
		if shown < opt.Show {
			shown++
			fmt.Fprintf(log, format, args...)
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Go(func() {
			for i := range next {
				e := entries[i]
				t0 := time.Now()
				resp, err := client.Post(url+"/fraud-score", "application/json", bytes.NewReader(e.Request))
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				times[i] = time.Since(t0)
				var got struct {
					Approved   *bool    `json:"approved"`
					FraudScore *float64 `json:"fraud_score"`
				}
				mu.Lock()
				switch {
				case err != nil:
					sum.Errors++
					show("entry %d (%s): %v\n", i, requestID(e.Request), err)
				case resp.StatusCode != http.StatusOK:
					sum.Errors++
					show("entry %d (%s): status %d: %s\n", i, requestID(e.Request), resp.StatusCode, body)
				case json.Unmarshal(body, &got) != nil || got.Approved == nil || got.FraudScore == nil:
					sum.Errors++
					show("entry %d (%s): unreadable answer %q\n", i, requestID(e.Request), body)
				default:
					if *got.Approved != e.ExpectedApproved {
						sum.Wrong++
						if *got.Approved {
							sum.FN++
						} else {
							sum.FP++
						}
					}
					if math.Abs(*got.FraudScore-e.ExpectedFraudScore) > 1e-9 {
						sum.ScoreMismatch++
					}
					if want, _ := decision.Decide(int(math.Round(*got.FraudScore * decision.Neighbors))); want != *got.Approved || *got.Approved != e.ExpectedApproved || math.Abs(*got.FraudScore-e.ExpectedFraudScore) > 1e-9 {
						show("entry %d (%s): expected approved=%v fraud_score=%g, got %s\n", i, requestID(e.Request), e.ExpectedApproved, e.ExpectedFraudScore, body)
					}
				}
				mu.Unlock()
			}
		})
	}
	for i := range entries {
		next <- i
	}
	close(next)
	wg.Wait()
	sum.LatencyP50, sum.LatencyP99 = quantile(times, 0.50), quantile(times, 0.99)
	sum.LatencyMax = times[len(times)-1]
	return sum
}
