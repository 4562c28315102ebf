package main

import (
	"log"
	"runtime"

	"github.com/valyala/fasthttp"

	"fraudknn/internal/decision"
)

// floorAnswer is the fixed body of the floor mode: a legitimate decision.
var (
	floorAnswer = decision.Body(0)
	floorReady  = []byte(`{"ready":true}`)
	floorJSON   = []byte("application/json")
)

// floorHandler is the measurement-only handler -floor serves in place of
// the product's: POST /fraud-score gets the same fixed answer, its body
// neither parsed nor searched, and /ready says 200 at once. Its latency
// and CPU under load are what nginx, the sockets, fasthttp, the CPU quota
// and the load generator cost by themselves (docs/TUNING.md); it is
// chosen once at start, so the product handler carries no branch for it.
func floorHandler(ctx *fasthttp.RequestCtx) {
	switch string(ctx.Path()) {
	case "/fraud-score":
		if !ctx.IsPost() {
			ctx.Response.Header.Set("Allow", "POST")
			ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		}
		ctx.SetContentTypeBytes(floorJSON)
		ctx.SetBody(floorAnswer)
	case "/ready":
		ctx.SetContentTypeBytes(floorJSON)
		ctx.SetBody(floorReady)
	default:
		ctx.SetStatusCode(fasthttp.StatusNotFound)
	}
}

// logFloor says, once listening, that this process serves the floor, so
// that no one reads its answers as scores.
func logFloor(logger *log.Logger) {
	logger.Printf("listening on %s (GOMAXPROCS %d) in FLOOR MODE: every answer is the same fixed body, not a score", *listen, runtime.GOMAXPROCS(0))
}
