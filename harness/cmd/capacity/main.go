// Command capacity draws what a request costs against the load offered,
// as `make capacity` does: for each configuration (the default stack,
// its floor and the cmd/lb alternative) it starts the native stack,
// sends a constant rate with k6 for -seconds at each of -rates in turn
// (stopping at the first step with an error or a p99 above -stop-p99),
// and samples every component's cgroup. Into one run folder it writes
// capacity.svg (p50 and p99, and CPU per request, against the offered
// load), capacity.csv and capacity.md (the table behind it) and a
// folder per step with k6's results; it ends with the knee of each
// configuration: the highest rate whose p99 stays under -knee-p99 with
// no error and the stack inside its one CPU.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fraudknn/harness/internal/loadtest"
	"fraudknn/harness/internal/stack"
)

// options are the command line.
type options struct {
	k6, script, payloads, url, runs, artifact, nginxConf string
	configs, rates                                       string
	seconds                                              int
	stopP99, kneeP99, budget                             time.Duration
	syscalls                                             bool
}

func main() {
	var o options
	flag.StringVar(&o.k6, "k6", ".tools/bin/k6", "k6 binary (make k6 installs it there)")
	flag.StringVar(&o.script, "script", "k6/score.js", "k6 script")
	flag.StringVar(&o.payloads, "payloads", "../shared/data/test-data.json.gz", "test-data file, JSON or .json.gz")
	flag.StringVar(&o.url, "url", "http://127.0.0.1:9999", "where the stacks answer")
	flag.StringVar(&o.runs, "runs", "runs", "folder for run folders")
	flag.StringVar(&o.artifact, "artifact", "build/index.fknn", "artifact")
	flag.StringVar(&o.nginxConf, "nginx-conf", "nginx/nginx.conf", "nginx configuration")
	flag.StringVar(&o.configs, "configs", "stack,floor,lb", "configurations, in order: stack (nginx and the APIs), floor (the same answering a fixed body), lb (cmd/lb instead of nginx)")
	flag.StringVar(&o.rates, "rates", "150,300,600,1200,2400", "offered loads in requests/s, in increasing order")
	flag.IntVar(&o.seconds, "seconds", 10, "seconds of load at each rate")
	flag.DurationVar(&o.stopP99, "stop-p99", 2*time.Second, "a configuration's sweep stops after a step whose p99 is above this (or that had an error)")
	flag.DurationVar(&o.kneeP99, "knee-p99", 2*time.Millisecond, "the knee is the highest rate with a p99 under this, no error, inside one CPU")
	flag.DurationVar(&o.budget, "budget", 20*time.Minute, "refuse a sweep whose load (configurations × rates × seconds) is longer than this")
	flag.BoolVar(&o.syscalls, "syscalls", false, "also count each component's system calls with "+loadtest.SyscallTool+" (adds CPU to every call: the picture's CPU figures are then not the stack's alone)")
	flag.Parse()
	logger := log.New(os.Stderr, "capacity: ", log.LstdFlags)
	plan, err := parsePlan(o.configs, o.rates, o.seconds)
	if err == nil && flag.NArg() > 0 {
		err = fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "capacity: %v\nusage: capacity [-configs stack,floor,lb] [-rates 150,300,…] [-seconds N]; see -help\n", err)
		os.Exit(2)
	}
	if load := plan.load(); load > o.budget {
		logger.Fatalf("the sweep would load the stack for %v, more than -budget %v: fewer -rates or -seconds, or a larger -budget", load, o.budget)
	}
	if loadtest.Ready(o.url) {
		logger.Fatalf("a stack already answers at %s; the sweep starts its own: stop it first", o.url)
	}
	dir, err := filepath.Abs(filepath.Join(o.runs, "capacity-"+time.Now().Format("20060102-150405")))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		logger.Fatal(err)
	}
	logger.Printf("%d configurations × %d rates × %d s: at most %v of load, plus k6's start at each step; run folder %s",
		len(plan.configs), len(plan.rates), o.seconds, plan.load(), dir)
	plain, err := loadtest.Unpack(o.payloads, dir)
	if err != nil {
		logger.Fatal(err)
	}
	if plain != o.payloads {
		defer os.Remove(plain)
	}
	var rows []row
	for _, c := range plan.configs {
		got, err := sweep(logger, o, c, plan.rates, plain, dir)
		rows = append(rows, got...)
		if err != nil {
			logger.Printf("%s: %v", c, err)
		}
	}
	if err := write(dir, rows, o.kneeP99); err != nil {
		logger.Fatal(err)
	}
	fmt.Printf("picture: %s\ntable:   %s\n", filepath.Join(dir, "capacity.svg"), filepath.Join(dir, "capacity.md"))
	for _, c := range plan.configs {
		fmt.Println(kneeLine(c, rows, o.kneeP99))
	}
}

