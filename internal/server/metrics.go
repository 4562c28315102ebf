package server

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"fraudknn/internal/decision"
)

// Metrics counts what the service did, with atomics only, so that the
// request path stays free of locks and allocations. WritePrometheus
// renders it in the Prometheus text format.
type Metrics struct {
	status  [len(statusCodes) + 1]atomic.Uint64 // by statusCodes index; last: any other
	frauds  [decision.Neighbors + 1]atomic.Uint64
	latency histogram
	scanned histogram
}

// statusCodes are the statuses the service answers with.
var statusCodes = [...]int{200, 400, 404, 405, 408, 413, 431, 500, 503}

var (
	latencyBuckets = []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 50e-3} // seconds
	scannedBuckets = []float64{256, 512, 1024, 2048, 4096, 8192, 16384, 65536}                  // vectors
)

// histogram is a Prometheus histogram with fixed buckets.
type histogram struct {
	counts [16]atomic.Uint64 // per bucket, the last used for +Inf
	sum    atomic.Uint64     // in the unit given to add
	count  atomic.Uint64
}

func (h *histogram) add(bounds []float64, v float64, sumUnits uint64) {
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(sumUnits)
	h.count.Add(1)
}

func (h *histogram) reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.sum.Store(0)
	h.count.Store(0)
}

func (m *Metrics) observe(status int, d time.Duration) {
	i := 0
	for i < len(statusCodes) && statusCodes[i] != status {
		i++
	}
	m.status[i].Add(1)
	if d > 0 {
		m.latency.add(latencyBuckets, d.Seconds(), uint64(d.Nanoseconds()))
	}
}

func (m *Metrics) decided(frauds, scanned int) {
	m.frauds[frauds].Add(1)
	m.scanned.add(scannedBuckets, float64(scanned), uint64(scanned))
}

func (m *Metrics) reset() {
	for i := range m.status {
		m.status[i].Store(0)
	}
	for i := range m.frauds {
		m.frauds[i].Store(0)
	}
	m.latency.reset()
	m.scanned.reset()
}

// Requests returns the number of requests answered with status.
func (m *Metrics) Requests(status int) uint64 {
	for i, c := range statusCodes {
		if c == status {
			return m.status[i].Load()
		}
	}
	return m.status[len(statusCodes)].Load()
}

// WritePrometheus writes the metrics in the Prometheus text format.
func (m *Metrics) WritePrometheus(w io.Writer, ready bool) {
	r := 0
	if ready {
		r = 1
	}
	fmt.Fprintf(w, "# HELP fraudknn_ready 1 once the index is loaded and warmed.\n# TYPE fraudknn_ready gauge\nfraudknn_ready %d\n", r)
	fmt.Fprintf(w, "# HELP fraudknn_requests_total HTTP requests answered, by status.\n# TYPE fraudknn_requests_total counter\n")
	for i, c := range statusCodes {
		fmt.Fprintf(w, "fraudknn_requests_total{status=\"%d\"} %d\n", c, m.status[i].Load())
	}
	fmt.Fprintf(w, "fraudknn_requests_total{status=\"other\"} %d\n", m.status[len(statusCodes)].Load())
	fmt.Fprintf(w, "# HELP fraudknn_decisions_total Scored transactions, by frauds among the 5 nearest references and decision.\n# TYPE fraudknn_decisions_total counter\n")
	for f := range m.frauds {
		approved, score := decision.Decide(f)
		fmt.Fprintf(w, "fraudknn_decisions_total{fraud_score=\"%.1f\",approved=\"%v\"} %d\n", score, approved, m.frauds[f].Load())
	}
	m.latency.write(w, "fraudknn_request_duration_seconds", "Time in the handler, from routing to the response body.", latencyBuckets, 1e-9)
	m.scanned.write(w, "fraudknn_vectors_scanned", "Reference vectors whose distance a search computed.", scannedBuckets, 1)
}

func (h *histogram) write(w io.Writer, name, help string, bounds []float64, unit float64) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum uint64
	for i, b := range bounds {
		cum += h.counts[i].Load()
		fmt.Fprintf(w, "%s_bucket{le=\"%g\"} %d\n", name, b, cum)
	}
	cum += h.counts[len(bounds)].Load()
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, cum, name, float64(h.sum.Load())*unit, name, h.count.Load())
}
