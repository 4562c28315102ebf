package server

import (
	"time"

	"github.com/valyala/fasthttp"
)

// The operator listener serves what the public one must not: the
// explained answers give each neighbour's position in the reference file,
// its label and its exact distance, from which a client can rebuild
// reference records one coordinate at a time; the metrics describe the
// traffic. It is off unless cmd/api is given -operator, and is meant for a
// loopback address or a Unix socket that only the operator can reach
// (docs/SECURITY.md).

// MetricsPath is the operator listener's route for the Prometheus metrics.
const MetricsPath = "/metrics"

// OperatorMaxConns bounds the operator listener's connections: a scraper
// and a person or two, never the traffic.
const OperatorMaxConns = 32

var contentMetrics = []byte("text/plain; version=0.0.4; charset=utf-8")

// OperatorHandler routes a request of the operator listener: GET /metrics,
// POST /fraud-score/explain and GET /ready. Its requests are not counted
// in the metrics, which describe the public traffic.
func (s *Service) OperatorHandler(ctx *fasthttp.RequestCtx) {
	defer func() {
		if p := recover(); p != nil {
			s.recovered(ctx, p)
		}
	}()
	switch string(ctx.Path()) {
	case ExplainPath:
		s.explain(ctx)
	case MetricsPath:
		if !ctx.IsGet() && !ctx.IsHead() {
			ctx.Response.Header.Set("Allow", "GET, HEAD")
			s.fail(ctx, fasthttp.StatusMethodNotAllowed, "method "+string(ctx.Method())+" not allowed on "+MetricsPath+"; use GET")
			return
		}
		ctx.SetContentTypeBytes(contentMetrics)
		s.WriteMetrics(ctx)
	case "/ready":
		s.answerReady(ctx)
	default:
		s.fail(ctx, fasthttp.StatusNotFound, "no such path; the operator listener has GET "+MetricsPath+", POST "+ExplainPath+" and GET /ready")
	}
}

// NewOperatorServer returns the fasthttp server for the operator
// listener: the public server's body limit and timeouts, a short idle
// timeout and a handful of connections.
func (s *Service) NewOperatorServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                      s.OperatorHandler,
		ErrorHandler:                 s.answerReadError,
		Name:                         "fraudknn-operator",
		NoDefaultServerHeader:        true,
		ReadTimeout:                  DefaultOptions.ReadTimeout,
		WriteTimeout:                 DefaultOptions.WriteTimeout,
		IdleTimeout:                  30 * time.Second,
		Concurrency:                  OperatorMaxConns,
		MaxRequestBodySize:           MaxBodySize,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		Logger:                       s.log,
	}
}
