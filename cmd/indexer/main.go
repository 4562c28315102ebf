// Command indexer turns the contest's reference file into the artifact the
// service maps: it reads references.json.gz, clusters the vectors with
// k-means and writes the index atomically.
//
//	go run ./cmd/indexer -refs references.json.gz -out index.fknn [-k 4096] [-seed 1]
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"fraudknn/artifact"
	"fraudknn/internal/kmeans"
	"fraudknn/internal/refs"
	"fraudknn/knn"
)

func main() {
	refsPath := flag.String("refs", "", "reference file: a JSON array of {vector, label} records, gzipped or not (required)")
	out := flag.String("out", "", "artifact to write; replaced atomically (required)")
	k := flag.Int("k", 4096, "clusters")
	seed := flag.Uint64("seed", 1, "seed of the k-means training sample")
	iters := flag.Int("iters", kmeans.DefaultIterations, "k-means (Lloyd) iterations at most; 0 keeps the initial k-d split")
	sampleSize := flag.Int("sample", kmeans.DefaultSample, "train k-means on this many vectors drawn with -seed, then assign all; 0 trains on all")
	workers := flag.Int("workers", 0, "goroutines for clustering; 0 means one per CPU")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: indexer -refs references.json.gz -out index.fknn [flags]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *refsPath == "" || *out == "" || flag.NArg() > 0 || *k < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*refsPath, *out, *k, *seed, *iters, *sampleSize, *workers); err != nil {
		fmt.Fprintf(os.Stderr, "indexer: %v\n", err)
		os.Exit(1)
	}
}

func run(refsPath, out string, k int, seed uint64, iters, sampleSize, workers int) error {
	start := time.Now()
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
	size, err := artifact.Write(out, ix, artifact.Meta{Source: set.SHA256, Seed: seed, KRequested: k, Iterations: res.Iterations})
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
		time.Since(start).Seconds(), ru.Maxrss>>10, out, float64(size)/(1<<20), set.SHA256)
	return nil
}
