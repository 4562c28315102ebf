// Package loadtest runs the project's k6 script and samples the stack's
// cgroups while it runs: the shared machinery of cmd/score and
// cmd/faults.
package loadtest

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fraudknn/harness/internal/stack"
)

// K6 says how to run the k6 script.
type K6 struct {
	Bin      string // the k6 binary
	Script   string // k6/score.js
	Payloads string // an uncompressed test-data file (see Unpack)
	URL      string // the service
}

// Results is what k6/score.js writes, and the budget used, if sampled.
type Results struct {
	Latency struct {
		P50 float64 `json:"p50"`
		P90 float64 `json:"p90"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latency_ms"`
	Breakdown struct {
		TP     int `json:"tp"`
		TN     int `json:"tn"`
		FP     int `json:"fp"`
		FN     int `json:"fn"`
		Errors int `json:"errors"`
	} `json:"breakdown"`
	Requests   int     `json:"requests"`
	FinalScore float64 `json:"final_score"`
	Cost       Costs   `json:"cost"` // added by the harness when it sampled the cgroups
}

// Clean reports whether every request got a right answer.
func (r *Results) Clean() bool {
	return r.Breakdown.FP == 0 && r.Breakdown.FN == 0 && r.Breakdown.Errors == 0
}

// Line is the one-line summary: score S (p99 X ms, FP a, FN b, errors e, requests n).
func (r *Results) Line() string {
	return fmt.Sprintf("score %.1f (p99 %.3f ms, FP %d, FN %d, errors %d, requests %d)",
		r.FinalScore, r.Latency.P99, r.Breakdown.FP, r.Breakdown.FN, r.Breakdown.Errors, r.Requests)
}

// Run runs k6 once with the extra environment vars (PEAK, SECONDS, RATE…)
// and writes results.json, report.html and k6.log into dir.
func (k *K6) Run(dir string, vars ...string) (*Results, error) {
	results := filepath.Join(dir, "results.json")
	cmd := exec.Command(k.Bin, "run", "--quiet", k.Script)
	cmd.Env = append(os.Environ(),
		"PAYLOADS="+k.Payloads, "URL="+k.URL, "RESULTS="+results,
		"K6_WEB_DASHBOARD=true", "K6_WEB_DASHBOARD_OPEN=false", "K6_WEB_DASHBOARD_PORT=-1",
		"K6_WEB_DASHBOARD_PERIOD=1s", "K6_WEB_DASHBOARD_EXPORT="+filepath.Join(dir, "report.html"),
		"K6_NO_USAGE_REPORT=true",
	)
	cmd.Env = append(cmd.Env, vars...)
	logf, err := os.Create(filepath.Join(dir, "k6.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("k6: %v; see %s", err, logf.Name())
	}
	if _, err := os.Stat(results); err != nil {
		return nil, fmt.Errorf("k6 wrote no results: %v; see %s", err, logf.Name())
	}
	return ReadResults(results)
}

// ReadResults reads a results.json that k6/score.js wrote.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &r, nil
}

// AddToResults adds key: value to the results.json in dir.
func AddToResults(dir, key string, value any) error {
	path := filepath.Join(dir, "results.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r map[string]any
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	r[key] = value
	b, _ = json.MarshalIndent(r, "", "  ")
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Ready reports whether url answers /ready with 200.
func Ready(url string) bool {
	resp, err := (&http.Client{Timeout: time.Second}).Get(url + "/ready")
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Unpack returns an uncompressed copy of payloads in dir when it is
// gzipped (k6 reads plain files), else payloads itself.
func Unpack(payloads, dir string) (string, error) {
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

// Usage is what one component used during a run.
type Usage struct {
	QuotaCPUs        float64 `json:"quota_cpus"`
	CPUSeconds       float64 `json:"cpu_seconds"`
	CPUUserSeconds   float64 `json:"cpu_user_seconds"`
	CPUSystemSeconds float64 `json:"cpu_system_seconds"`
	CPUAverage       float64 `json:"cpu_average"` // CPU-seconds per second of the run
	CPUPeak          float64 `json:"cpu_peak_1s"` // the busiest one-second sample
	Periods          int64   `json:"cfs_periods"` // CFS periods with runnable tasks
	ThrottledPeriods int64   `json:"throttled_periods"`
	ThrottledSeconds float64 `json:"throttled_seconds"`
	MemoryPeakMiB    float64 `json:"memory_peak_mib"` // since the cgroup was made
	MemoryMinMiB     float64 `json:"memory_min_mib"`  // the lowest one-second sample
	MemoryMaxMiB     float64 `json:"memory_max_mib"`  // the highest one-second sample
	MemoryLimitMiB   float64 `json:"memory_limit_mib"`
	OOMKills         int64   `json:"oom_kills"`
	VoluntaryCtx     int64   `json:"voluntary_ctxt_switches"`
	InvoluntaryCtx   int64   `json:"nonvoluntary_ctxt_switches"`
	ReadCalls        int64   `json:"read_syscalls"`  // /proc/PID/io syscr
	WriteCalls       int64   `json:"write_syscalls"` // /proc/PID/io syscw
	Syscalls         int64   `json:"syscalls"`       // all of them, by SyscallTool; -1 when not counted
}

// Sampler reads cgroups every period.
type Sampler struct {
	cgroups map[string]*stack.Cgroup
	start   time.Time
	first   map[string]stack.Stats
	last    map[string]stack.Stats
	sw      map[string]stack.Switches // at the start
	perf    *syscallCounter           // nil when system calls are not counted
	cpuPeak map[string]float64
	memMin  map[string]int64
	memMax  map[string]int64
	quit    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
}

// StartSampling reads every cgroup now and then every period until Stop.
func StartSampling(cgroups map[string]*stack.Cgroup, period time.Duration) *Sampler {
	return startSampling(cgroups, period, nil)
}

// StartCounting is StartSampling that, if syscalls, also counts every
// component's system calls with SyscallTool (its temporary files go to
// dir). When that cannot be done it says why and samples without:
// Usage.Syscalls is then -1.
func StartCounting(cgroups map[string]*stack.Cgroup, period time.Duration, dir string, syscalls bool) (*Sampler, error) {
	if !syscalls {
		return startSampling(cgroups, period, nil), nil
	}
	perf, err := startSyscalls(cgroups, dir)
	return startSampling(cgroups, period, perf), err
}

func startSampling(cgroups map[string]*stack.Cgroup, period time.Duration, perf *syscallCounter) *Sampler {
	s := &Sampler{cgroups: cgroups, start: time.Now(), first: map[string]stack.Stats{}, last: map[string]stack.Stats{},
		sw: map[string]stack.Switches{}, perf: perf,
		cpuPeak: map[string]float64{}, memMin: map[string]int64{}, memMax: map[string]int64{}, quit: make(chan struct{})}
	for name, cg := range cgroups {
		st, _ := cg.Stats()
		s.first[name], s.last[name] = st, st
		s.sw[name] = cg.Switches()
		s.memMin[name], s.memMax[name] = st.MemoryNow, st.MemoryNow
	}
	s.wg.Go(func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-t.C:
				s.mu.Lock()
				for name, cg := range s.cgroups {
					st, err := cg.Stats()
					if err != nil {
						continue
					}
					s.cpuPeak[name] = max(s.cpuPeak[name], (st.CPUSeconds-s.last[name].CPUSeconds)/period.Seconds())
					s.memMin[name] = min(s.memMin[name], st.MemoryNow)
					s.memMax[name] = max(s.memMax[name], st.MemoryNow)
					s.last[name] = st
				}
				s.mu.Unlock()
			}
		}
	})
	return s
}

// Stop ends the sampling and returns what each component used.
func (s *Sampler) Stop() map[string]Usage {
	close(s.quit)
	s.wg.Wait()
	elapsed := time.Since(s.start).Seconds()
	out := map[string]Usage{}
	for name, cg := range s.cgroups {
		end, err := cg.Stats()
		if err != nil {
			end = s.last[name]
		}
		a := s.first[name]
		sw, sw0 := cg.Switches(), s.sw[name]
		out[name] = Usage{
			QuotaCPUs:        end.QuotaCPUs,
			CPUSeconds:       end.CPUSeconds - a.CPUSeconds,
			CPUUserSeconds:   end.UserSeconds - a.UserSeconds,
			CPUSystemSeconds: end.SystemSeconds - a.SystemSeconds,
			VoluntaryCtx:     sw.Voluntary - sw0.Voluntary,
			InvoluntaryCtx:   sw.Involuntary - sw0.Involuntary,
			ReadCalls:        sw.ReadCalls - sw0.ReadCalls,
			WriteCalls:       sw.WriteCalls - sw0.WriteCalls,
			Syscalls:         -1,
			CPUAverage:       (end.CPUSeconds - a.CPUSeconds) / elapsed,
			CPUPeak:          s.cpuPeak[name],
			Periods:          end.Periods - a.Periods,
			ThrottledPeriods: end.Throttled - a.Throttled,
			ThrottledSeconds: end.ThrottledSecs - a.ThrottledSecs,
			MemoryPeakMiB:    mib(end.MemoryPeak),
			MemoryMinMiB:     mib(s.memMin[name]),
			MemoryMaxMiB:     mib(s.memMax[name]),
			MemoryLimitMiB:   mib(end.MemoryLimit),
			OOMKills:         end.OOMKills,
		}
	}
	if s.perf != nil {
		for name, n := range s.perf.stop() {
			u := out[name]
			u.Syscalls = n
			out[name] = u
		}
	}
	return out
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// Describe renders one component's use on one line.
func (u Usage) Describe(name string) string {
	return fmt.Sprintf("%-5s used %.2f CPU-s (%.3f of its %.2f CPU on average), throttled in %d of %d periods, memory peak %.0f of %.0f MiB, OOM kills %d",
		name, u.CPUSeconds, u.CPUAverage, u.QuotaCPUs, u.ThrottledPeriods, u.Periods, u.MemoryPeakMiB, u.MemoryLimitMiB, u.OOMKills)
}
