package server

import (
	"encoding/json"
	"io"
	"log"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzHandler sends arbitrary methods, paths, headers and bodies through
// the handler: every request must get a known status and a JSON body, and
// none may reach the panic handler (500).
func FuzzHandler(f *testing.F) {
	s := New(log.New(io.Discard, "", 0))
	ix, _, _ := testIndex(f, 1000)
	s.Load(ix, 10)
	f.Add("POST", "/fraud-score", "application/json", specLegit)
	f.Add("POST", "/fraud-score", "", specFraud)
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
