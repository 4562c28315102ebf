// Package spancost measures what a trace span per request would cost the
// API, for docs/OPERATIONS.md's "Why no tracing": the least a span is (a
// time.Now pair around the work) and a span as a tracer records and
// encodes it for export (ids, start and end, four attributes, the
// OTLP/JSON shape; the batching and sending elsewhere are not counted).
//
//	go -C research test -run '^$' -bench . -benchmem -count 3 ./spancost
package spancost

import (
	"encoding/json"
	"testing"
	"time"
)

var sink time.Duration

func BenchmarkNowPair(b *testing.B) {
	for b.Loop() {
		t0 := time.Now()
		sink += time.Since(t0)
	}
}

type span struct {
	TraceID [16]byte          `json:"traceId"`
	SpanID  [8]byte           `json:"spanId"`
	Name    string            `json:"name"`
	Start   int64             `json:"startTimeUnixNano"`
	End     int64             `json:"endTimeUnixNano"`
	Attrs   map[string]string `json:"attributes"`
}

var out []byte

func BenchmarkSpanExport(b *testing.B) {
	buf := make([]byte, 0, 4096)
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		s := span{Name: "fraud-score", Start: t0.UnixNano()}
		s.TraceID[0], s.SpanID[0] = byte(i), byte(i)
		s.Attrs = map[string]string{"http.status_code": "200", "fraud_score": "0.6", "approved": "false", "vectors_scanned": "3120"}
		s.End = time.Now().UnixNano()
		enc, err := json.Marshal(s)
		if err != nil {
			b.Fatal(err)
		}
		buf = append(buf[:0], enc...)
	}
	out = buf
}
