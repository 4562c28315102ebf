// Package server answers the contest's HTTP API with fasthttp. The
// public listener (Handler) has two routes: POST /fraud-score scores a
// transaction with the exact 5-NN search, and GET /ready says whether the
// index is mapped, checked and warmed. The operator listener
// (OperatorHandler) adds what only an operator may see: the metrics and
// the explained answers, which reveal reference records.
package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"fraudknn/internal/decision"
	"fraudknn/internal/listen"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

// MaxBodySize is the largest request body accepted; larger ones get 413.
// A real transaction is about 500 bytes.
const MaxBodySize = 64 << 10

// Service is the state behind the handlers: the index once loaded, the
// searchers and the counters.
type Service struct {
	ready    atomic.Bool
	workers  atomic.Pointer[sync.Pool] // of *worker; nil until ServeIndex
	log      *log.Logger
	Metrics  Metrics
	digest   atomic.Pointer[string] // the artifact's SHA-256 in hex, for fraudknn_info
	maxConns atomic.Int64           // the public server's connection limit, for fraudknn_max_connections
	failed   chan error             // a fault on the index's memory (fault.go)
}

// worker is the scratch one request needs.
type worker struct {
	s *knn.Searcher
	r knn.Result
}

// New returns a Service that answers 503 until ServeIndex is called.
func New(logger *log.Logger) *Service {
	if logger == nil {
		logger = log.New(os.Stderr, "", log.LstdFlags)
	}
	return &Service{log: logger, failed: make(chan error, 1)}
}

// The answers, built once: a request only copies one of them.
var (
	answers     [decision.Neighbors + 1][]byte
	contentJSON = []byte("application/json")
	readyBody   = []byte(`{"ready":true}`)
)

func init() {
	for frauds := range answers {
		answers[frauds] = decision.Body(frauds)
	}
}

// ServeIndex makes the service answer from ix: it runs warm searches first
// (about warm of them, over vectors of the index, and through the whole
// handler), then reports ready.
func (s *Service) ServeIndex(ix *knn.Index, warm int) time.Duration {
	start := time.Now()
	pool := &sync.Pool{New: func() any { return &worker{s: knn.NewSearcher(ix, decision.Neighbors)} }}
	// Searches of vectors of the index itself: every one walks tier 1 and
	// tier 2 as a real query does.
	w := pool.Get().(*worker)
	for i := 0; i < warm; i++ {
		q := warmQuery(ix, i)
		w.s.Search(&q, &w.r)
	}
	pool.Put(w)
	s.workers.Store(pool)
	// And the handler itself, parsing and answering.
	var ctx fasthttp.RequestCtx
	for i := 0; i < min(warm, 500); i++ {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod(fasthttp.MethodPost)
		ctx.Request.SetRequestURI("/fraud-score")
		ctx.Request.SetBody(warmBody(i))
		s.fraudScore(&ctx)
	}
	s.Metrics.reset() // warm-up requests are not traffic
	s.ready.Store(true)
	return time.Since(start)
}

// Ready reports whether the service answers /fraud-score.
func (s *Service) Ready() bool { return s.ready.Load() }

// Drain marks the service not ready, before a shutdown.
func (s *Service) Drain() { s.ready.Store(false) }

// warmQuery returns the i-th warm-up query: a vector of the index,
// spread over the clusters.
func warmQuery(ix *knn.Index, i int) [vector.Dims]int16 {
	c := (i * 7919) % ix.Clusters()
	return ix.Vector(c, (i*31)%ix.ClusterSize(c))
}

