package fdpass

import (
	"bufio"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// serveLimited registers an HTTP server of at most maxConns connections
// behind the balancer; /slow answers once release is closed.
func serveLimited(t *testing.T, ctl string, maxConns int, release <-chan struct{}) *Receiver {
	t.Helper()
	r := ReceiveLimited(ctl, maxConns, log.New(io.Discard, "", 0))
	srv := &fasthttp.Server{
		Concurrency: maxConns,
		IdleTimeout: time.Minute, // idle clients stay, unless evicted
		Handler: func(ctx *fasthttp.RequestCtx) {
			if string(ctx.Path()) == "/slow" {
				<-release
			}
			ctx.WriteString("ok")
		},
	}
	go srv.Serve(r)
	t.Cleanup(func() { srv.Shutdown() })
	return r
}

// openAsking opens a connection through the balancer and sends one
// request on it, without reading the answer yet.
func openAsking(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	return c
}

// answer reads one answer on c and returns its status (0 if none came
// within a second).
func answer(c net.Conn) int {
	c.SetReadDeadline(time.Now().Add(time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestIdleClientsCannotLockOut fills the server's connections with
// clients that asked once and stay idle: a new client is answered within
// a second, the idle clients' connections being closed to make room.
func TestIdleClientsCannotLockOut(t *testing.T) {
	const maxConns = 8
	b, addr, ctl := start(t)
	r := serveLimited(t, ctl, maxConns, nil)
	waitAPIs(t, b, 1)
	for i := 0; i < maxConns; i++ {
		if code := answer(openAsking(t, addr, "/")); code != 200 {
			t.Fatalf("idle client %d: status %d; want 200", i, code)
		}
	}
	time.Sleep(idleAfter + 100*time.Millisecond)
	start := time.Now()
	code := answer(openAsking(t, addr, "/"))
	if code != 200 || time.Since(start) > time.Second {
		t.Fatalf("a new client behind %d idle ones: status %d after %v; want 200 within a second", maxConns, code, time.Since(start))
	}
	if r.Evicted() == 0 {
		t.Fatal("answered, yet no idle connection was closed")
	}
}

// TestBusyClientsAreNotCut fills the server's connections with requests
// in flight: none is cut off to make room; a new client is refused by
// the server (503) instead, and every request in flight is answered.
func TestBusyClientsAreNotCut(t *testing.T) {
	const maxConns = 8
	b, addr, ctl := start(t)
	release := make(chan struct{})
	r := serveLimited(t, ctl, maxConns, release)
	waitAPIs(t, b, 1)
	busy := make([]net.Conn, maxConns)
	for i := range busy {
		busy[i] = openAsking(t, addr, "/slow")
	}
	time.Sleep(idleAfter + 100*time.Millisecond) // old enough to be idle, were they
	if code := answer(openAsking(t, addr, "/")); code != http.StatusServiceUnavailable {
		t.Errorf("a new client with every connection busy: status %d; want 503 from the server", code)
	}
	close(release)
	var wg sync.WaitGroup
	for i, c := range busy {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := answer(c); code != 200 {
				t.Errorf("busy client %d: status %d; want 200 (it was cut off)", i, code)
			}
		}()
	}
	wg.Wait()
	if r.Evicted() != 0 {
		t.Errorf("%d connections with a request in flight were closed", r.Evicted())
	}
}
