package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"testing"

	"github.com/valyala/fasthttp"

	"fraudknn/internal/testenv"
)

// FuzzHandler sends arbitrary methods, paths, headers and bodies through
// the handler: every request must get a known status and a JSON body, and
// none may reach the panic handler (500).
func FuzzHandler(f *testing.F) {
	s := New(log.New(io.Discard, "", 0))
	ix, _, _ := testIndex(f, 1000)
	s.ServeIndex(ix, 10)
	f.Add("POST", "/fraud-score", "application/json", testenv.SpecLegit)
	f.Add("POST", "/fraud-score", "", testenv.SpecFraud)
	f.Add("GET", "/ready", "", "")
	f.Add("PATCH", "/fraud-score", "text/plain", "{")
	f.Add("POST", "/fraud-score", "application/json", `{"transaction":{"amount":1e400}}`)
	allowed := map[int]bool{200: true, 400: true, 404: true, 405: true, 413: true}
	f.Fuzz(func(t *testing.T, method, path, contentType, body string) {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod(method)
		ctx.Request.SetRequestURI(path)
		ctx.Request.Header.SetContentType(contentType)
		ctx.Request.SetBodyString(body)
		s.Handler(&ctx)
		code := ctx.Response.StatusCode()
		if !allowed[code] {
			t.Fatalf("%q %q: status %d: %s", method, path, code, ctx.Response.Body())
		}
		if !json.Valid(ctx.Response.Body()) {
			t.Fatalf("%q %q: status %d with a body that is not JSON: %q", method, path, code, ctx.Response.Body())
		}
	})
}

// FuzzRawRequest reads arbitrary bytes as an HTTP request the way the
// server does (fasthttp's parser with the body limit, then the handler,
// or the error handler when the bytes are not a request) and writes the
// answer: request line, headers, chunked or sized bodies and every byte
// in between come from the fuzzer. Every request must get a known status
// and a JSON body, none may panic.
func FuzzRawRequest(f *testing.F) {
	s := New(log.New(io.Discard, "", 0))
	ix, _, _ := testIndex(f, 1000)
	s.ServeIndex(ix, 10)
	f.Add([]byte(fmt.Sprintf("POST /fraud-score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(testenv.SpecLegit), testenv.SpecLegit)))
	f.Add([]byte("POST /fraud-score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n"))
	f.Add([]byte("POST /fraud-score HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{}"))
	f.Add([]byte("GET /ready HTTP/1.0\r\n\r\n"))
	f.Add([]byte("GET /../../etc/passwd?x=%00 HTTP/1.1\r\nHost: \xff\r\nX: \x00\r\n\r\n"))
	f.Add([]byte("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"))
	allowed := map[int]bool{200: true, 400: true, 404: true, 405: true, 408: true, 413: true, 431: true}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ctx fasthttp.RequestCtx
		if err := ctx.Request.ReadLimitBody(bufio.NewReader(bytes.NewReader(raw)), MaxBodySize); err != nil {
			ctx.Request.Reset()
			s.errorHandler(&ctx, err)
		} else {
			s.Handler(&ctx)
		}
		code := ctx.Response.StatusCode()
		if !allowed[code] {
			t.Fatalf("%q: status %d: %s", raw, code, ctx.Response.Body())
		}
		if !json.Valid(ctx.Response.Body()) {
			t.Fatalf("%q: status %d with a body that is not JSON: %q", raw, code, ctx.Response.Body())
		}
		var out bytes.Buffer
		if err := ctx.Response.Write(bufio.NewWriter(&out)); err != nil {
			t.Fatalf("%q: writing the answer: %v", raw, err)
		}
	})
}
