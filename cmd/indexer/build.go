package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"fraudknn/artifact"
	"fraudknn/internal/kmeans"
	"fraudknn/internal/refs"
	"fraudknn/knn"
)

// run reads the references at refsPath, clusters them into k clusters and
// writes the artifact at out, creating its folder if missing, reporting
// its progress and what it read and wrote on stderr.
func run(refsPath, out string, k int, seed uint64, iters, sampleSize, workers int) error {
	start := time.Now()
	fmt.Fprintf(os.Stderr, "indexer: reading %s, writing %s\n", refsPath, out)
	p := newProgress(os.Stderr, start)

	set, err := refs.ReadFile(refsPath, func(done, total int64) { p.report("read", int(done>>10), int(total>>10)) })
	if err != nil {
		return fmt.Errorf("reading references: %w\nnothing was written", err)
	}
	p.done("read", fmt.Sprintf("%d vectors (%d fraud), %.0f MB of JSON", set.Len(), set.Frauds(), float64(set.Bytes)/1e6))

	res, err := kmeans.Run(set.Vecs, kmeans.Config{
		K: k, MaxIter: iters, Sample: sampleSize, Seed: seed, Workers: workers,
		Progress: p.report,
	})
	if err != nil {
		return err
	}
	p.done("k-means", fmt.Sprintf("%d iterations, training vectors moved per iteration %v", res.Iterations, res.Moved))

	ix, err := knn.Build(set.Vecs, set.Labels, res.Assign, res.K)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("creating the artifact's folder: %w", err)
	}
	w, err := artifact.Write(out, ix, artifact.Meta{Source: set.SHA256, Seed: seed, KRequested: k, Iterations: res.Iterations})
	if err != nil {
		return err
	}
	p.done("write", out)

	sizes := ix.ClusterSizes()
	slices.Sort(sizes)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Fprintf(os.Stderr, "indexer: N %d, K %d (asked %d), cluster sizes min %d / median %d / max %d, wall %.1fs, peak RSS %d MiB, artifact %s %.1f MiB, source sha256 %x\n",
		ix.Len(), ix.Clusters(), k, sizes[0], sizes[len(sizes)/2], sizes[len(sizes)-1],
		time.Since(start).Seconds(), ru.Maxrss>>10, out, float64(w.Size)/(1<<20), set.SHA256)
	fmt.Fprintf(os.Stderr, "indexer: the artifact's sha256 is %s, recorded in %s; pin it where the API runs: api -digest %s\n", w.SHA256, artifact.DigestPath(out), w.SHA256)
	fmt.Printf("%s  %s\n", w.SHA256, out) // sha256sum's line, for scripts
	return nil
}
