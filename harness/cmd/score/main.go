// Command score runs the contest's k6 load test against the service and
// scores it, as `make score` does. It starts the native stack unless one
// already answers /ready, runs k6/score.js, samples every component's
// cgroup while it runs, and writes into one run folder: results.json
// (k6's breakdown, the score, the budget each component used and what
// a request cost each: CPU user and system, context switches, system
// calls), report.html (k6's web dashboard export) and k6.log. It ends
// with
//
//	CPU per request over n requests: total T µs (user u, system s) = nginx …
//	per request: nginx … context switches …, … system calls …
//	score S (p99 X ms, FP a, FN b, errors e, requests n)
//
// -rate R sends a constant R requests/s for -seconds instead of the
// contest's ramp: the shape to compare CPU per request at.
// -repeat N runs it N times, each on a stack of its own started fresh (as
// the contest does), and ends with the medians. -floor runs the stack's
// APIs in their measurement mode (a fixed answer, no parsing, no search):
// its p99 is the plumbing floor docs/TUNING.md compares against; its
// answers are not scores.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"fraudknn/harness/internal/loadtest"
	"fraudknn/harness/internal/observe"
	"fraudknn/harness/internal/stack"
)

// options are the command line.
type options struct {
	k6, script, payloads, peak, seconds, url, runs  string
	artifact, compose, nginxConf, balancer, apiArgs string
	api, prometheus, prometheusConfig               string
	strict, floor, syscalls, picture                bool
	repeat, rate                                    int
}

func main() {
	var o options
	flag.StringVar(&o.k6, "k6", ".tools/bin/k6", "k6 binary (make score installs v1.8.1 there)")
	flag.StringVar(&o.script, "script", "k6/score.js", "k6 script")
	flag.StringVar(&o.payloads, "payloads", "../shared/data/test-data.json.gz", "test-data file, JSON or .json.gz (env PAYLOADS)")
	flag.StringVar(&o.peak, "peak", envOr("PEAK", "900"), "requests/s at the end of the ramp (env PEAK)")
	flag.StringVar(&o.seconds, "seconds", envOr("SECONDS", "120"), "length of the ramp in seconds (env SECONDS)")
	flag.StringVar(&o.url, "url", "http://127.0.0.1:9999", "the service")
	flag.StringVar(&o.runs, "runs", "runs", "folder for run folders")
	flag.StringVar(&o.artifact, "artifact", "build/index.fknn", "artifact, if the stack must be started")
	flag.StringVar(&o.compose, "compose", "", "compose file with the limits, if the stack must be started (default docker-compose.yml, or docker-compose.fdpass.yml with -balancer fdpass)")
	flag.StringVar(&o.nginxConf, "nginx-conf", "nginx/nginx.conf", "nginx configuration, if the stack must be started")
	flag.StringVar(&o.balancer, "balancer", "nginx", "load balancer, if the stack must be started: nginx, or fdpass (cmd/lb)")
	flag.StringVar(&o.api, "api", "bin/api", "the api binary, if the stack must be started (an earlier build, to compare with)")
	flag.StringVar(&o.apiArgs, "api-args", "", "extra flags for both API instances, if the stack must be started (for example \"-procs 1\"); how docs/TUNING.md varies one setting at a time")
	flag.BoolVar(&o.strict, "strict", false, "exit 1 if any request failed or any answer was wrong (the CI lane)")
	flag.BoolVar(&o.floor, "floor", false, "MEASUREMENT ONLY: start the stack with its APIs answering a fixed body (the plumbing floor)")
	flag.IntVar(&o.repeat, "repeat", 1, "runs, each on a freshly started stack; the summary gives the medians")
	flag.IntVar(&o.rate, "rate", 0, "if set: a constant rate of this many requests/s for -seconds instead of the ramp")
	flag.BoolVar(&o.syscalls, "syscalls", false, "also count each component's system calls with "+loadtest.SyscallTool+" (adds CPU to every call: compare CPU figures only between runs alike in this)")
	flag.StringVar(&o.prometheus, "prometheus", observe.DefaultURL, "a Prometheus scraping the stack (make observe); when none answers there, one is started for the run")
	flag.StringVar(&o.prometheusConfig, "prometheus-config", "observe/prometheus.yml", "the configuration of the Prometheus started for the run")
	flag.BoolVar(&o.picture, "picture", true, "draw the run's time series from Prometheus into the run folder (run.png, run.svg)")
	flag.Parse()
	if p := os.Getenv("PAYLOADS"); p != "" {
		o.payloads = p
	}
	if o.compose == "" {
		o.compose = stack.ComposeFile(o.balancer)
	}
	logger := log.New(os.Stderr, "score: ", log.LstdFlags)
	if o.repeat < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: score [-peak N | -rate N] [-seconds N] [-repeat N] [-floor] [-strict]; see -help")
		os.Exit(2)
	}
	if o.repeat == 1 && !o.floor {
		_, code := run(logger, o, o.shape()+"-"+time.Now().Format("20060102-150405"), false)
		os.Exit(code)
	}
	// Several runs, or the floor: each needs a stack of its own.
	if loadtest.Ready(o.url) {
		logger.Printf("a stack already answers at %s; -repeat and -floor start their own: stop it first", o.url)
		os.Exit(1)
	}
	mode := o.shape()
	if o.floor {
		mode = "floor-" + mode
	}
	stamp := time.Now().Format("20060102-150405")
	var all []*loadtest.Results
	for i := 1; i <= o.repeat; i++ {
		logger.Printf("run %d of %d (%s)", i, o.repeat, mode)
		res, code := run(logger, o, fmt.Sprintf("%s-%s-%d", mode, stamp, i), true)
		if res == nil {
			os.Exit(code)
		}
		all = append(all, res)
	}
	fmt.Println(summary(mode, all))
	for _, r := range all {
		if o.strict && !o.floor && !r.Clean() {
			os.Exit(1)
		}
	}
}

