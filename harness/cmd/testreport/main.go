// Command testreport lets `make test` say which tests it skipped and why.
// Each `go test -json` run is piped through it:
//
//	go test -json ./... | bin/testreport -run product -skips build/test/product.json
//
// which prints what a plain `go test` would (package lines, failed tests'
// output, build errors), saves the run's skipped tests and exits 1 if
// anything failed. After the last run,
//
//	bin/testreport -summary build/test/product.json build/test/purego.json ...
//
// lists every skipped test once, with the runs that skipped it and the
// reason its t.Skip gave.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"fraudknn/harness/internal/testreport"
)

func main() {
	run := flag.String("run", "", "this run's name in the summary (for example purego)")
	skips := flag.String("skips", "", "file to save this run's skipped tests to")
	summary := flag.Bool("summary", false, "print the skipped tests saved in the files named as arguments, and exit")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("testreport: ")

	if *summary {
		runs, err := load(flag.Args())
		if err != nil {
			log.Fatal(err)
		}
		testreport.Summarize(os.Stdout, runs)
		return
	}
	if *run == "" || *skips == "" {
		log.Fatal("pipe go test -json into testreport -run NAME -skips FILE, or give -summary FILE...")
	}
	res, err := testreport.Stream(os.Stdin, os.Stdout)
	if err != nil {
		log.Fatalf("reading go test -json from stdin: %v", err)
	}
	if err := save(*skips, testreport.Run{Name: *run, Skipped: res.Skipped}); err != nil {
		log.Fatal(err)
	}
	if res.Failed {
		os.Exit(1)
	}
}

func save(path string, r testreport.Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func load(paths []string) ([]testreport.Run, error) {
	var runs []testreport.Run
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("%v (each go test run saves its skipped tests there first)", err)
		}
		var r testreport.Run
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: not a saved run: %v", p, err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}
