package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fraudknn/harness/internal/loadtest"
)

// row is one step of a sweep.
type row struct {
	Config   string
	Rate     int // offered, requests/s
	Requests int
	P50, P99 float64 // ms
	Errors   int
	Wrong    int     // FP + FN (meaningless for the floor, whose answers are fixed)
	CPU      float64 // µs per request, the whole stack
	User     float64
	System   float64
	Balancer float64 // µs per request in the balancer slot (nginx or lb)
	APIs     float64 // µs per request in api1 + api2
	Cores    float64 // CPUs the stack used at this rate: CPU × rate
	Switches float64 // context switches per request, the whole stack
	Syscalls float64 // system calls per request, the whole stack; -1 when not counted
}

func rowOf(config string, rate int, res *loadtest.Results) row {
	p := res.Cost.PerRequest
	t := p["total"]
	return row{
		Config: config, Rate: rate, Requests: res.Requests, P50: res.Latency.P50, P99: res.Latency.P99,
		Errors: res.Breakdown.Errors, Wrong: res.Breakdown.FP + res.Breakdown.FN,
		CPU: t.CPU, User: t.User, System: t.System, Balancer: p["nginx"].CPU, APIs: p["apis"].CPU,
		Cores: t.CPU * float64(rate) / 1e6, Switches: t.Voluntary + t.Involuntary, Syscalls: t.Syscalls,
	}
}

// knee returns the highest rate of config whose p99 is under limit with
// no error, the stack using at most one CPU, and whether there is one.
func knee(config string, rows []row, limit time.Duration) (row, bool) {
	var best row
	found := false
	for _, r := range rows {
		if r.Config == config && r.Errors == 0 && r.P99 < float64(limit)/float64(time.Millisecond) && r.Cores <= 1 && r.Rate > best.Rate {
			best, found = r, true
		}
	}
	return best, found
}

// kneeLine says where config's knee is.
func kneeLine(config string, rows []row, limit time.Duration) string {
	k, ok := knee(config, rows, limit)
	if !ok {
		return fmt.Sprintf("knee %-5s: none (no rate had a p99 under %v with no error)", config, limit)
	}
	return fmt.Sprintf("knee %-5s: %d requests/s (p99 %.3f ms, CPU per request %.0f µs, %.2f CPU)", config, k.Rate, k.P99, k.CPU, k.Cores)
}

var header = []string{"config", "rate", "requests", "p50_ms", "p99_ms", "errors", "wrong", "cpu_us", "user_us", "system_us",
	"balancer_us", "apis_us", "cpus_used", "ctxt_switches", "syscalls"}

func (r row) fields() []string {
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	sys := f(r.Syscalls, 1)
	if r.Syscalls < 0 {
		sys = ""
	}
	return []string{r.Config, strconv.Itoa(r.Rate), strconv.Itoa(r.Requests), f(r.P50, 3), f(r.P99, 3),
		strconv.Itoa(r.Errors), strconv.Itoa(r.Wrong), f(r.CPU, 0), f(r.User, 0), f(r.System, 0),
		f(r.Balancer, 0), f(r.APIs, 0), f(r.Cores, 3), f(r.Switches, 2), sys}
}

// write writes capacity.csv, capacity.md and the picture (capacity.svg
// and capacity.png) into dir.
func write(dir string, rows []row, kneeP99 time.Duration) error {
	f, err := os.Create(filepath.Join(dir, "capacity.csv"))
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(header)
	for _, r := range rows {
		w.Write(r.fields())
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "capacity.md"), []byte(markdown(rows, kneeP99)), 0o644); err != nil {
		return err
	}
	return picture(filepath.Join(dir, "capacity"), rows, kneeP99)
}

// markdown is the table as docs show it, then the knees.
func markdown(rows []row, kneeP99 time.Duration) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|" + strings.Repeat("---:|", len(header)) + "\n")
	var configs []string
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r.fields(), " | ") + " |\n")
		if len(configs) == 0 || configs[len(configs)-1] != r.Config {
			configs = append(configs, r.Config)
		}
	}
	b.WriteString("\n")
	for _, c := range configs {
		b.WriteString("- " + kneeLine(c, rows, kneeP99) + "\n")
	}
	return b.String()
}