// shape names the load: score (the ramp) or rate<R>.
func (o options) shape() string {
	if o.rate > 0 {
		return fmt.Sprintf("rate%d", o.rate)
	}
	return "score"
}

// summary is the medians of runs, then every run's line.
func summary(mode string, runs []*loadtest.Results) string {
	scores := make([]float64, len(runs))
	p99s := make([]float64, len(runs))
	costs := map[string][]float64{}
	for i, r := range runs {
		scores[i], p99s[i] = r.FinalScore, r.Latency.P99
		for name, c := range r.Cost.PerRequest {
			costs[name] = append(costs[name], c.CPU)
		}
	}
	s := fmt.Sprintf("%s, %d runs: median score %.1f, median p99 %.3f ms", mode, len(runs), median(scores), median(p99s))
	if len(costs["total"]) == len(runs) {
		s += fmt.Sprintf(", median CPU per request %.0f µs (%s %.0f, api1+api2 %.0f)",
			median(costs["total"]), runs[0].Cost.Balancer, median(costs["nginx"]), median(costs["apis"]))
	}
	for i, r := range runs {
		s += fmt.Sprintf("\n  run %d: %s", i+1, r.Line())
		if c, ok := r.Cost.PerRequest["total"]; ok {
			s += fmt.Sprintf("; CPU per request %.0f µs", c.CPU)
		}
	}
	return s
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return v[n/2]
	} else {
		return (v[n/2-1] + v[n/2]) / 2
	}
}

// run does one run in the run folder name and returns its results and
// the exit status; deferred clean-up (the stack it started) runs before
// it returns. fresh says the stack must be started here.
func run(logger *log.Logger, o options, name string, fresh bool) (*loadtest.Results, int) {
	dir, err := filepath.Abs(filepath.Join(o.runs, name))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		logger.Print(err)
		return nil, 1
	}
	own, cgroups, err := stackFor(logger, o, fresh)
	if err != nil {
		logger.Print(err)
		return nil, 1
	}
	if own != nil {
		defer func() {
			if err := own.Stop(); err != nil {
				logger.Printf("stopping the stack: %v", err)
			}
		}()
	}
	m, err := measure(logger, o, dir, own, cgroups)
	if err != nil {
		logger.Print(err)
		return nil, 1
	}
	record(logger, o, dir, m)
	if o.strict && !o.floor && !m.res.Clean() {
		logger.Printf("-strict: the run had failed requests or wrong answers")
		return m.res, 1
	}
	return m.res, 0
}

// stackFor returns the stack to load: the one already answering at
// o.url (own is nil; its cgroups found by name), or, when there is none
// or fresh asks for it, one started here, which the caller stops.
func stackFor(logger *log.Logger, o options, fresh bool) (own *stack.Stack, cgroups map[string]*stack.Cgroup, err error) {
	cgroups = map[string]*stack.Cgroup{}
	if !fresh && loadtest.Ready(o.url) {
		logger.Printf("using the stack already answering at %s", o.url)
		cgroups = stack.FindCgroups()
	} else {
		logger.Printf("starting a stack")
		cfg := stack.Config{
			Compose: o.compose, NginxConf: o.nginxConf, Nginx: "nginx",
			API: o.api, Artifact: o.artifact, RunsDir: o.runs, Port: 9999,
			Balancer: o.balancer, LB: "bin/lb",
			Log: log.New(os.Stderr, "stack: ", log.LstdFlags),
		}
		cfg.APIArgs = strings.Fields(o.apiArgs)
		if o.floor {
			cfg.APIArgs = append(cfg.APIArgs, "-floor")
		}
		if own, err = stack.Start(cfg); err != nil {
			return nil, nil, err
		}
		for _, name := range stack.Services {
			if cg := own.Cgroup(name); cg != nil {
				cgroups[name] = cg
			}
		}
	}
	if len(cgroups) == 0 {
		logger.Printf("no cgroups found for the stack: budget use will not be reported")
	}
	return own, cgroups, nil
}

