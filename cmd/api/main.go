// Command api serves the fraud-scoring API over an artifact built by
// cmd/indexer:
//
//	api -artifact index.fknn -listen unix:/sockets/api1.sock [-metrics :9100]
//
// It listens at once and answers /ready with 503 until the artifact is
// in memory (copied into transparent huge pages, or with -hugepages=false
// mapped), checked (every page is read on the way) and warmed; then 200.
// SIGTERM or SIGINT stops it: no new connections, in-flight requests
// finish, exit 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"fraudknn/artifact"
	"fraudknn/internal/fdpass"
	"fraudknn/internal/server"
	"fraudknn/knn"
)

func main() {
	artifactPath := flag.String("artifact", "", "artifact built by cmd/indexer (required)")
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve: host:port, or unix:/path/to.sock")
	metrics := flag.String("metrics", "", "address to serve Prometheus metrics at /metrics (off when empty)")
	warm := flag.Int("warm", 5000, "warm-up searches before /ready says 200")
	maxConns := flag.Int("max-conns", server.DefaultOptions.MaxConns, "connections served at once")
	fdpassPath := flag.String("fdpass", "", "also serve the connections handed over by cmd/lb, registering at this control socket once ready")
	procs := flag.Int("procs", 2, "threads running Go code (GOMAXPROCS; the environment variable, if set, wins)")
	huge := flag.Bool("hugepages", true, "copy the artifact into private memory backed by transparent huge pages; false maps the file and shares its page cache (docs/TUNING.md)")
	floor := flag.Bool("floor", false, "MEASUREMENT ONLY: answer every request with a fixed body, no artifact, no search (the plumbing floor, docs/TUNING.md)")
	flag.Parse()
	logger := log.New(os.Stderr, "api: ", log.LstdFlags|log.Lmicroseconds)
	if (*artifactPath == "" && !*floor) || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: api -artifact index.fknn [-listen host:port | -listen unix:/path] [-metrics host:port]")
		os.Exit(2)
	}
	// Two threads of Go code by default, whatever the machine: see
	// docs/TUNING.md for what one and two measured.
	if os.Getenv("GOMAXPROCS") == "" {
		if *procs < 1 {
			fmt.Fprintln(os.Stderr, "api: -procs must be at least 1")
			os.Exit(2)
		}
		runtime.GOMAXPROCS(*procs)
	}

	svc := server.New(logger)
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
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if *metrics != "" {
		go serveMetrics(*metrics, svc, logger)
	}
	if *floor {
		logger.Printf("listening on %s (GOMAXPROCS %d) in FLOOR MODE: every answer is the same fixed body, not a score", *listen, runtime.GOMAXPROCS(0))
		handed(*fdpassPath, srv, served, logger)
		waitAndStop(srv, svc, served, logger)
		return
	}
	logger.Printf("listening on %s (GOMAXPROCS %d, kernels %s); loading %s", *listen, runtime.GOMAXPROCS(0), knn.Kernel(), *artifactPath)

	start := time.Now()
	open, how := artifact.Open, "mapped"
	if *huge {
		open, how = artifact.Load, "copied"
	}
	a, err := open(*artifactPath)
	if err != nil {
		logger.Printf("cannot serve: %v", err)
		os.Exit(1)
	}
	mapped := time.Since(start)
	if h := a.HugeBytes(); h >= 0 {
		how += fmt.Sprintf(" (%.0f MiB in huge pages)", float64(h)/(1<<20))
	}
	warmed := svc.Load(a.Index, *warm)
	runtime.GC()
	debug.FreeOSMemory()
	logger.Printf("ready: %d vectors in %d clusters, %.1f MiB %s and checked in %v, %d warm-up searches in %v",
		a.Index.Len(), a.Index.Clusters(), float64(a.Size)/(1<<20), how, mapped.Round(time.Millisecond), *warm, warmed.Round(time.Millisecond))
	handed(*fdpassPath, srv, served, logger)
	waitAndStop(srv, svc, served, logger)
}

// handed serves, beside the listener, the connections cmd/lb hands over
// at the control socket path (nothing when path is empty). Call it once
// ready: registering is what tells the balancer to send connections.
func handed(path string, srv *fasthttp.Server, served chan<- error, logger *log.Logger) {
	if path == "" {
		return
	}
	r := fdpass.Receive(path, logger)
	go func() { served <- srv.Serve(r) }()
}

// waitAndStop serves until SIGTERM or SIGINT, then stops taking new
// connections and lets in-flight requests finish (exit 0), or exits 1 if
// the server stops by itself or cannot shut down in 10 s.
func waitAndStop(srv *fasthttp.Server, svc *server.Service, served <-chan error, logger *log.Logger) {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	select {
	case sig := <-stop:
		logger.Printf("%v: stopping; in-flight requests finish", sig)
	case err := <-served:
		logger.Fatalf("server stopped: %v", err)
	}
	svc.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.ShutdownWithContext(ctx); err != nil {
		logger.Printf("shutdown: %v", err)
		os.Exit(1)
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
