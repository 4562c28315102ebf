package server

import (
	"fmt"
	"runtime/debug"

	"github.com/valyala/fasthttp"
)

// A mapped artifact (cmd/api -hugepages=false) is the file's page cache:
// if the file is truncated in place while mapped, reading a page past
// its new end raises SIGBUS, which kills a Go program unless the
// goroutine has asked, with debug.SetPanicOnFault, for such a fault to
// panic instead. PanicOnFault wraps a handler so that it asks on entry:
// fasthttp runs handlers on goroutines it reuses, the flag is one field
// of the goroutine, and setting it is a function call that stores it
// (5–8 ns measured), no allocation. cmd/api wraps its handlers only when
// it maps the artifact: a copied artifact (the default) is private
// memory that a change to the file cannot reach, and its handlers carry
// nothing for it. The panic is then recovered like any other, and
// recovered tells a fault on memory (a runtime.Error with an address)
// from a bug.
//
// After such a fault the index cannot be trusted to be readable, so the
// service stops answering from it (503, which nginx retries on the other
// instance) and reports the fault on Failed, for cmd/api to exit in order
// and its supervisor to start it again on an intact file. Artifacts are
// only ever replaced by rename (artifact.Write, the native stack's index
// update), which leaves a mapped file untouched; only a write in place
// can fault it.

// PanicOnFault returns h, made to turn a fault on memory in its goroutine
// into a panic that the service's handlers recover, instead of the death
// of the process.
func PanicOnFault(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		debug.SetPanicOnFault(true)
		h(ctx)
	}
}

// addrError is what a fault turned into a panic is: a runtime.Error
// that knows the address it faulted at.
type addrError interface {
	error
	RuntimeError()
	Addr() uintptr
}

// Failed delivers, once, the error that made the service stop answering
// from its index: a fault on the index's memory. cmd/api then stops in
// order and exits 1.
func (s *Service) Failed() <-chan error { return s.failed }

// memoryFault handles a recovered panic p if it is a fault on memory and
// reports whether it was: it stops the service answering from the index,
// reports the fault on Failed (once) and answers 503.
func (s *Service) memoryFault(ctx *fasthttp.RequestCtx, p any) bool {
	fault, ok := p.(addrError)
	if !ok {
		return false
	}
	s.ready.Store(false)
	s.workers.Store(nil) // later requests answer 503 without touching the index
	err := fmt.Errorf("reading the index faulted at address %#x (%v) serving request %d: the mapped artifact file was truncated or rewritten in place; "+
		"this instance stops so that its supervisor starts it again on an intact file (replace artifacts only by rename: cmd/indexer -out, or the stack's index update)",
		fault.Addr(), fault, ctx.ID())
	select {
	case s.failed <- err:
	default: // already reported
	}
	ctx.Response.Reset()
	s.fail(ctx, fasthttp.StatusServiceUnavailable, "the index is unavailable; this instance is stopping")
	return true
}