// measured is what one k6 run measured: k6's results, each cgroup's
// budget, the balancer's name, and the APIs' handler time.
type measured struct {
	res      *loadtest.Results
	budget   map[string]loadtest.Usage
	balancer string
	handler  handled
}

// measure runs k6 against the stack while it samples the cgroups (and the
// system calls, with -syscalls) and draws the run's picture.
func measure(logger *log.Logger, o options, dir string, own *stack.Stack, cgroups map[string]*stack.Cgroup) (measured, error) {
	var m measured
	plain, err := loadtest.Unpack(o.payloads, dir)
	if err != nil {
		return m, err
	}
	if plain != o.payloads {
		defer os.Remove(plain) // 36 MB the run folder does not need
	}
	k := loadtest.K6{Bin: o.k6, Script: o.script, Payloads: plain, URL: o.url}
	vars := []string{"PEAK=" + o.peak, "SECONDS=" + o.seconds}
	if o.rate > 0 {
		vars = append(vars, fmt.Sprintf("RATE=%d", o.rate))
		logger.Printf("k6: a constant %d requests/s for %s s; run folder %s", o.rate, o.seconds, dir)
	} else {
		logger.Printf("k6: ramping to %s requests/s over %s s; run folder %s", o.peak, o.seconds, dir)
	}
	if cg := cgroups["nginx"]; cg != nil {
		m.balancer = cg.Comm()
	}
	sampler, err := loadtest.StartCounting(cgroups, time.Second, dir, o.syscalls)
	if err != nil {
		logger.Printf("system calls will not be counted: %v", err)
	}
	prom := watchRun(logger, o, dir)
	defer prom.stop()
	handler0 := handlerTime(own)
	started := time.Now()
	m.res, err = k.Run(dir, vars...)
	ended := time.Now()
	m.budget = sampler.Stop()
	prom.draw(started, ended)
	m.handler = handlerTime(own).minus(handler0)
	return m, err
}

// record adds the budget, the cost per request and the handler time to
// the run's results.json and prints the run's lines.
func record(logger *log.Logger, o options, dir string, m measured) {
	res := m.res
	if err := loadtest.AddToResults(dir, "budget", m.budget); err != nil {
		logger.Printf("adding the budget to the results: %v", err)
	}
	if len(m.budget) > 0 {
		res.Cost = loadtest.CostOf(m.budget, res.Requests, m.balancer)
		if err := loadtest.AddToResults(dir, "cost", res.Cost); err != nil {
			logger.Printf("adding the cost per request to the results: %v", err)
		}
	}
	if m.handler.count > 0 {
		us := m.handler.seconds * 1e6 / m.handler.count
		loadtest.AddToResults(dir, "handler_us_per_request", us)
		logger.Printf("time in the API's handler (parse, search, answer): %.1f µs per request over %.0f requests", us, m.handler.count)
	}
	if o.floor {
		if err := loadtest.AddToResults(dir, "mode", "floor: fixed answers, not scores"); err != nil {
			logger.Printf("marking the results: %v", err)
		}
	}
	for _, name := range stack.Services {
		if u, ok := m.budget[name]; ok {
			logger.Print(u.Describe(name))
		}
	}
	if len(m.budget) > 0 {
		fmt.Println(res.Cost.Line())
	}
	fmt.Printf("results: %s\nreport:  %s\n%s\n", filepath.Join(dir, "results.json"), filepath.Join(dir, "report.html"), res.Line())
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// handled is the API instances' handler time so far, from their metrics.
type handled struct{ seconds, count float64 }

func (h handled) minus(o handled) handled { return handled{h.seconds - o.seconds, h.count - o.count} }

var handlerMetric = regexp.MustCompile(`(?m)^fraudknn_request_duration_seconds_(sum|count) (\S+)$`)

// handlerTime sums the time both API instances of s spent in their
// handler, and the requests; zero when s is nil (a stack started
// elsewhere) or the metrics cannot be read (the floor has none).
func handlerTime(s *stack.Stack) handled {
	var h handled
	if s == nil {
		return h
	}
	for _, name := range stack.APIs {
		text, err := s.Metrics(name)
		if err != nil {
			continue
		}
		h = h.plus(parseHandled(text))
	}
	return h
}

func (h handled) plus(o handled) handled { return handled{h.seconds + o.seconds, h.count + o.count} }

// parseHandled reads the handler time and count from an API's metrics.
func parseHandled(metrics string) handled {
	var h handled
	for _, m := range handlerMetric.FindAllStringSubmatch(metrics, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		if m[1] == "sum" {
			h.seconds += v
		} else {
			h.count += v
		}
	}
	return h
}
