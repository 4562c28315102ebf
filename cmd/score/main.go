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
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fraudknn/internal/stack"
)

func main() {
	k6 := flag.String("k6", ".tools/bin/k6", "k6 binary (make score installs v1.8.1 there)")
	script := flag.String("script", "k6/score.js", "k6 script")
	payloads := flag.String("payloads", "../shared/data/test-data.json.gz", "test-data file, JSON or .json.gz")
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
	clean, err := run(logger, *k6, *script, *payloads, *peak, *seconds, *url, *runs, *artifactPath)
	if err != nil {
		logger.Printf("%v", err)
		os.Exit(1)
	}
	if *strict && !clean {
		logger.Printf("-strict: the run had failed requests or wrong answers")
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// run does the work and reports whether every request got a right answer.
func run(logger *log.Logger, k6, script, payloads, peak, seconds, url, runs, artifactPath string) (clean bool, err error) {
	dir, err := filepath.Abs(filepath.Join(runs, "score-"+time.Now().Format("20060102-150405")))
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}

	// The stack: the running one, or one of our own.
	var cgroups map[string]*stack.Cgroup
	if ready(url) {
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
			return false, err
		}
		defer func() {
			if err := s.Stop(); err != nil {
				logger.Printf("stopping the stack: %v", err)
			}
		}()
		cgroups = map[string]*stack.Cgroup{}
		for _, name := range stack.Services {
			if cg := s.Cgroup(name); cg != nil {
				cgroups[name] = cg
			}
		}
	}
	if len(cgroups) == 0 {
		logger.Printf("no cgroups found for the stack: budget use will not be reported")
	}

	plain, err := unpack(payloads, dir)
	if err != nil {
		return false, err
	}

	sampler := startSampling(cgroups, time.Second)
	results := filepath.Join(dir, "results.json")
	cmd := exec.Command(k6, "run", "--quiet", script)
	cmd.Env = append(os.Environ(),
		"PAYLOADS="+plain, "URL="+url, "PEAK="+peak, "SECONDS="+seconds, "RESULTS="+results,
		"K6_WEB_DASHBOARD=true", "K6_WEB_DASHBOARD_OPEN=false", "K6_WEB_DASHBOARD_PORT=-1",
		"K6_WEB_DASHBOARD_PERIOD=1s", "K6_WEB_DASHBOARD_EXPORT="+filepath.Join(dir, "report.html"),
		"K6_NO_USAGE_REPORT=true",
	)
	logf, err := os.Create(filepath.Join(dir, "k6.log"))
	if err != nil {
		return false, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	logger.Printf("k6: ramping to %s requests/s over %s s; run folder %s", peak, seconds, dir)
	start := time.Now()
	k6err := cmd.Run()
	budget := sampler.stop(time.Since(start))
	os.Remove(plain) // 36 MB the run does not need any more
	if k6err != nil {
		return false, fmt.Errorf("k6: %v; see %s", k6err, filepath.Join(dir, "k6.log"))
	}

	// Merge the budget use into k6's results.
	b, err := os.ReadFile(results)
	if err != nil {
		return false, fmt.Errorf("k6 wrote no results: %v; see %s", err, filepath.Join(dir, "k6.log"))
	}
	var r map[string]any
	if err := json.Unmarshal(b, &r); err != nil {
		return false, fmt.Errorf("%s: %v", results, err)
	}
	r["budget"] = budget
	b, _ = json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(results, append(b, '\n'), 0o644); err != nil {
		return false, err
	}
	for _, name := range stack.Services {
		if u, ok := budget[name]; ok {
			logger.Printf("%-5s used %.2f CPU-s (%.3f of its %.2f CPU on average), throttled in %d of %d periods, memory peak %.0f of %.0f MiB, OOM kills %d",
				name, u.CPUSeconds, u.CPUAverage, u.QuotaCPUs, u.ThrottledPeriods, u.Periods, u.MemoryPeakMiB, u.MemoryLimitMiB, u.OOMKills)
		}
	}
	lat := r["latency_ms"].(map[string]any)
	br := r["breakdown"].(map[string]any)
	fmt.Printf("results: %s\nreport:  %s\n", results, filepath.Join(dir, "report.html"))
	fmt.Printf("score %.1f (p99 %.3f ms, FP %v, FN %v, errors %v, requests %v)\n",
		r["final_score"], lat["p99"], br["fp"], br["fn"], br["errors"], r["requests"])
	return br["fp"] == 0.0 && br["fn"] == 0.0 && br["errors"] == 0.0, nil
}

func ready(url string) bool {
	resp, err := (&http.Client{Timeout: time.Second}).Get(url + "/ready")
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// unpack returns an uncompressed copy of payloads in dir when it is
// gzipped (k6 reads plain files), else payloads itself.
func unpack(payloads, dir string) (string, error) {
	if !strings.HasSuffix(payloads, ".gz") {
		return filepath.Abs(payloads)
	}
	in, err := os.Open(payloads)
	if err != nil {
		return "", err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return "", fmt.Errorf("%s: %w", payloads, err)
	}
	out := filepath.Join(dir, "payloads.json")
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, zr); err != nil {
		f.Close()
		return "", fmt.Errorf("%s: %w", payloads, err)
	}
	return out, f.Close()
}

// Usage is what one component used during the run.
type Usage struct {
	QuotaCPUs        float64 `json:"quota_cpus"`
	CPUSeconds       float64 `json:"cpu_seconds"`
	CPUAverage       float64 `json:"cpu_average"` // CPU-seconds per second of the run
	CPUPeak          float64 `json:"cpu_peak_1s"` // the busiest one-second sample
	Periods          int64   `json:"cfs_periods"` // CFS periods with runnable tasks
	ThrottledPeriods int64   `json:"throttled_periods"`
	ThrottledSeconds float64 `json:"throttled_seconds"`
	MemoryPeakMiB    float64 `json:"memory_peak_mib"` // since the cgroup was made
	MemoryLimitMiB   float64 `json:"memory_limit_mib"`
	OOMKills         int64   `json:"oom_kills"`
}

type sampler struct {
	cgroups map[string]*stack.Cgroup
	first   map[string]stack.Stats
	last    map[string]stack.Stats
	peak    map[string]float64
	quit    chan struct{}
	wg      sync.WaitGroup
}

// startSampling reads every cgroup now and then every period until stop.
func startSampling(cgroups map[string]*stack.Cgroup, period time.Duration) *sampler {
	s := &sampler{cgroups: cgroups, first: map[string]stack.Stats{}, last: map[string]stack.Stats{}, peak: map[string]float64{}, quit: make(chan struct{})}
	for name, cg := range cgroups {
		st, _ := cg.Stats()
		s.first[name], s.last[name] = st, st
	}
	s.wg.Go(func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-t.C:
				for name, cg := range s.cgroups {
					st, err := cg.Stats()
					if err != nil {
						continue
					}
					s.peak[name] = max(s.peak[name], (st.CPUSeconds-s.last[name].CPUSeconds)/period.Seconds())
					s.last[name] = st
				}
			}
		}
	})
	return s
}

func (s *sampler) stop(elapsed time.Duration) map[string]Usage {
	close(s.quit)
	s.wg.Wait()
	out := map[string]Usage{}
	for name, cg := range s.cgroups {
		end, err := cg.Stats()
		if err != nil {
			end = s.last[name]
		}
		a := s.first[name]
		out[name] = Usage{
			QuotaCPUs:        end.QuotaCPUs,
			CPUSeconds:       end.CPUSeconds - a.CPUSeconds,
			CPUAverage:       (end.CPUSeconds - a.CPUSeconds) / elapsed.Seconds(),
			CPUPeak:          s.peak[name],
			Periods:          end.Periods - a.Periods,
			ThrottledPeriods: end.Throttled - a.Throttled,
			ThrottledSeconds: end.ThrottledSecs - a.ThrottledSecs,
			MemoryPeakMiB:    float64(end.MemoryPeak) / (1 << 20),
			MemoryLimitMiB:   float64(end.MemoryLimit) / (1 << 20),
			OOMKills:         end.OOMKills,
		}
	}
	return out
}
