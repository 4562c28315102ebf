// Command composecheck runs the project's compose files on a real Docker
// engine and checks them end to end (package composecheck says what);
// each file passed ends with one summary line, or a failure naming the
// cause. make compose-check runs it through scripts/compose-check.sh,
// which installs the engine and Compose first.
//
//	composecheck [-broken] [-arm64 N] docker-compose.yml docker-compose.fdpass.yml
//
// Each file's line is followed by one line per service: the hardening
// read back. -broken also runs each file broken in the ways package
// composecheck lists (BrokenVariants) and fails unless each is refused
// with its cause. -arm64 N runs the first file again with the APIs from
// the arm64 image under emulation (SKIPPED, saying why, where the
// machine cannot), N payloads through port 9999.
// It needs root (it reads the socket volume and kills an API from the
// host), the images built (make image) and k6.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fraudknn/harness/internal/compose"
	"fraudknn/harness/internal/composecheck"
	"fraudknn/harness/internal/loadtest"
	"fraudknn/internal/payloads"
)

func main() {
	var cfg composecheck.Config
	payloadsPath := flag.String("payloads", "../shared/data/test-data.json.gz", "test-data file")
	flag.StringVar(&cfg.K6.Bin, "k6", ".tools/bin/k6", "k6 binary")
	flag.StringVar(&cfg.K6.Script, "script", "k6/score.js", "k6 script")
	flag.StringVar(&cfg.Project, "project", "fraudknn-check", "compose project name")
	flag.IntVar(&cfg.Peak, "peak", 300, "k6 lane: requests/s at the end of the ramp")
	flag.IntVar(&cfg.Seconds, "seconds", 20, "k6 lane: length of the ramp")
	flag.IntVar(&cfg.KillRate, "kill-rate", 300, "requests/s while api1 is killed")
	runs := flag.String("runs", "runs", "folder for run folders")
	broken := flag.Bool("broken", false, "also check that each broken variant of each file is refused, naming its cause")
	arm64 := flag.Int("arm64", 0, "also run the first file with the APIs from the arm64 image under emulation (binfmt and qemu-aarch64), replaying this many payloads; 0: not")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: composecheck [-broken] docker-compose.yml [docker-compose.fdpass.yml]")
		os.Exit(2)
	}
	cfg.Log = log.New(os.Stderr, "composecheck: ", log.LstdFlags)
	cfg.Static = true
	dir, err := filepath.Abs(filepath.Join(*runs, "compose-check-"+time.Now().Format("20060102-150405")))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	var p *payloads.File
	if err == nil {
		p, err = payloads.Load(*payloadsPath)
	}
	if err == nil {
		cfg.K6.Payloads, err = loadtest.Unpack(*payloadsPath, dir)
	}
	if err != nil {
		cfg.Log.Fatal(err)
	}
	cfg.Payloads = p.Entries

	var lines []string
	failed := false
	for _, file := range flag.Args() {
		c := cfg
		c.File, c.Dir = file, filepath.Join(dir, strings.TrimSuffix(filepath.Base(file), ".yml"))
		r, err := composecheck.Run(c)
		if err != nil {
			failed = true
			lines = append(lines, fmt.Sprintf("compose-check %s: FAILED: %v", file, err))
			continue
		}
		lines = append(lines, r.Line(file))
		lines = append(lines, r.HardeningLines(file, c.Project)...)
		if *arm64 > 0 && file == flag.Arg(0) {
			ac := c
			ac.Dir = filepath.Join(c.Dir, "arm64")
			a, err := composecheck.RunArm64(ac, *arm64)
			if err != nil {
				failed = true
				lines = append(lines, fmt.Sprintf("compose-check %s arm64: FAILED: %v", file, err))
			} else {
				lines = append(lines, a.Line(file))
			}
		}
		if *broken {
			lines = append(lines, runBroken(c, file, &failed)...)
		}
	}
	os.Remove(filepath.Join(dir, "payloads.json")) // our unpacked copy
	for _, l := range lines {
		fmt.Println(l)
	}
	if failed {
		os.Exit(1)
	}
}

// runBroken checks every broken variant of file; one line each.
func runBroken(c composecheck.Config, file string, failed *bool) []string {
	f, err := compose.Load(file)
	if err != nil {
		*failed = true
		return []string{err.Error()}
	}
	var lines []string
	for i, v := range composecheck.BrokenVariants(f.Balancer()) {
		static, engine, err := composecheck.RunBroken(c, v, filepath.Join(c.Dir, fmt.Sprintf("broken-%d", i+1)))
		if err != nil {
			*failed = true
			lines = append(lines, fmt.Sprintf("compose-check %s broken (%s): NOT REFUSED AS EXPECTED: %v", file, v.Name, err))
			continue
		}
		lines = append(lines, fmt.Sprintf("compose-check %s broken (%s): refused, statically (%s) and on the engine (%s)", file, v.Name, static, engine))
	}
	return lines
}
