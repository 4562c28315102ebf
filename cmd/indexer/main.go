// Command indexer turns the contest's reference file into the artifact the
// service maps: it reads references.json.gz, clusters the vectors with
// k-means and writes the index atomically.
//
//	go run ./cmd/indexer [-refs references.json.gz] [-out build/index.fknn] [-k 4096] [-seed 1]
//
// With no -refs it looks where the Makefile does (resources/, then the
// shared data folder: $FRAUDKNN_DATA, else ../shared/data beside the
// repository); with no -out it writes build/index.fknn, creating build/.
package main

import (
	"flag"
	"fmt"
	"os"

	"fraudknn/internal/kmeans"
)

var (
	refsPath   = flag.String("refs", "", "reference file: a JSON array of {vector, label} records, gzipped or not (default: resources/references.json.gz, else references.json.gz in the shared data folder)")
	out        = flag.String("out", defaultOut, "artifact to write; replaced atomically, its folder created if missing")
	k          = flag.Int("k", 4096, "clusters")
	seed       = flag.Uint64("seed", 1, "seed of the k-means training sample")
	iters      = flag.Int("iters", kmeans.DefaultIterations, "k-means (Lloyd) iterations at most; 0 keeps the initial k-d split")
	sampleSize = flag.Int("sample", kmeans.DefaultSample, "train k-means on this many vectors drawn with -seed, then assign all; 0 trains on all")
	workers    = flag.Int("workers", 0, "goroutines for clustering; 0 means one per CPU")
)

func main() {
	flag.Usage = usage
	flag.Parse()
	if flag.NArg() > 0 || *out == "" || *k < 1 {
		usage()
		os.Exit(2)
	}
	refs, err := findRefs(*refsPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "indexer: %v\n", err)
		os.Exit(1)
	}
	if err := run(refs, *out, *k, *seed, *iters, *sampleSize, *workers); err != nil {
		fmt.Fprintf(os.Stderr, "indexer: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintf(flag.CommandLine.Output(), "usage: indexer [-refs references.json.gz] [-out %s] [flags]\n\n", defaultOut)
	flag.PrintDefaults()
}
