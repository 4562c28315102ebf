package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
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
// with -floor) and the metrics on -metrics, and returns the server and
// the channel on which a server that stops by itself reports why. It
// stops the program (exit 1) if it cannot listen.
func serve(svc *server.Service, logger *log.Logger) (*fasthttp.Server, chan error) {
	opts := server.DefaultOptions
	opts.MaxConns = *maxConns
	srv := svc.NewServer(opts)
	if *floor {
		srv.Handler = floorHandler
	}
	ln, err := server.Listen(*listen)
	if err != nil {
		logger.Fatalf("cannot listen on %s: %v", *listen, err)
	}
	served := make(chan error, 2)
	go func() { served <- srv.Serve(ln) }()
	if *metrics != "" {
		go serveMetrics(*metrics, svc, logger)
	}
	return srv, served
}

// handedIdle is how long a connection handed over by cmd/lb may wait
// for its next request. Behind nginx the API's idle timeout can be long
// (nginx keeps a few connections and reuses them); behind cmd/lb every
// client holds its own connection to the API, so an idle one is closed
// after a few seconds, and near the connection limit the receiver
// closes the idlest first (internal/fdpass/evict.go, docs/OPERATIONS.md).
const handedIdle = 5 * time.Second

// handOver serves the connections cmd/lb hands over at the control
// socket path (nothing when path is empty) on a server of their own,
// with srv's handler and limits but handedIdle, and returns it (nil
// without path). Call it once ready: registering is what tells the
// balancer to send connections.
func handOver(path string, svc *server.Service, srv *fasthttp.Server, served chan<- error, logger *log.Logger) *fasthttp.Server {
	if path == "" {
		return nil
	}
	opts := server.DefaultOptions
	opts.MaxConns = *maxConns
	opts.IdleTimeout = handedIdle
	handed := svc.NewServer(opts)
	handed.Handler = srv.Handler // the floor's, with -floor
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

// waitForSignal returns on SIGTERM or SIGINT, and stops the program
// (exit 1) if a server stops by itself first.
func waitForSignal(sigs <-chan os.Signal, served <-chan error, logger *log.Logger) {
	select {
	case sig := <-sigs:
		logger.Printf("%v: stopping; in-flight requests finish", sig)
	case err := <-served:
		logger.Fatalf("server stopped: %v", err)
	}
}

// stop marks the service not ready, stops taking new connections and
// lets in-flight requests finish on every server (nil ones skipped);
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

// serveMetrics serves the Prometheus metrics on their own listener.
func serveMetrics(addr string, svc *server.Service, logger *log.Logger) {
	ln, err := server.Listen(addr)
	if err != nil {
		logger.Printf("metrics disabled: cannot listen on %s: %v", addr, err)
		return
	}
	h := func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) != "/metrics" {
			ctx.Error("metrics are at /metrics\n", fasthttp.StatusNotFound)
			return
		}
		ctx.SetContentType("text/plain; version=0.0.4")
		svc.Metrics.WritePrometheus(ctx, svc.Ready())
	}
	if err := (&fasthttp.Server{Handler: h, NoDefaultServerHeader: true, ReadTimeout: 5 * time.Second}).Serve(ln); err != nil {
		logger.Printf("metrics server: %v", err)
	}
}
