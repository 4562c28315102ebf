package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"fraudknn/internal/fdpass"
	"fraudknn/internal/server"
)

// setProcs sets GOMAXPROCS to n unless the environment variable does:
// two threads of Go code by default, whatever the machine (docs/TUNING.md
// has what one and two measured). n < 1 stops the program (exit 2).
func setProcs(n int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if n < 1 {
		fmt.Fprintln(os.Stderr, "api: -procs must be at least 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(n)
}

// serve starts serving on -listen (the product's handler, or the floor's
// with -floor) and, with -operator, the operator's routes on their own
// listener; it returns both servers (op nil without -operator) and the
// channel on which a server that stops by itself reports why. It stops
// the program (exit 1) if it cannot listen.
func serve(svc *server.Service, logger *log.Logger) (srv, op *fasthttp.Server, served chan error) {
	opts := server.DefaultOptions
	opts.MaxConns = *maxConns
	srv = svc.NewServer(opts)
	switch {
	case *floor:
		srv.Handler = floorHandler
	case !*huge:
		// A mapped artifact can fault if its file is changed in place:
		// a clean 503 and exit instead of SIGBUS (server.PanicOnFault).
		srv.Handler = server.PanicOnFault(srv.Handler)
	}
	ln, err := server.Listen(*listen)
	if err != nil {
		logger.Fatalf("cannot listen on %s: %v", *listen, err)
	}
	served = make(chan error, 3)
	go func() { served <- srv.Serve(ln) }()
	if *operator != "" {
		op = serveOperator(*operator, svc, served, logger)
	}
	return srv, op, served
}

// serveOperator serves the operator's routes at addr. It stops the
// program (exit 1) if it cannot listen there: an operator who asked for
// the listener would otherwise find it missing only when they need it.
func serveOperator(addr string, svc *server.Service, served chan<- error, logger *log.Logger) *fasthttp.Server {
	ln, err := server.ListenOperator(addr)
	if err != nil {
		logger.Fatalf("cannot listen on %s for -operator: %v", addr, err)
	}
	if !loopbackOrUnix(addr) {
		logger.Printf("WARNING: the operator listener %s is not a loopback address: whoever reaches it can read explanations, which reveal reference records", addr)
	}
	logger.Printf("operator listener on %s: GET %s, POST %s, GET /ready", addr, server.MetricsPath, server.ExplainPath)
	op := svc.NewOperatorServer()
	if !*huge && !*floor {
		op.Handler = server.PanicOnFault(op.Handler) // explain searches the index too
	}
	go func() { served <- op.Serve(ln) }()
	return op
}

// loopbackOrUnix reports whether addr is a Unix socket or a host:port on
// a loopback address (by name "localhost" or by IP).
func loopbackOrUnix(addr string) bool {
	if strings.HasPrefix(addr, "unix:") {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// handOver serves the connections cmd/lb hands over at the control
// socket path (nothing when path is empty) on a server of their own,
// with srv's handler and limits but fdpass.IdleTimeout, and returns it (nil
// without path). Call it once ready: registering is what tells the
// balancer to send connections.
func handOver(path string, svc *server.Service, srv *fasthttp.Server, served chan<- error, logger *log.Logger) *fasthttp.Server {
	if path == "" {
		return nil
	}
	opts := server.DefaultOptions
	opts.MaxConns = *maxConns
	// Behind nginx the idle timeout can be long: nginx keeps a few
	// connections and reuses them. Behind cmd/lb each client holds its
	// own connection to the API, so an idle one is closed after a few
	// seconds, and near the limit the idlest first (evict.go in fdpass).
	opts.IdleTimeout = fdpass.IdleTimeout
	handed := svc.NewServer(opts)
	handed.Handler = srv.Handler // the floor's with -floor, made to panic on a fault when mapped
	r := fdpass.ReceiveLimited(path, opts.MaxConns, logger)
	go func() { served <- handed.Serve(r) }()
	return handed
}

// notifyStop catches SIGTERM and SIGINT from now on. Called before the
// service can report ready, so that a signal that comes as soon as it is
// ready still drains the requests in flight instead of killing the
// process; one that comes during loading takes effect once loaded.
func notifyStop() <-chan os.Signal {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	return sigs
}

// waitForSignal returns the exit status to stop with: 0 on SIGTERM or
// SIGINT, 1 when the service can no longer answer from its index (a
// fault on a mapped artifact, server.Service.Failed), so that the
// supervisor starts it again. It stops the program (exit 1) if a server
// stops by itself first.
func waitForSignal(sigs <-chan os.Signal, served <-chan error, failed <-chan error, logger *log.Logger) int {
	select {
	case sig := <-sigs:
		logger.Printf("%v: stopping; in-flight requests finish", sig)
		return 0
	case err := <-failed:
		logger.Printf("cannot serve any longer: %v", err)
		return 1
	case err := <-served:
		logger.Fatalf("server stopped: %v", err)
		return 1
	}
}

// stop marks the service not ready, stops taking new connections and
// lets in-flight requests finish on every server (nil ones are skipped);
// it exits 1 if they do not within 10 s.
func stop(svc *server.Service, logger *log.Logger, servers ...*fasthttp.Server) {
	svc.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		if srv == nil {
			continue
		}
		if err := srv.ShutdownWithContext(ctx); err != nil {
			logger.Printf("shutdown: %v", err)
			os.Exit(1)
		}
	}
	logger.Printf("stopped")
}
