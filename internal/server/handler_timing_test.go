package server

import (
	"io"
	"log"
	"testing"

	"github.com/valyala/fasthttp"

	"fraudknn/internal/payloads"
	"fraudknn/internal/testenv"
	"fraudknn/internal/testenv/realartifact"
)

// BenchmarkHandler answers the shared payloads through the whole handler
// (route, parse, search, answer) on the real artifact. "warm" answers
// them one after another; "cold" evicts every cache level first
// (testenv.EvictCaches, untimed), the state a request finds under load,
// so its time is what the API adds to a request over the floor's fixed
// answer when the machine is busy. Cold operations also spend about 5 ms
// evicting, so give them a count:
//
//	go test -run '^$' -bench Handler -benchtime 3000x -count 3 ./internal/server
func BenchmarkHandler(b *testing.B) {
	a := realartifact.Load(b)
	p, err := payloads.Load(testenv.DataFile(b, "test-data.json.gz"))
	if err != nil {
		b.Fatal(err)
	}
	s := New(log.New(io.Discard, "", 0))
	s.ServeIndex(a.Index, 1000)
	for _, cold := range []bool{false, true} {
		name := "warm"
		if cold {
			name = "cold"
		}
		b.Run(name, func(b *testing.B) {
			var ctx fasthttp.RequestCtx
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				// The body is in cache when a request arrives: the kernel
				// has just copied it. So it is set after the eviction.
				if cold {
					testenv.EvictCaches()
				}
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.Header.SetMethod(fasthttp.MethodPost)
				ctx.Request.SetRequestURI("/fraud-score")
				// Successive payloads are far apart in the file.
				ctx.Request.SetBody(p.Entries[(i*7919)%len(p.Entries)].Request)
				b.StartTimer()
				s.Handler(&ctx)
			}
			if ctx.Response.StatusCode() != fasthttp.StatusOK {
				b.Fatalf("the last payload got %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
			}
		})
	}
}
