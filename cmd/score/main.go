// Command score runs the contest's k6 load test against the service and
// scores it, as `make score` does. It starts the native stack unless one
// already answers /ready, runs k6/score.js, samples every component's
// cgroup while it runs, and writes into one run folder: results.json
// (k6's breakdown, the score and the budget each component used),
// report.html (k6's web dashboard export) and k6.log. It ends with
//
//	score S (p99 X ms, FP a, FN b, errors e, requests n)
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"fraudknn/internal/loadtest"
	"fraudknn/internal/stack"
)

func main() {
	k6 := flag.String("k6", ".tools/bin/k6", "k6 binary (make score installs v1.8.1 there)")
	script := flag.String("script", "k6/score.js", "k6 script")
	payloads := flag.String("payloads", "../shared/data/test-data.json.gz", "test-data file, JSON or .json.gz (env PAYLOADS)")
	peak := flag.String("peak", envOr("PEAK", "900"), "requests/s at the end of the ramp (env PEAK)")
	seconds := flag.String("seconds", envOr("SECONDS", "120"), "length of the ramp in seconds (env SECONDS)")
	url := flag.String("url", "http://127.0.0.1:9999", "the service")
	runs := flag.String("runs", "runs", "folder for run folders")
	artifactPath := flag.String("artifact", "build/index.fknn", "artifact, if the stack must be started")
	strict := flag.Bool("strict", false, "exit 1 if any request failed or any answer was wrong (the CI lane)")
	flag.Parse()
	if p := os.Getenv("PAYLOADS"); p != "" {
		*payloads = p
	}
	logger := log.New(os.Stderr, "score: ", log.LstdFlags)
	os.Exit(run(logger, *k6, *script, *payloads, *peak, *seconds, *url, *runs, *artifactPath, *strict))
}

// run does the work and returns the exit status; deferred clean-up (the
// stack it started) runs before the process exits.
func run(logger *log.Logger, k6, script, payloads, peak, seconds, url, runs, artifactPath string, strict bool) int {
	dir, err := filepath.Abs(filepath.Join(runs, "score-"+time.Now().Format("20060102-150405")))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		logger.Print(err)
		return 1
	}

	// The stack: the running one, or one of our own.
	cgroups := map[string]*stack.Cgroup{}
	if loadtest.Ready(url) {
		logger.Printf("using the stack already answering at %s", url)
		cgroups = stack.FindCgroups()
	} else {
		logger.Printf("no stack answers at %s: starting one", url)
		s, err := stack.Start(stack.Config{
			Compose: "docker-compose.yml", NginxConf: "nginx/nginx.conf", Nginx: "nginx",
			API: "bin/api", Artifact: artifactPath, RunsDir: runs, Port: 9999,
			Log: log.New(os.Stderr, "stack: ", log.LstdFlags),
		})
		if err != nil {
			logger.Print(err)
			return 1
		}
		defer func() {
			if err := s.Stop(); err != nil {
				logger.Printf("stopping the stack: %v", err)
			}
		}()
		for _, name := range stack.Services {
			if cg := s.Cgroup(name); cg != nil {
				cgroups[name] = cg
			}
		}
	}
	if len(cgroups) == 0 {
		logger.Printf("no cgroups found for the stack: budget use will not be reported")
	}

	plain, err := loadtest.Unpack(payloads, dir)
	if err != nil {
		logger.Print(err)
		return 1
	}
	k := loadtest.K6{Bin: k6, Script: script, Payloads: plain, URL: url}
	logger.Printf("k6: ramping to %s requests/s over %s s; run folder %s", peak, seconds, dir)
	sampler := loadtest.StartSampling(cgroups, time.Second)
	res, err := k.Run(dir, "PEAK="+peak, "SECONDS="+seconds)
	budget := sampler.Stop()
	if plain != payloads {
		os.Remove(plain) // 36 MB the run folder does not need
	}
	if err != nil {
		logger.Print(err)
		return 1
	}
	if err := loadtest.AddToResults(dir, "budget", budget); err != nil {
		logger.Printf("adding the budget to the results: %v", err)
	}
	for _, name := range stack.Services {
		if u, ok := budget[name]; ok {
			logger.Print(u.Describe(name))
		}
	}
	fmt.Printf("results: %s\nreport:  %s\n%s\n", filepath.Join(dir, "results.json"), filepath.Join(dir, "report.html"), res.Line())
	if strict && !res.Clean() {
		logger.Printf("-strict: the run had failed requests or wrong answers")
		return 1
	}
	return 0
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