// plan is what a sweep will do.
type plan struct {
	configs []string
	rates   []int
	seconds int
}

func parsePlan(configs, rates string, seconds int) (plan, error) {
	p := plan{seconds: seconds}
	for _, c := range strings.Split(configs, ",") {
		switch c = strings.TrimSpace(c); c {
		case "stack", "floor", "lb":
			p.configs = append(p.configs, c)
		default:
			return p, fmt.Errorf("unknown configuration %q: stack, floor or lb", c)
		}
	}
	for _, f := range strings.Split(rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r < 1 {
			return p, fmt.Errorf("rate %q is not a positive number of requests/s", f)
		}
		if len(p.rates) > 0 && r <= p.rates[len(p.rates)-1] {
			return p, fmt.Errorf("rates must increase: %d after %d", r, p.rates[len(p.rates)-1])
		}
		p.rates = append(p.rates, r)
	}
	if seconds < 1 {
		return p, fmt.Errorf("-seconds %d: at least 1", seconds)
	}
	return p, nil
}

// load is the time the sweep loads a stack, at most.
func (p plan) load() time.Duration {
	return time.Duration(len(p.configs)*len(p.rates)*p.seconds) * time.Second
}

// sweep starts configuration c and runs its steps; it returns the rows
// measured, and why it could not go on if it failed.
func sweep(logger *log.Logger, o options, c string, rates []int, payloads, dir string) ([]row, error) {
	cfg := stack.Config{
		Compose: stack.ComposeFile("nginx"), NginxConf: o.nginxConf, Nginx: "nginx",
		API: "bin/api", Artifact: o.artifact, RunsDir: filepath.Join(dir, "stacks"), Port: 9999,
		Balancer: "nginx", LB: "bin/lb", Log: log.New(os.Stderr, "stack: ", log.LstdFlags),
	}
	switch c {
	case "floor":
		cfg.APIArgs = []string{"-floor"}
	case "lb":
		cfg.Balancer, cfg.Compose = "fdpass", stack.ComposeFile("fdpass")
	}
	s, err := stack.Start(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := s.Stop(); err != nil {
			logger.Printf("%s: stopping the stack: %v", c, err)
		}
	}()
	cgroups := map[string]*stack.Cgroup{}
	for _, name := range stack.Services {
		if cg := s.Cgroup(name); cg != nil {
			cgroups[name] = cg
		}
	}
	balancer := ""
	if cg := cgroups["nginx"]; cg != nil {
		balancer = cg.Comm()
	}
	k := loadtest.K6{Bin: o.k6, Script: o.script, Payloads: payloads, URL: o.url}
	var rows []row
	for _, rate := range rates {
		step := filepath.Join(dir, fmt.Sprintf("%s-%d", c, rate))
		if err := os.MkdirAll(step, 0o755); err != nil {
			return rows, err
		}
		sampler, err := loadtest.StartCounting(cgroups, time.Second, step, o.syscalls)
		if err != nil {
			logger.Printf("system calls will not be counted: %v", err)
		}
		res, err := k.Run(step, fmt.Sprintf("RATE=%d", rate), fmt.Sprintf("SECONDS=%d", o.seconds))
		budget := sampler.Stop()
		if err != nil {
			return rows, err
		}
		res.Cost = loadtest.CostOf(budget, res.Requests, balancer)
		if err := loadtest.AddToResults(step, "cost", res.Cost); err != nil {
			logger.Printf("adding the cost to %s: %v", step, err)
		}
		r := rowOf(c, rate, res)
		rows = append(rows, r)
		logger.Printf("%s at %d/s: p50 %.3f ms, p99 %.3f ms, errors %d, wrong %d, CPU per request %.0f µs (%s %.0f, APIs %.0f), %.2f CPU",
			c, rate, r.P50, r.P99, r.Errors, r.Wrong, r.CPU, balancer, r.Balancer, r.APIs, r.Cores)
		if r.Errors > 0 || r.P99 > float64(o.stopP99)/float64(time.Millisecond) {
			logger.Printf("%s: stopping the sweep at %d/s (errors, or a p99 above %v)", c, rate, o.stopP99)
			break
		}
	}
	return rows, nil
}
