// Command faults runs the service under a steady load and injects a fault,
// then reports what the clients saw: requests sent, failed, answered
// wrong, and the latency. It starts a native stack of its own.
//
//	faults -fault kill9    kill -9 api1 at -at, restart it -restart-after later
//	faults -fault sigterm  SIGTERM api1 at -at (in-flight requests finish), restart it
//	faults -fault slow     the same load twice: alone, then beside -slow trickling connections
//	faults -fault soak     a long run; RSS of every process sampled every second
//	faults -fault reindex  refuse a corrupt and a truncated artifact at -at/2, then
//	                       replace the index at -at by one with a region's labels flipped
//
// Every run folder holds k6's results.json and report.html, and faults.json
// with what the fault did.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fraudknn/harness/internal/loadtest"
	"fraudknn/harness/internal/stack"
	"fraudknn/vector"
)

type config struct {
	fault        string
	rate         int
	seconds      int
	at           time.Duration
	restartAfter time.Duration
	slow         int
	k6           loadtest.K6
	runs         string
	artifact     string
	// The reindex drill.
	refs    string
	indexer string
	flipDim int
	flipMin float64
}

func main() {
	var c config
	flag.StringVar(&c.fault, "fault", "kill9", "kill9, sigterm, slow, soak or reindex")
	flag.IntVar(&c.rate, "rate", 600, "requests/s, constant")
	flag.IntVar(&c.seconds, "seconds", 60, "length of the load")
	flag.DurationVar(&c.at, "at", 20*time.Second, "when to inject kill9 or sigterm, after the load starts")
	flag.DurationVar(&c.restartAfter, "restart-after", 15*time.Second, "when to restart the stopped instance, after the fault")
	flag.IntVar(&c.slow, "slow", 300, "slow connections for -fault slow")
	flag.StringVar(&c.k6.Bin, "k6", ".tools/bin/k6", "k6 binary")
	flag.StringVar(&c.k6.Script, "script", "k6/score.js", "k6 script")
	payloads := flag.String("payloads", "../shared/data/test-data.json.gz", "test-data file")
	flag.StringVar(&c.runs, "runs", "runs", "folder for run folders")
	flag.StringVar(&c.artifact, "artifact", "build/index.fknn", "artifact")
	flag.StringVar(&c.refs, "refs", "../shared/data/references.json.gz", "for -fault reindex: the references the artifact was built from")
	flag.StringVar(&c.indexer, "indexer", "bin/indexer", "for -fault reindex: the indexer binary")
	flag.IntVar(&c.flipDim, "flip-dim", 9, "for -fault reindex: flip the labels of references whose coordinate in this dimension (0-13; 9 is is_online)…")
	flag.Float64Var(&c.flipMin, "flip-min", 0.5, "…is at least this value")
	flag.Parse()
	if c.flipDim < 0 || c.flipDim >= vector.Dims {
		fmt.Fprintf(os.Stderr, "faults: -flip-dim must be 0..%d\n", vector.Dims-1)
		os.Exit(2)
	}
	logger := log.New(os.Stderr, "faults: ", log.LstdFlags)
	c.k6.URL = "http://127.0.0.1:9999"
	if loadtest.Ready(c.k6.URL) {
		logger.Fatal("a stack already answers on 9999; stop it first: this command starts its own")
	}
	dir, err := filepath.Abs(filepath.Join(c.runs, "faults-"+c.fault+"-"+time.Now().Format("20060102-150405")))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		c.k6.Payloads, err = loadtest.Unpack(*payloads, dir)
	}
	if err != nil {
		logger.Fatal(err)
	}
	var d *drill
	if c.fault == "reindex" {
		if d, err = prepareReindex(logger, c, *payloads, dir); err != nil {
			logger.Fatal(err)
		}
	}
	code := run(logger, c, dir, d)
	if abs, _ := filepath.Abs(*payloads); c.k6.Payloads != abs {
		os.Remove(c.k6.Payloads) // our unpacked copy
	}
	os.Exit(code)
}

// report is faults.json: the load, what the clients saw, and what the
// drill found (one of the embedded results, whose fields JSON flattens
// into the report).
type report struct {
	Fault   string `json:"fault"`
	Rate    int    `json:"rate"`
	Seconds int    `json:"seconds"`
	*StopResult
	*SlowResult
	*SoakResult
	*ReindexResult
	Requests int     `json:"requests"`
	Failed   int     `json:"failed"` // any answer but a 200, any timeout
	Wrong    int     `json:"wrong"`
	P99Ms    float64 `json:"p99_ms"`
}

// StopResult is what the kill9 and sigterm drills found.
type StopResult struct {
	// API1AfterRestart is the requests the restarted api1 answered until
	// the load ended: it rejoined.
	API1AfterRestart float64 `json:"api1_requests_after_restart"`
}

