package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fraudknn/harness/internal/compose"
)

// CgroupRoot is where the cgroup v1 hierarchies are mounted.
var CgroupRoot = "/sys/fs/cgroup"

// cfsPeriod is the CFS period the CPU quota is expressed in, as Docker
// sets it.
const cfsPeriod = 100 * time.Millisecond

// Cgroup is one process group's cgroup v1 directories: cpu (quota),
// cpuacct (usage) and memory (limit, peak).
type Cgroup struct {
	Name string
	dirs map[string]string // controller → directory
}

// controllers are the cgroup v1 controllers a Cgroup uses.
var controllers = []string{"cpu", "cpuacct", "memory"}

// NewCgroup creates the cgroup parent/name in every controller and applies
// l: a CFS quota of l.CPUs cores per period and a memory limit of
// l.Memory bytes. It fails, creating nothing, if a hierarchy cannot be
// written (no cgroup v1, not root); the caller then runs unlimited.
func NewCgroup(parent, name string, l compose.Limits) (*Cgroup, error) {
	c := &Cgroup{Name: name, dirs: map[string]string{}}
	for _, ctl := range controllers {
		dir := filepath.Join(CgroupRoot, ctl, parent, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			c.Remove()
			return nil, fmt.Errorf("cgroup v1 %s controller: %w", ctl, err)
		}
		c.dirs[ctl] = dir
	}
	period := cfsPeriod.Microseconds()
	settings := []struct{ ctl, file, value string }{
		{"cpu", "cpu.cfs_period_us", strconv.FormatInt(period, 10)},
		{"cpu", "cpu.cfs_quota_us", strconv.FormatInt(int64(l.CPUs*float64(period)), 10)},
		{"memory", "memory.limit_in_bytes", strconv.FormatInt(l.Memory, 10)},
	}
	for _, s := range settings {
		if err := os.WriteFile(filepath.Join(c.dirs[s.ctl], s.file), []byte(s.value), 0o644); err != nil {
			c.Remove()
			return nil, fmt.Errorf("setting %s: %w", s.file, err)
		}
	}
	return c, nil
}

// ProcsFiles returns the files a process writes its pid to, to join.
func (c *Cgroup) ProcsFiles() []string {
	var files []string
	for _, ctl := range controllers {
		files = append(files, filepath.Join(c.dirs[ctl], "cgroup.procs"))
	}
	return files
}

