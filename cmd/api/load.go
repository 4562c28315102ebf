package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"fraudknn/artifact"
	"fraudknn/internal/server"
	"fraudknn/knn"
)

// defaultArtifact is where cmd/indexer and the Makefile write the
// artifact.
const defaultArtifact = "build/index.fknn"

// checkArtifact returns the size of the file at path, and fails, before
// the API listens, when there is none, saying where it looked and how to
// build one. Anything else wrong with the file is for serveArtifact to find.
func checkArtifact(path string) (int64, error) {
	st, err := os.Stat(path)
	if err == nil {
		return st.Size(), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	where := path
	if abs, aerr := filepath.Abs(path); aerr == nil {
		where = abs
	}
	return 0, fmt.Errorf("no artifact at %s (%v): build it with `go run ./cmd/indexer` or `make artifact`, or name another file with -artifact", where, err)
}

// serveArtifact says what it serves, brings the artifact into memory
// (copied into huge pages, or mapped with -hugepages=false), checked, and
// makes svc answer from it after the warm-up searches. A bad artifact, or
// one whose digest is not the pinned one, stops the program (exit 1) with
// what is wrong and what to do.
func serveArtifact(svc *server.Service, pinned artifact.Digest, logger *log.Logger) {
	logger.Printf("listening on %s (GOMAXPROCS %d, kernels %s); loading %s", *listen, runtime.GOMAXPROCS(0), knn.Kernel(), *artifactPath)
	start := time.Now()
	bring, how := artifact.Map, "mapped"
	if *huge {
		bring, how = artifact.CopyToHugePages, "copied"
	}
	a, err := bring(*artifactPath)
	if err != nil {
		logger.Printf("cannot serve: %v", err)
		os.Exit(1)
	}
	mapped := time.Since(start)
	checkIdentity(a, pinned, logger)
	svc.SetArtifactDigest(a.SHA256.String())
	if h := a.HugeBytes(); h >= 0 {
		how += fmt.Sprintf(" (%.0f MiB in huge pages)", float64(h)/(1<<20))
	}
	warmed := svc.ServeIndex(a.Index, *warm)
	runtime.GC()
	debug.FreeOSMemory()
	logger.Printf("ready: %d vectors in %d clusters, %.1f MiB %s and checked in %v, %d warm-up searches in %v",
		a.Index.Len(), a.Index.Clusters(), float64(a.Size)/(1<<20), how, mapped.Round(time.Millisecond), *warm, warmed.Round(time.Millisecond))
}
