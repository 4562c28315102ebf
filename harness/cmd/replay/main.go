// Command replay runs labelled test payloads through vectorize and the
// exact search in-process and reports every wrong answer. make tools
// (or make replay) builds bin/replay.
//
//	bin/replay -artifact index.fknn -payloads test-data.json.gz
//	bin/replay -artifact index.fknn -payloads test-data.json.gz -explain 5
//	bin/replay -url http://127.0.0.1:9999 -payloads test-data.json.gz [-conns 8] [-limit N]
//	bin/replay -url http://127.0.0.1:9101 -payloads test-data.json.gz -explain 5
//
// With -url it posts the payloads to a running service instead. With
// -explain N it prints, one JSON object a line, the explained answers of
// the first N payloads (what POST /fraud-score/explain sends, with each
// payload's expected answer) and replays nothing: computed in-process
// with -artifact, or asked of the API whose operator listener -url names
// (the public port does not explain; `make run` serves api1's at
// 127.0.0.1:9101).
//
// It ends with one summary line and exits 0 only when no answer was
// wrong, no fraud_score differed and no payload failed.
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"fraudknn/artifact"
	"fraudknn/harness/internal/replay"
	"fraudknn/internal/payloads"
	"fraudknn/knn"
)

func main() {
	artifactPath := flag.String("artifact", "", "artifact built by cmd/indexer (required)")
	payloadsPath := flag.String("payloads", "", "test-data file: JSON or .json.gz with entries of request, expected_approved, expected_fraud_score (required)")
	show := flag.Int("show", 10, "print the first N wrong answers and errors in detail")
	brute := flag.Int("brute", 0, "also check the neighbours of the first N payloads against a brute-force scan")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the replay to this file")
	url := flag.String("url", "", "post the payloads to this running service instead of searching in-process (with -explain: an API's operator listener, such as http://127.0.0.1:9101)")
	conns := flag.Int("conns", 8, "with -url: concurrent connections")
	limit := flag.Int("limit", 0, "replay only the first N payloads (0: all)")
	passes := flag.Int("passes", 1, "time every search in this many passes over all payloads and also report each query's fastest (filters the machine's noise out of the p99)")
	explain := flag.Int("explain", 0, "print the explained answers of the first N payloads (JSON lines) instead of replaying")
	huge := flag.Bool("hugepages", true, "copy the artifact into transparent huge pages, as the API does; false maps the file")
	flag.Parse()
	if (*artifactPath == "") == (*url == "") || *payloadsPath == "" || flag.NArg() > 0 || *conns < 1 {
		fmt.Fprintln(os.Stderr, "usage: replay -artifact index.fknn -payloads test-data.json.gz [-show N] [-brute N] [-limit N] [-explain N]\n       replay -url http://127.0.0.1:9999 -payloads test-data.json.gz [-conns 8] [-limit N]\n       replay -url http://127.0.0.1:9101 -payloads test-data.json.gz -explain N")
		os.Exit(2)
	}
	if *url != "" {
		p, err := payloads.Load(*payloadsPath)
		if err != nil {
			fmt.Fprintf(os.Stderr, "replay: %v\n", err)
			os.Exit(1)
		}
		entries := p.Entries
		if *limit > 0 && *limit < len(entries) {
			entries = entries[:*limit]
		}
		if *explain > 0 {
			failed, err := replay.ExplainHTTP(strings.TrimRight(*url, "/"), entries[:min(*explain, len(entries))], os.Stdout)
			if err != nil || failed > 0 {
				fmt.Fprintf(os.Stderr, "replay: %d payloads were not explained (their lines say why); %v\n", failed, err)
				os.Exit(1)
			}
			return
		}
		sum := replay.RunHTTP(strings.TrimRight(*url, "/"), entries, *conns, replay.Options{Show: *show, Log: os.Stdout})
		fmt.Println(sum)
		if !sum.OK() {
			os.Exit(1)
		}
		return
	}

	open := artifact.Map
	if *huge {
		open = artifact.CopyToHugePages
	}
	a, err := open(*artifactPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "replay: %v\n", err)
		os.Exit(1)
	}
	defer a.Close()
	p, err := payloads.Load(*payloadsPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "replay: %v\n", err)
		os.Exit(1)
	}
	if *limit > 0 && *limit < len(p.Entries) {
		p.Entries = p.Entries[:*limit]
	}
	if p.ReferencesSHA256 != "" && p.ReferencesSHA256 != hex.EncodeToString(a.Meta.Source[:]) {
		fmt.Fprintf(os.Stderr, "replay: warning: the payloads' answers were computed against references with sha256 %s, the artifact was built from %x; expect wrong answers\n",
			p.ReferencesSHA256, a.Meta.Source)
	}
	if *explain > 0 {
		failed, err := replay.Explain(a.Index, p.Entries[:min(*explain, len(p.Entries))], os.Stdout)
		if err != nil || failed > 0 {
			fmt.Fprintf(os.Stderr, "replay: %d payloads did not vectorize (their lines say why); %v\n", failed, err)
			os.Exit(1)
		}
		return
	}
	fmt.Printf("replay: artifact %s: %d vectors in %d clusters (%.0f MiB in huge pages); %d payloads; kernels %s\n",
		*artifactPath, a.Index.Len(), a.Index.Clusters(), float64(max(a.HugeBytes(), 0))/(1<<20), len(p.Entries), knn.Kernel())
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "replay: %v\n", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
	}
	sum := replay.Run(a.Index, p.Entries, replay.Options{Show: *show, Brute: *brute, Log: os.Stdout, Passes: *passes})
	pprof.StopCPUProfile()
	if sum.BruteChecked > 0 {
		fmt.Printf("replay: checked the neighbours of %d payloads against brute force\n", sum.BruteChecked)
	}
	fmt.Println(sum)
	if !sum.OK() {
		os.Exit(1)
	}
}
