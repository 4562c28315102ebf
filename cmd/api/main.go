// Command api serves the fraud-scoring API over an artifact built by
// cmd/indexer:
//
//	api [-artifact build/index.fknn] [-listen 127.0.0.1:8080 | -listen unix:/sockets/api1.sock] [-operator 127.0.0.1:9101 | -operator unix:/path]
//
// With no flags it serves build/index.fknn, where `go run ./cmd/indexer`
// and `make artifact` write it, on 127.0.0.1:8080. It listens at once and
// answers /ready with 503 until the artifact is in memory (copied into
// transparent huge pages, or with -hugepages=false mapped), checked (every
// page is read on the way) and warmed; then 200. SIGTERM or SIGINT stops
// it: no new connections, in-flight requests finish, exit 0.
//
// The -listen address (and the connections cmd/lb hands over with
// -fdpass) answers POST /fraud-score and GET /ready only. The operator's
// routes, GET /metrics and POST /fraud-score/explain (which reveals
// reference records), are served only with -operator, on a listener of
// their own: a loopback address or a Unix socket (made 0660), never
// one that clients reach.
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
	operator     = flag.String("operator", "", "address of the operator listener, serving GET /metrics, POST /fraud-score/explain and GET /ready: a loopback host:port or unix:/path (made 0660); off when empty")
	oldMetrics   = flag.String("metrics", "", "removed: use -operator, which serves /metrics beside the explain route")
	warm         = flag.Int("warm", 5000, "warm-up searches before /ready says 200")
	maxConns     = flag.Int("max-conns", server.DefaultOptions.MaxConns, "connections served at once, at most: lowered to what the memory limit holds")
	digest       = flag.String("digest", "", "the artifact's pinned SHA-256 (as cmd/indexer prints it): refuse to serve any other file")
	memoryLimit  = flag.String("memory-limit", "", "memory this process may use in all, as 160MB (default: its cgroup's limit); the Go memory limit and -max-conns are fitted to it (GOMEMLIMIT, if set, wins)")
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
	if *oldMetrics != "" {
		fmt.Fprintf(os.Stderr, "api: -metrics was replaced by -operator, which serves GET /metrics, POST /fraud-score/explain and GET /ready: use -operator %s\n", *oldMetrics)
		os.Exit(2)
	}
	logger := log.New(os.Stderr, "api: ", log.LstdFlags|log.Lmicroseconds)
	setProcs(*procs)
	sigs := notifyStop()
	pinned := pinnedDigest()
	if !*floor {
		size, err := checkArtifact(*artifactPath)
		if err != nil {
			logger.Printf("cannot serve: %v", err)
			os.Exit(1)
		}
		// The server is built before loading (it answers /ready with 503
		// meanwhile), so its connection limit is fitted to the memory
		// now, from the file's size.
		*maxConns = planMemory(size, logger).MaxConns
	}

	svc := server.New(logger)
	srv, op, served := serve(svc, logger)
	if *floor {
		logFloor(logger)
	} else {
		serveArtifact(svc, pinned, logger)
	}
	handed := handOver(*fdpassPath, svc, srv, served, logger)

	code := waitForSignal(sigs, served, svc.Failed(), logger)
	stop(svc, logger, handed, srv, op) // handed first: unregistering from cmd/lb stops new connections at once
	os.Exit(code)
}

func usage() {
	fmt.Fprintf(flag.CommandLine.Output(), "usage: api [-artifact %s] [-listen host:port | -listen unix:/path] [-operator host:port | -operator unix:/path] [flags]\n\n", defaultArtifact)
	flag.PrintDefaults()
}