// warmBody returns a valid request body that varies with i.
func warmBody(i int) []byte {
	last := "null"
	if i%3 != 0 {
		last = fmt.Sprintf(`{"timestamp":"2026-03-11T%02d:10:00Z","km_from_current":%d.5}`, i%24, i%900)
	}
	return fmt.Appendf(nil, `{"id":"warm-%d","transaction":{"amount":%d.25,"installments":%d,"requested_at":"2026-03-11T20:%02d:00Z"},`+
		`"customer":{"avg_amount":%d.5,"tx_count_24h":%d,"known_merchants":["MERC-001","MERC-00%d"]},`+
		`"merchant":{"id":"MERC-00%d","mcc":"5411","avg_amount":%d.75},`+
		`"terminal":{"is_online":%v,"card_present":%v,"km_from_home":%d.1},"last_transaction":%s}`,
		i, (i*37)%9000, 1+i%12, i%60, 10+(i*13)%800, i%20, i%9, i%7, (i*11)%5000, i%2 == 0, i%3 == 0, (i*17)%1000, last)
}

// Handler routes a request of the public listener, the one nginx and
// cmd/lb reach: POST /fraud-score and GET /ready, nothing else.
func (s *Service) Handler(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			s.recovered(ctx, p)
		}
		s.Metrics.observe(ctx.Response.StatusCode(), time.Since(start))
	}()
	switch string(ctx.Path()) {
	case "/fraud-score":
		if !ctx.IsPost() {
			ctx.Response.Header.Set("Allow", "POST")
			s.fail(ctx, fasthttp.StatusMethodNotAllowed, "method "+string(ctx.Method())+" not allowed on /fraud-score; use POST")
			return
		}
		s.fraudScore(ctx)
	case "/ready":
		s.answerReady(ctx)
	default:
		s.fail(ctx, fasthttp.StatusNotFound, "no such path; the API has POST /fraud-score and GET /ready")
	}
}

// recovered answers a request whose handler panicked. A fault on the
// index's memory stops the service (memoryFault); any other panic is a
// bug: answer it, say where, and keep serving.
func (s *Service) recovered(ctx *fasthttp.RequestCtx, p any) {
	if s.memoryFault(ctx, p) {
		return
	}
	s.log.Printf("BUG: panic serving request %d (%s %s): %v", ctx.ID(), ctx.Method(), ctx.Path(), p)
	ctx.Response.Reset()
	s.fail(ctx, fasthttp.StatusInternalServerError, fmt.Sprintf("internal error serving request %d; it is logged", ctx.ID()))
}

// answerReady answers GET /ready: 200 once loaded, 503 before and while
// draining.
func (s *Service) answerReady(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		s.fail(ctx, fasthttp.StatusMethodNotAllowed, "method "+string(ctx.Method())+" not allowed on /ready; use GET")
		return
	}
	if !s.ready.Load() {
		s.fail(ctx, fasthttp.StatusServiceUnavailable, "not ready: the index is still loading")
		return
	}
	ctx.SetContentTypeBytes(contentJSON)
	ctx.SetBody(readyBody)
}

// fraudScore answers POST /fraud-score. On a valid body it allocates
// nothing.
func (s *Service) fraudScore(ctx *fasthttp.RequestCtx) {
	w, pool, _, ok := s.search(ctx)
	if !ok {
		return
	}
	frauds, scanned := w.r.Frauds, w.r.Vectors
	pool.Put(w)
	s.Metrics.decided(frauds, scanned)
	ctx.SetContentTypeBytes(contentJSON)
	ctx.SetBody(answers[frauds])
}

// search turns the request body into a vector and finds its neighbours,
// for the routes that score. When it cannot (503 before ServeIndex, 400 for a
// body that cannot be scored) it answers the request itself and returns
// ok false; otherwise w holds the result until the caller puts it back
// in pool.
func (s *Service) search(ctx *fasthttp.RequestCtx) (w *worker, pool *sync.Pool, v vector.Vector, ok bool) {
	pool = s.workers.Load()
	if pool == nil {
		s.fail(ctx, fasthttp.StatusServiceUnavailable, "not ready: the index is still loading")
		return nil, nil, v, false
	}
	v, err := vectorize.Vectorize(ctx.PostBody())
	if err != nil {
		s.fail(ctx, fasthttp.StatusBadRequest, err.Error())
		return nil, nil, v, false
	}
	w = pool.Get().(*worker)
	w.s.Search((*[vector.Dims]int16)(&v), &w.r)
	return w, pool, v, true
}

