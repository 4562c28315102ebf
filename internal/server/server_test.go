package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"fraudknn/internal/decision"
	"fraudknn/internal/testenv"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

// testIndex builds an index of n vectors from warm-up style bodies with
// random labels, and returns it with the vectors in original order.
func testIndex(t testing.TB, n int) (*knn.Index, []int16, []uint8) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	vecs := make([]int16, 0, n*vector.Dims)
	labels := make([]uint8, n)
	assign := make([]uint32, n)
	for i := 0; i < n; i++ {
		v, err := vectorize.Vectorize(warmBody(i * 3))
		if err != nil {
			t.Fatal(err)
		}
		vecs = append(vecs, v[:]...)
		labels[i] = uint8(rng.IntN(2))
		assign[i] = uint32(i % 8)
	}
	ix, err := knn.Build(vecs, labels, assign, 8)
	if err != nil {
		t.Fatal(err)
	}
	return ix, vecs, labels
}

// rawDial lets doCT send oversized requests by hand, to the public
// listener (host "api") or the operator's ("operator"); serve sets it.
var rawDial func(host string) (net.Conn, error)

// serve starts a Service with its public and operator servers on
// in-memory listeners and returns a client that reaches the public one at
// http://api and the operator's at http://operator.
func serve(t *testing.T, load bool) (*Service, *fasthttp.Client, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	s := New(log.New(&logs, "", 0))
	if load {
		ix, _, _ := testIndex(t, 2000)
		s.ServeIndex(ix, 100)
	}
	return s, serveBoth(t, s), &logs
}

// serveBoth serves s's public and operator servers on in-memory listeners
// and returns a client that reaches them at http://api and
// http://operator.
func serveBoth(t *testing.T, s *Service) *fasthttp.Client {
	t.Helper()
	public, operator := fasthttputil.NewInmemoryListener(), fasthttputil.NewInmemoryListener()
	srv, op := s.NewServer(DefaultOptions), s.NewOperatorServer()
	go srv.Serve(public)
	go op.Serve(operator)
	t.Cleanup(func() { srv.Shutdown(); op.Shutdown(); public.Close(); operator.Close() })
	rawDial = func(host string) (net.Conn, error) {
		if strings.HasPrefix(host, "operator") {
			return operator.Dial()
		}
		return public.Dial()
	}
	return &fasthttp.Client{Dial: func(addr string) (net.Conn, error) { return rawDial(addr) }}
}

// do sends a request to the public listener.
func do(t *testing.T, c *fasthttp.Client, method, path, body string) (int, string, *fasthttp.ResponseHeader) {
	t.Helper()
	return doAt(t, c, "api", method, path, body)
}

// doAt sends a request to host: "api" (public) or "operator".
func doAt(t *testing.T, c *fasthttp.Client, host, method, path, body string) (int, string, *fasthttp.ResponseHeader) {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return doCTAt(t, c, host, method, path, ct, body)
}

// doCT sends a request to the public listener with the given Content-Type
// ("" sends none).
func doCT(t *testing.T, c *fasthttp.Client, method, path, contentType, body string) (int, string, *fasthttp.ResponseHeader) {
	t.Helper()
	return doCTAt(t, c, "api", method, path, contentType, body)
}

