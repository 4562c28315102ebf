// Command indexer turns the contest's reference file into the artifact the
// service maps: it reads references.json.gz, clusters the vectors with
// k-means and writes the index atomically.
//
//	go run ./cmd/indexer [-refs references.json.gz] [-out build/index.fknn] [-k 4096] [-seed 1]
//
// With no -refs it looks where the Makefile does (resources/, then the
// shared data folder: $FRAUDKNN_DATA, else ../shared/data beside the
// repository); with no -out it writes build/index.fknn, creating build/.
// Beside the artifact it records the file's SHA-256 (FILE.sha256, as
// sha256sum writes it) and prints it: the digest to pin where the API
// runs (api -digest).
//
//	indexer -check FILE [-digest HEX] [-memory-limit 160MB]
//
// checks an artifact as an API would before serving it, and the digest
// when one is given, and exits 0 if every check passes, else 1 saying
// which failed. Operators run it before they roll a new artifact out.
package main

import (
	"flag"
	"fmt"
	"os"

	"fraudknn/artifact"
	"fraudknn/internal/kmeans"
	"fraudknn/internal/memlimit"
)

var (
	refsPath   = flag.String("refs", "", "reference file: a JSON array of {vector, label} records, gzipped or not (default: resources/references.json.gz, else references.json.gz in the shared data folder)")
	out        = flag.String("out", defaultOut, "artifact to write; replaced atomically, its folder created if missing")
	k          = flag.Int("k", 4096, "clusters")
	seed       = flag.Uint64("seed", 1, "seed of the k-means training sample")
	iters      = flag.Int("iters", kmeans.DefaultIterations, "k-means (Lloyd) iterations at most; 0 keeps the initial k-d split")
	sampleSize = flag.Int("sample", kmeans.DefaultSample, "train k-means on this many vectors drawn with -seed, then assign all; 0 trains on all")
	workers    = flag.Int("workers", 0, "goroutines for clustering; 0 means one per CPU")

	checkPath   = flag.String("check", "", "do not build: check this artifact as an API would before serving it, and exit 0 if it passes, else 1")
	digest      = flag.String("digest", "", "with -check: the pinned SHA-256 the artifact must have")
	memoryLimit = flag.String("memory-limit", "", "with -check: the memory an API instance may use, as 160MB; check that the artifact leaves it enough")
)

func main() {
	flag.Usage = usage
	flag.Parse()
	if *checkPath != "" {
		os.Exit(runCheck())
	}
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

// runCheck runs -check and returns the exit status: 0 if the artifact
// passes, 1 if not, 2 if the command line is wrong.
func runCheck() int {
	if flag.NArg() > 0 {
		usage()
		return 2
	}
	var pinned artifact.Digest
	if *digest != "" {
		d, err := artifact.ParseDigest(*digest)
		if err != nil {
			fmt.Fprintf(os.Stderr, "indexer: -digest: %v\n", err)
			return 2
		}
		pinned = d
	}
	var limit int64
	if *memoryLimit != "" {
		l, err := memlimit.Parse(*memoryLimit)
		if err != nil {
			fmt.Fprintf(os.Stderr, "indexer: -memory-limit: %v\n", err)
			return 2
		}
		limit = l
	}
	if err := check(*checkPath, pinned, limit, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "indexer: refused: %v\n", err)
		return 1
	}
	return 0
}

func usage() {
	fmt.Fprintf(flag.CommandLine.Output(), "usage: indexer [-refs references.json.gz] [-out %s] [flags]\n       indexer -check FILE [-digest HEX] [-memory-limit 160MB]\n\n", defaultOut)
	flag.PrintDefaults()
}
