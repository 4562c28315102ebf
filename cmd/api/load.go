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

// checkArtifact fails, before the API listens, when there is no file at
// path, saying where it looked and how to build one. Anything else wrong
// with the file is for load to find.
func checkArtifact(path string) error {
	_, err := os.Stat(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	where := path
	if abs, aerr := filepath.Abs(path); aerr == nil {
		where = abs
	}
	return fmt.Errorf("no artifact at %s (%v): build it with `go run ./cmd/indexer` or `make artifact`, or name another file with -artifact", where, err)
}

// load says what it serves, brings the artifact into memory (copied into
// huge pages, or mapped with -hugepages=false), checked, and makes svc
// answer from it after the warm-up searches. A bad artifact stops the program (exit 1)
// with what is wrong and how to rebuild it.
func load(svc *server.Service, logger *log.Logger) {
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
}