func doCTAt(t *testing.T, c *fasthttp.Client, host, method, path, contentType, body string) (int, string, *fasthttp.ResponseHeader) {
	t.Helper()
	if len(body) > MaxBodySize {
		return oversized(t, host, method, path, len(body))
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.Header.SetMethod(method)
	req.SetRequestURI("http://" + host + path)
	req.Header.SetNoDefaultContentType(true)
	if contentType != "" {
		req.Header.SetContentType(contentType)
	}
	if body != "" {
		req.SetBodyString(body)
	}
	if err := c.DoTimeout(req, resp, 5*time.Second); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	h := &fasthttp.ResponseHeader{}
	resp.Header.CopyTo(h)
	return resp.StatusCode(), string(resp.Body()), h
}

// oversized sends the headers of a request whose body is over the limit,
// and the first bytes of that body, and reads the answer: the server
// refuses it from its Content-Length, before the body, and closes the
// connection (a client still sending the whole body could see the close
// before the answer; nginx, in front, does not).
func oversized(t *testing.T, host, method, path string, n int) (int, string, *fasthttp.ResponseHeader) {
	t.Helper()
	conn, err := rawDial(host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"id\":\"", method, path, host, n)
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(conn)); err != nil {
		t.Fatalf("%s %s with a %d-byte body: %v", method, path, n, err)
	}
	h := &fasthttp.ResponseHeader{}
	resp.Header.CopyTo(h)
	return resp.StatusCode(), string(resp.Body()), h
}

func TestNotReadyUntilLoaded(t *testing.T) {
	s, c, _ := serve(t, false)
	if code, body, _ := do(t, c, "GET", "/ready", ""); code != 503 || !strings.Contains(body, "not ready") {
		t.Fatalf("/ready before ServeIndex: %d %s", code, body)
	}
	if code, _, _ := do(t, c, "POST", "/fraud-score", string(warmBody(1))); code != 503 {
		t.Fatalf("/fraud-score before ServeIndex: %d", code)
	}
	ix, _, _ := testIndex(t, 500)
	s.ServeIndex(ix, 50)
	if code, body, _ := do(t, c, "GET", "/ready", ""); code != 200 || body != `{"ready":true}` {
		t.Fatalf("/ready after Load: %d %s", code, body)
	}
	if s.Metrics.Requests(200) != 1 {
		t.Fatalf("warm-up requests were counted as traffic: %d answers with 200", s.Metrics.Requests(200))
	}
}

// TestAnswers posts bodies and checks each answer against a brute-force
// search of the same index.
func TestAnswers(t *testing.T) {
	var logs bytes.Buffer
	s := New(log.New(&logs, "", 0))
	ix, vecs, labels := testIndex(t, 2000)
	s.ServeIndex(ix, 100)
	ln := fasthttputil.NewInmemoryListener()
	srv := s.NewServer(DefaultOptions)
	go srv.Serve(ln)
	defer srv.Shutdown()
	c := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	var r knn.Result
	for i := 0; i < 200; i++ {
		body := warmBody(i*5 + 1)
		v, _ := vectorize.Vectorize(body)
		knn.BruteForce(vecs, labels, (*[vector.Dims]int16)(&v), decision.Neighbors, &r)
		code, got, h := do(t, c, "POST", "/fraud-score", string(body))
		if code != 200 || got != string(decision.Body(r.Frauds)) || string(h.ContentType()) != "application/json" {
			t.Fatalf("body %d: %d %s (%s); want 200 %s", i, code, got, h.ContentType(), decision.Body(r.Frauds))
		}
	}
}

func TestBadInputs(t *testing.T) {
	_, c, _ := serve(t, true)
	for _, row := range testenv.BadInputs(MaxBodySize) {
		code, body, h := do(t, c, row.Method, row.Path, row.Body)
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || code != row.Status || !strings.Contains(e.Error, row.Want) {
			t.Errorf("%s: %d %s; want %d with an error containing %q", row.Name, code, body, row.Status, row.Want)
		}
		if code == 405 && len(h.Peek("Allow")) == 0 {
			t.Errorf("%s: 405 without an Allow header", row.Name)
		}
	}
	// After all that, it still answers.
	if code, _, _ := do(t, c, "POST", "/fraud-score", string(warmBody(7))); code != 200 {
		t.Fatalf("a valid request after the bad ones: %d", code)
	}
}