// SlowResult is what the slow-clients drill found.
type SlowResult struct {
	P99AloneMs    float64 `json:"p99_alone_ms"`
	P99WithSlowMs float64 `json:"p99_with_slow_ms"`
	OpenAtEnd     int64   `json:"slow_connections_open_at_end"`
	Opened        int64   `json:"slow_connections_opened"`
}

// SoakResult is what the soak found: each cgroup's budget, and each
// service's RSS over the run.
type SoakResult struct {
	Budget map[string]loadtest.Usage `json:"budget"`
	RSS    map[string]RSS            `json:"rss_mib"`
}

// RSS is a service's resident memory over a run, in MiB.
type RSS struct {
	First float64 `json:"first"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Last  float64 `json:"last"`
}

func run(logger *log.Logger, c config, dir string, d *drill) int {
	s, err := stack.Start(stack.Config{
		Compose: "docker-compose.yml", NginxConf: "nginx/nginx.conf", Nginx: "nginx",
		API: "bin/api", Artifact: c.artifact, RunsDir: c.runs, Port: 9999,
		Log: log.New(os.Stderr, "stack: ", log.LstdFlags),
	})
	if err != nil {
		logger.Print(err)
		return 1
	}
	defer s.Stop()
	go func() { // exits are expected here; say so and go on
		for e := range s.Exits() {
			logger.Printf("%s exited (%v)", e.Name, e.Err)
		}
	}()
	load := []string{fmt.Sprintf("RATE=%d", c.rate), fmt.Sprintf("SECONDS=%d", c.seconds)}
	rep := report{Fault: c.fault, Rate: c.rate, Seconds: c.seconds}
	var res *loadtest.Results
	switch c.fault {
	case "kill9":
		res, rep.StopResult, err = stopDrill(logger, c, s, dir, load, syscall.SIGKILL)
	case "sigterm":
		res, rep.StopResult, err = stopDrill(logger, c, s, dir, load, syscall.SIGTERM)
	case "slow":
		res, rep.SlowResult, err = slowDrill(logger, c, dir, load)
	case "soak":
		res, rep.SoakResult, err = soakDrill(c, s, dir, load)
	case "reindex":
		res, rep.ReindexResult, err = reindexDrill(logger, c, s, d, dir, load)
	default:
		logger.Printf("unknown fault %q", c.fault)
		return 2
	}
	if err != nil {
		logger.Print(err)
		return 1
	}
	rep.count(res)
	b, _ := json.MarshalIndent(rep, "", "  ")
	os.WriteFile(filepath.Join(dir, "faults.json"), append(b, '\n'), 0o644)
	fmt.Println(rep.line(filepath.Join(dir, "faults.json")))
	if rep.Failed > 0 || rep.Wrong > 0 {
		return 1
	}
	return 0
}

// count fills in what the clients saw. The reindex drill's new index
// answers differently by design: its wrong answers are those from the
// wrong index for their time, which the drill counted.
func (r *report) count(res *loadtest.Results) {
	r.Requests, r.Failed, r.P99Ms = res.Requests, res.Breakdown.Errors, res.Latency.P99
	r.Wrong = res.Breakdown.FP + res.Breakdown.FN
	if r.ReindexResult != nil {
		r.Wrong = r.ReindexResult.WrongIndex
	}
}

// line is the drill's summary line, naming the report file.
func (r *report) line(path string) string {
	return fmt.Sprintf("%s: %d requests, %d failed, %d wrong, p99 %.3f ms; %s", r.Fault, r.Requests, r.Failed, r.Wrong, r.P99Ms, path)
}

// stopDrill stops api1 with sig (SIGKILL: kill -9; SIGTERM: in-flight
// requests finish) at -at under the load, restarts it -restart-after
// later, and counts what it answers afterwards.
func stopDrill(logger *log.Logger, c config, s *stack.Stack, dir string, load []string, sig syscall.Signal) (*loadtest.Results, *StopResult, error) {
	verb := "kill -9"
	if sig == syscall.SIGTERM {
		verb = "SIGTERM"
	}
	var faultErr error
	var r StopResult
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(c.at)
		logger.Printf("%s api1", verb)
		if faultErr = s.Signal("api1", sig); faultErr != nil {
			return
		}
		for s.Running("api1") {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(c.restartAfter)
		logger.Printf("restarting api1")
		if faultErr = s.Restart("api1"); faultErr != nil {
			return
		}
		logger.Printf("api1 is ready again")
		// nginx takes it back after fail_timeout; count what it serves
		// until the load ends.
		rest := time.Duration(c.seconds)*time.Second - c.at - c.restartAfter - 3*time.Second
		before := s.Served("api1")
		time.Sleep(max(rest, time.Second))
		r.API1AfterRestart = s.Served("api1") - before
	})
	res, err := c.k6.Run(dir, load...)
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	if faultErr != nil {
		return nil, nil, fmt.Errorf("injecting the fault: %w", faultErr)
	}
	logger.Printf("api1 answered %.0f requests after it was restarted", r.API1AfterRestart)
	return res, &r, nil
}

// slowDrill runs the load alone, then again beside -slow connections
// that trickle a byte a second, and compares the two p99s.
func slowDrill(logger *log.Logger, c config, dir string, load []string) (*loadtest.Results, *SlowResult, error) {
	base, err := c.k6.Run(dir, load...)
	if err != nil {
		return nil, nil, err
	}
	logger.Printf("alone: %s", base.Line())
	r := SlowResult{P99AloneMs: base.Latency.P99}
	stop := make(chan struct{})
	var open, opened atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < c.slow; i++ {
		wg.Go(func() { trickle(i, stop, &open, &opened) })
	}
	time.Sleep(3 * time.Second)
	logger.Printf("%d slow connections open", open.Load())
	res, err := c.k6.Run(dir, load...)
	r.OpenAtEnd, r.Opened = open.Load(), opened.Load()
	close(stop)
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	r.P99WithSlowMs = res.Latency.P99
	logger.Printf("beside %d slow connections: %s (p99 %.2f× alone)", c.slow, res.Line(), res.Latency.P99/base.Latency.P99)
	return res, &r, nil
}

// soakDrill runs the load while it samples every cgroup's budget and
// every service's RSS each second (rss.csv in the run folder).
func soakDrill(c config, s *stack.Stack, dir string, load []string) (*loadtest.Results, *SoakResult, error) {
	cgroups := map[string]*stack.Cgroup{}
	for _, name := range stack.Services {
		if cg := s.Cgroup(name); cg != nil {
			cgroups[name] = cg
		}
	}
	rss := startRSS(cgroups, dir)
	sampler := loadtest.StartSampling(cgroups, time.Second)
	res, err := c.k6.Run(dir, load...)
	r := SoakResult{Budget: sampler.Stop(), RSS: rss.stop()}
	if err != nil {
		return nil, nil, err
	}
	return res, &r, nil
}

// trickle holds one slow connection to nginx until stop, reconnecting when
// nginx drops it: even connections send a request header a byte every
// second, odd ones a whole header then the body a byte every second.
func trickle(i int, stop chan struct{}, open, opened *atomic.Int64) {
	header := "POST /fraud-score HTTP/1.1\r\nHost: fraudknn\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"
	for {
		conn, err := net.Dial("tcp", "127.0.0.1:9999")
		if err != nil {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
				continue
			}
		}
		open.Add(1)
		opened.Add(1)
		if i%2 == 1 {
			conn.Write([]byte(header))
		}
		t := time.NewTicker(time.Second)
	send:
		for n := 0; ; n++ {
			select {
			case <-stop:
				t.Stop()
				conn.Close()
				open.Add(-1)
				return
			case <-t.C:
				b := []byte{'x'}
				if i%2 == 0 && n < len(header) {
					b[0] = header[n]
				}
				if _, err := conn.Write(b); err != nil {
					break send
				}
			}
		}
		t.Stop()
		conn.Close()
		open.Add(-1)
	}
}

// rssSampler records the resident memory of every process of each
// service every second, in rss.csv and as first/min/max/last.
type rssSampler struct {
	quit  chan struct{}
	wg    sync.WaitGroup
	stats map[string]*RSS
}

func startRSS(cgroups map[string]*stack.Cgroup, dir string) *rssSampler {
	r := &rssSampler{quit: make(chan struct{}), stats: map[string]*RSS{}}
	f, _ := os.Create(filepath.Join(dir, "rss.csv"))
	fmt.Fprintln(f, "second,service,rss_mib")
	r.wg.Go(func() {
		defer f.Close()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for sec := 0; ; sec++ {
			for name, cg := range cgroups {
				total := 0.0
				for _, pid := range cg.Pids() {
					total += rssMiB(pid)
				}
				fmt.Fprintf(f, "%d,%s,%.1f\n", sec, name, total)
				r.add(name, total)
			}
			select {
			case <-r.quit:
				return
			case <-t.C:
			}
		}
	})
	return r
}

// add records one sample of a service's RSS.
func (r *rssSampler) add(name string, mib float64) {
	st := r.stats[name]
	if st == nil {
		r.stats[name] = &RSS{First: mib, Min: mib, Max: mib, Last: mib}
		return
	}
	st.Min, st.Max, st.Last = min(st.Min, mib), max(st.Max, mib), mib
}

func (r *rssSampler) stop() map[string]RSS {
	close(r.quit)
	r.wg.Wait()
	out := map[string]RSS{}
	for name, st := range r.stats {
		out[name] = *st
	}
	return out
}

// rssMiB reads VmRSS of a process, in MiB (0 when it cannot).
func rssMiB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return vmRSS(string(b))
}

// vmRSS returns the VmRSS line of a /proc/PID/status text, in MiB (0 when
// there is none).
func vmRSS(status string) float64 {
	for _, line := range strings.Split(status, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
