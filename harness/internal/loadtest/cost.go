package loadtest

import (
	"fmt"
	"strings"
)

// Cost is what one request cost a component on average over a run.
type Cost struct {
	CPU         float64 `json:"cpu_us"` // CPU microseconds, user + system
	User        float64 `json:"user_us"`
	System      float64 `json:"system_us"`
	Voluntary   float64 `json:"voluntary_ctxt_switches"`
	Involuntary float64 `json:"nonvoluntary_ctxt_switches"`
	ReadCalls   float64 `json:"read_syscalls"`
	WriteCalls  float64 `json:"write_syscalls"`
	Syscalls    float64 `json:"syscalls"` // -1 when not counted
}

// Costs is a run's cost per request: each component (the balancer slot
// "nginx", "api1", "api2"), the two APIs together ("apis") and the
// whole stack ("total").
type Costs struct {
	Requests   int             `json:"requests"`
	Balancer   string          `json:"balancer"`            // the process in the balancer slot: nginx or lb
	SyscallsBy string          `json:"syscalls_counted_by"` // SyscallTool, or "not counted"
	PerRequest map[string]Cost `json:"per_request"`
}

// CostOf divides what each component used by the requests of the run.
func CostOf(budget map[string]Usage, requests int, balancer string) Costs {
	c := Costs{Requests: requests, Balancer: balancer, SyscallsBy: "not counted", PerRequest: map[string]Cost{}}
	for _, u := range budget {
		if u.Syscalls >= 0 {
			c.SyscallsBy = SyscallTool
		}
	}
	if requests <= 0 {
		return c
	}
	n := float64(requests)
	var apis, total Usage
	apis.Syscalls, total.Syscalls = 0, 0
	for name, u := range budget {
		c.PerRequest[name] = costOf(u, n)
		total = sumUsage(total, u)
		if strings.HasPrefix(name, "api") {
			apis = sumUsage(apis, u)
		}
	}
	c.PerRequest["apis"] = costOf(apis, n)
	c.PerRequest["total"] = costOf(total, n)
	return c
}

func costOf(u Usage, n float64) Cost {
	c := Cost{
		User: u.CPUUserSeconds * 1e6 / n, System: u.CPUSystemSeconds * 1e6 / n, CPU: u.CPUSeconds * 1e6 / n,
		Voluntary: float64(u.VoluntaryCtx) / n, Involuntary: float64(u.InvoluntaryCtx) / n,
		ReadCalls: float64(u.ReadCalls) / n, WriteCalls: float64(u.WriteCalls) / n, Syscalls: -1,
	}
	if u.Syscalls >= 0 {
		c.Syscalls = float64(u.Syscalls) / n
	}
	return c
}

// sumUsage adds the counters of b to a; a count of system calls missing
// from either (-1) makes the sum's missing.
func sumUsage(a, b Usage) Usage {
	a.CPUSeconds += b.CPUSeconds
	a.CPUUserSeconds += b.CPUUserSeconds
	a.CPUSystemSeconds += b.CPUSystemSeconds
	a.VoluntaryCtx += b.VoluntaryCtx
	a.InvoluntaryCtx += b.InvoluntaryCtx
	a.ReadCalls += b.ReadCalls
	a.WriteCalls += b.WriteCalls
	if a.Syscalls < 0 || b.Syscalls < 0 {
		a.Syscalls = -1
	} else {
		a.Syscalls += b.Syscalls
	}
	return a
}

// Line renders the costs on two lines: CPU, then what explains it.
//
//	CPU per request: total 412 µs (user 200, system 212) = nginx 160 (user 80, system 80) + api1+api2 251 (…)
//	per request: nginx 2.1+0.1 context switches, 6.0 system calls; api1+api2 …
func (c Costs) Line() string {
	if len(c.PerRequest) == 0 {
		return "CPU per request: not measured (no cgroups, or no request)"
	}
	bal := c.Balancer
	if bal == "" {
		bal = "nginx"
	}
	cpu := func(x Cost) string {
		return fmt.Sprintf("%.0f µs (user %.0f, system %.0f)", x.CPU, x.User, x.System)
	}
	expl := func(x Cost) string {
		s := fmt.Sprintf("%.2f+%.2f context switches (voluntary+not), %.2f read- and %.2f write-family calls", x.Voluntary, x.Involuntary, x.ReadCalls, x.WriteCalls)
		if x.Syscalls >= 0 {
			s += fmt.Sprintf(", %.1f system calls in all", x.Syscalls)
		}
		return s
	}
	p := c.PerRequest
	return fmt.Sprintf("CPU per request over %d requests: total %s = %s %s + api1+api2 %s\nper request: %s %s; api1+api2 %s",
		c.Requests, cpu(p["total"]), bal, cpu(p["nginx"]), cpu(p["apis"]), bal, expl(p["nginx"]), expl(p["apis"]))
}