// fail answers with status and a JSON body {"error": msg}.
func (s *Service) fail(ctx *fasthttp.RequestCtx, status int, msg string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	ctx.SetStatusCode(status)
	ctx.SetContentTypeBytes(contentJSON)
	ctx.SetBody(body)
}

// errorHandler answers requests fasthttp could not read or parse on the
// public listener, and counts them.
func (s *Service) errorHandler(ctx *fasthttp.RequestCtx, err error) {
	s.answerReadError(ctx, err)
	s.Metrics.observe(ctx.Response.StatusCode(), 0)
}

// answerReadError answers a request that could not be read or parsed.
func (s *Service) answerReadError(ctx *fasthttp.RequestCtx, err error) {
	var netErr net.Error
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		s.fail(ctx, fasthttp.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", MaxBodySize))
	case errors.As(err, &netErr) && netErr.Timeout():
		s.fail(ctx, fasthttp.StatusRequestTimeout, "request not received in time")
	case errors.As(err, &small):
		s.fail(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, "request headers too large")
	default:
		s.fail(ctx, fasthttp.StatusBadRequest, "malformed HTTP request")
	}
}

// Options tune the HTTP server.
type Options struct {
	ReadTimeout  time.Duration // to read a whole request once its first byte arrived
	WriteTimeout time.Duration // to write a response
	IdleTimeout  time.Duration // a keep-alive connection may wait this long for its next request
	MaxConns     int           // connections served at once; more are refused with 503
}

// DefaultOptions suit the contest: nginx keeps a few connections alive
// (and drops idle ones after 30 s, before the API would), clients are
// never slow. MaxConns bounds memory under abuse: 512 connections each
// holding a body of MaxBodySize are 32 MiB, which with the 99 MiB
// artifact fits the 160 MB an instance is given.
var DefaultOptions = Options{
	ReadTimeout:  5 * time.Second,
	WriteTimeout: 5 * time.Second,
	IdleTimeout:  120 * time.Second,
	MaxConns:     512,
}

// keptBodyBuffer is the largest request body buffer a connection keeps
// between requests: a real transaction (about 500 bytes) reuses its
// buffer, while one that held a body of up to MaxBodySize gives it back
// to the garbage collector once answered, so that an idle connection
// costs about a third of what it would (docs/OPERATIONS.md, "Memory").
const keptBodyBuffer = 8 << 10

// NewServer returns the public fasthttp server for s, the one that serves
// -listen and the connections cmd/lb hands over.
func (s *Service) NewServer(o Options) *fasthttp.Server {
	s.maxConns.Store(int64(o.MaxConns))
	// fasthttp's setting is process-wide; the service's servers are the
	// process's only ones.
	fasthttp.SetBodySizePoolLimit(keptBodyBuffer, keptBodyBuffer)
	return &fasthttp.Server{
		Handler:                      s.Handler,
		ErrorHandler:                 s.errorHandler,
		Name:                         "fraudknn",
		NoDefaultServerHeader:        true,
		ReadTimeout:                  o.ReadTimeout,
		WriteTimeout:                 o.WriteTimeout,
		IdleTimeout:                  o.IdleTimeout,
		Concurrency:                  o.MaxConns,
		MaxRequestBodySize:           MaxBodySize,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		Logger:                       s.log,
	}
}

// Listen opens addr for the public listener: "unix:/path/to.sock" for a
// Unix domain socket (a stale socket file is replaced; the socket is made
// accessible to every local user, since nginx runs as another one), else
// host:port.
func Listen(addr string) (net.Listener, error) { return listen.Addr(addr, 0o666) }

// ListenOperator opens addr for the operator listener, as Listen does,
// except that a Unix socket is open to its owner and group only (0660):
// explanations reveal reference records, so no other user may connect.
func ListenOperator(addr string) (net.Listener, error) { return listen.Addr(addr, 0o660) }