// Pids returns the processes in the cgroup.
func (c *Cgroup) Pids() []int {
	b, err := os.ReadFile(filepath.Join(c.dirs["memory"], "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Stats are what a cgroup has used so far.
type Stats struct {
	CPUSeconds     float64 // cpuacct.usage
	UserSeconds    float64 // cpuacct.usage_user: in user mode
	SystemSeconds  float64 // cpuacct.usage_sys: in the kernel on the group's behalf
	Periods        int64   // CFS periods with runnable tasks
	Throttled      int64   // of those, periods in which the quota ran out
	ThrottledSecs  float64 // time spent throttled
	MemoryPeak     int64   // memory.max_usage_in_bytes
	MemoryNow      int64   // memory.usage_in_bytes
	MemoryLimit    int64   // memory.limit_in_bytes
	OOMKills       int64   // memory.oom_control oom_kill
	QuotaCPUs      float64 // the quota, in cores
	MemoryFailures int64   // memory.failcnt: times the limit was hit
}

// Stats reads the cgroup's counters.
func (c *Cgroup) Stats() (Stats, error) {
	var s Stats
	var errs []error
	num := func(ctl, file string) int64 {
		b, err := os.ReadFile(filepath.Join(c.dirs[ctl], file))
		if err != nil {
			errs = append(errs, err)
			return 0
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", file, err))
		}
		return v
	}
	s.CPUSeconds = float64(num("cpuacct", "cpuacct.usage")) / 1e9
	s.UserSeconds = float64(num("cpuacct", "cpuacct.usage_user")) / 1e9
	s.SystemSeconds = float64(num("cpuacct", "cpuacct.usage_sys")) / 1e9
	s.MemoryPeak = num("memory", "memory.max_usage_in_bytes")
	s.MemoryNow = num("memory", "memory.usage_in_bytes")
	s.MemoryLimit = num("memory", "memory.limit_in_bytes")
	s.MemoryFailures = num("memory", "memory.failcnt")
	s.QuotaCPUs = float64(num("cpu", "cpu.cfs_quota_us")) / float64(num("cpu", "cpu.cfs_period_us"))
	kv := func(ctl, file string) map[string]int64 {
		m := map[string]int64{}
		b, err := os.ReadFile(filepath.Join(c.dirs[ctl], file))
		if err != nil {
			errs = append(errs, err)
			return m
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				m[f[0]] = v
			}
		}
		return m
	}
	cpu := kv("cpu", "cpu.stat")
	s.Periods, s.Throttled, s.ThrottledSecs = cpu["nr_periods"], cpu["nr_throttled"], float64(cpu["throttled_time"])/1e9
	s.OOMKills = kv("memory", "memory.oom_control")["oom_kill"]
	return s, errors.Join(errs...)
}

// Remove deletes the cgroup's directories; they must hold no process.
func (c *Cgroup) Remove() error {
	var errs []error
	for _, dir := range c.dirs {
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// FindCgroups returns the cgroups of the newest stack on this machine
// (cmd/stack names them fraudknn-<start time>), keyed by service, or nil
// when there is none.
func FindCgroups() map[string]*Cgroup {
	matches, _ := filepath.Glob(filepath.Join(CgroupRoot, "cpu", "fraudknn-*"))
	if len(matches) == 0 {
		return nil
	}
	newest := filepath.Base(matches[len(matches)-1]) // names sort by start time
	out := map[string]*Cgroup{}
	for _, name := range Services {
		c := &Cgroup{Name: name, dirs: map[string]string{}}
		for _, ctl := range controllers {
			c.dirs[ctl] = filepath.Join(CgroupRoot, ctl, newest, name)
		}
		if _, err := os.Stat(c.dirs["cpu"]); err == nil {
			out[name] = c
		}
	}
	return out
}

// RemoveStale removes the cgroups of earlier stacks that were killed
// before they could clean up. The kernel refuses to remove a cgroup that
// still holds a process, so a running stack's cgroups stay.
func RemoveStale() {
	for _, ctl := range controllers {
		stacks, _ := filepath.Glob(filepath.Join(CgroupRoot, ctl, "fraudknn-*"))
		for _, st := range stacks {
			services, _ := filepath.Glob(filepath.Join(st, "*"))
			for _, svc := range services {
				if fi, err := os.Stat(svc); err == nil && fi.IsDir() {
					os.Remove(svc)
				}
			}
			os.Remove(st)
		}
	}
}

// ProcRoot is where the proc file system is mounted.
var ProcRoot = "/proc"

// Switches are what a cgroup's processes have done so far that cgroup v1
// does not count: context switches (summed over the live threads, from
// /proc/PID/task/TID/status) and read- and write-class system calls
// (from /proc/PID/io, which counts the whole process).
type Switches struct {
	Voluntary   int64 // the thread blocked (a read with nothing to read, a futex wait, epoll_wait)
	Involuntary int64 // the scheduler took the CPU away (time slice over, or the CFS quota ran out)
	ReadCalls   int64 // syscr: read, recvmsg, readv…
	WriteCalls  int64 // syscw: write, sendmsg, writev…
}

// Switches reads the context switches and I/O system calls of the
// cgroup's processes. A thread that exited takes its context switches
// with it, so a delta over a run undercounts when threads come and go;
// Go and nginx keep theirs.
func (c *Cgroup) Switches() Switches {
	var s Switches
	for _, pid := range c.Pids() {
		dir := filepath.Join(ProcRoot, strconv.Itoa(pid))
		io := procFields(filepath.Join(dir, "io"))
		s.ReadCalls += io["syscr"]
		s.WriteCalls += io["syscw"]
		tasks, _ := filepath.Glob(filepath.Join(dir, "task", "*", "status"))
		for _, t := range tasks {
			st := procFields(t)
			s.Voluntary += st["voluntary_ctxt_switches"]
			s.Involuntary += st["nonvoluntary_ctxt_switches"]
		}
	}
	return s
}

// Comm returns the command name of the cgroup's first process ("nginx",
// "lb", "api"), or "" when it holds none.
func (c *Cgroup) Comm() string {
	pids := c.Pids()
	if len(pids) == 0 {
		return ""
	}
	b, _ := os.ReadFile(filepath.Join(ProcRoot, strconv.Itoa(pids[0]), "comm"))
	return strings.TrimSpace(string(b))
}

// procFields reads a /proc file of "name: value" lines into a map; lines
// whose value is not a number are left out.
func procFields(path string) map[string]int64 {
	m := map[string]int64{}
	b, err := os.ReadFile(path)
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			m[k] = n
		}
	}
	return m
}
