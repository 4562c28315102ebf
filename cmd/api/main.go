// Command api serves the fraud-scoring API over an artifact built by
// cmd/indexer:
//
//	api [-artifact build/index.fknn] [-listen 127.0.0.1:8080 | -listen unix:/sockets/api1.sock] [-metrics :9100]
//
// With no flags it serves build/index.fknn, where `go run ./cmd/indexer`
// and `make artifact` write it, on 127.0.0.1:8080. It listens at once and
// answers /ready with 503 until the artifact is in memory (copied into
// transparent huge pages, or with -hugepages=false mapped), checked (every
// page is read on the way) and warmed; then 200. SIGTERM or SIGINT stops
// it: no new connections, in-flight requests finish, exit 0.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"fraudknn/internal/server"
)

var (
	artifactPath = flag.String("artifact", defaultArtifact, "artifact built by cmd/indexer")
	listen       = flag.String("listen", "127.0.0.1:8080", "address to serve: host:port, or unix:/path/to.sock")
	metrics      = flag.String("metrics", "", "address to serve Prometheus metrics at /metrics (off when empty)")
	warm         = flag.Int("warm", 5000, "warm-up searches before /ready says 200")
	maxConns     = flag.Int("max-conns", server.DefaultOptions.MaxConns, "connections served at once")
	fdpassPath   = flag.String("fdpass", "", "also serve the connections handed over by cmd/lb, registering at this control socket once ready")
	procs        = flag.Int("procs", 2, "threads running Go code (GOMAXPROCS; the environment variable, if set, wins)")
	huge         = flag.Bool("hugepages", true, "copy the artifact into private memory backed by transparent huge pages; false maps the file and shares its page cache (docs/TUNING.md)")
	floor        = flag.Bool("floor", false, "MEASUREMENT ONLY: answer every request with a fixed body, no artifact, no search (the plumbing floor, docs/TUNING.md)")
)

func main() {
	flag.Usage = usage
	flag.Parse()
	if flag.NArg() > 0 || (*artifactPath == "" && !*floor) {
		usage()
		os.Exit(2)
	}
	logger := log.New(os.Stderr, "api: ", log.LstdFlags|log.Lmicroseconds)
	setProcs(*procs)
	sigs := notifyStop()
	if !*floor {
		if err := checkArtifact(*artifactPath); err != nil {
			logger.Printf("cannot serve: %v", err)
			os.Exit(1)
		}
	}

	svc := server.New(logger)
	srv, served := serve(svc, logger)
	if *floor {
		logFloor(logger)
	} else {
		load(svc, logger)
	}
	handed := handOver(*fdpassPath, svc, srv, served, logger)

	waitForSignal(sigs, served, logger)
	stop(svc, logger, handed, srv) // handed first: unregistering from cmd/lb stops new connections at once
}

func usage() {
	fmt.Fprintf(flag.CommandLine.Output(), "usage: api [-artifact %s] [-listen host:port | -listen unix:/path] [-metrics host:port] [flags]\n\n", defaultArtifact)
	flag.PrintDefaults()
}