// TestPanicIsRecovered breaks the service so that a search panics: the
// request gets 500, the panic is logged with the request id, and the
// process keeps serving.
func TestPanicIsRecovered(t *testing.T) {
	var logs bytes.Buffer
	s := New(log.New(&logs, "", 0))
	ix, _, _ := testIndex(t, 500)
	s.ServeIndex(ix, 10)
	// A bug: a worker without a searcher.
	s.workers.Store(&sync.Pool{New: func() any { return &worker{} }})
	ln := fasthttputil.NewInmemoryListener()
	srv := s.NewServer(DefaultOptions)
	go srv.Serve(ln)
	defer srv.Shutdown()
	c := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	code, body, _ := do(t, c, "POST", "/fraud-score", string(warmBody(3)))
	if code != 500 || !strings.Contains(body, "internal error serving request") {
		t.Fatalf("panicking request: %d %s", code, body)
	}
	if !strings.Contains(logs.String(), "BUG: panic serving request") {
		t.Fatalf("the panic was not logged: %q", logs.String())
	}
	if code, _, _ := do(t, c, "GET", "/ready", ""); code != 200 {
		t.Fatalf("after a panic /ready says %d", code)
	}
}

func TestHandlerAllocatesNothing(t *testing.T) {
	if a := allocsPerRequest(t, "/fraud-score"); a != 0 {
		t.Fatalf("POST /fraud-score allocates %v times per request; want 0", a)
	}
	// And as cmd/api serves a mapped artifact, wrapped in PanicOnFault.
	var h fasthttp.RequestHandler
	a := allocsThrough(t, func(s *Service, ctx *fasthttp.RequestCtx) {
		if h == nil {
			h = PanicOnFault(s.Handler)
		}
		h(ctx)
	}, "/fraud-score")
	if a != 0 {
		t.Fatalf("POST /fraud-score through PanicOnFault allocates %v times per request; want 0", a)
	}
}

// allocsPerRequest returns the heap allocations of a valid POST to path,
// through the whole public handler, after checking that it is answered
// 200.
func allocsPerRequest(t *testing.T, path string) float64 {
	t.Helper()
	return allocsThrough(t, (*Service).Handler, path)
}

// allocsThrough returns the heap allocations of a valid POST to path
// through handler h (Handler or OperatorHandler), after checking that it
// is answered 200.
func allocsThrough(t *testing.T, h func(*Service, *fasthttp.RequestCtx), path string) float64 {
	t.Helper()
	s := New(log.New(io.Discard, "", 0))
	ix, _, _ := testIndex(t, 2000)
	s.ServeIndex(ix, 10)
	var ctx fasthttp.RequestCtx
	body := warmBody(11)
	run := func() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI(path)
		ctx.Request.SetBody(body)
		h(s, &ctx)
	}
	run()
	if ctx.Response.StatusCode() != 200 {
		t.Fatalf("POST %s: status %d: %s", path, ctx.Response.StatusCode(), ctx.Response.Body())
	}
	return testing.AllocsPerRun(200, run)
}

func TestMetrics(t *testing.T) {
	s, c, _ := serve(t, true)
	do(t, c, "POST", "/fraud-score", string(warmBody(2)))
	do(t, c, "POST", "/fraud-score", "{")
	do(t, c, "GET", "/nope", "")
	var out bytes.Buffer
	s.Metrics.WritePrometheus(&out, s.Ready())
	for _, want := range []string{
		"fraudknn_ready 1",
		`fraudknn_requests_total{status="200"} 1`,
		`fraudknn_requests_total{status="400"} 1`,
		`fraudknn_requests_total{status="404"} 1`,
		"fraudknn_request_duration_seconds_count 3",
		"fraudknn_vectors_scanned_count 1",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, out.String())
		}
	}
}

func TestListenUnix(t *testing.T) {
	path := t.TempDir() + "/api.sock"
	for i := 0; i < 2; i++ { // the second time replaces the stale socket
		ln, err := Listen("unix:" + path)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// Leave the file behind, as a crashed process would.
			ln.(*net.UnixListener).SetUnlinkOnClose(false)
		}
		ln.Close()
	}
	if _, err := Listen("unix:" + t.TempDir()); err == nil {
		t.Fatal("Listen replaced a directory")
	}
}
