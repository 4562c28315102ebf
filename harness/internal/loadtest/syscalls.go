package loadtest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fraudknn/harness/internal/stack"
)

// SyscallTool says how system calls are counted: perf (Debian's
// linux-perf package) counting the raw_syscalls:sys_enter tracepoint of
// each component's processes and their threads. Far cheaper than
// strace -c, which stops the process at every call, but not free: an
// enabled tracepoint sends every system call down the kernel's slow
// path, which on a KVM guest added about 2.5 µs a call, a sixth of the
// stack's CPU per request (docs/TUNING.md). So it is asked for, to
// explain a cost, and never left on when CPU figures are compared
// with runs made without it.
const SyscallTool = "perf stat -e raw_syscalls:sys_enter"

// syscallCounter runs one perf per component.
type syscallCounter struct {
	runs map[string]*perfRun
}

type perfRun struct {
	cmd *exec.Cmd
	out string
}

// startSyscalls starts counting the system calls of every cgroup's
// processes into files in dir; it returns nil, and why, when perf is
// missing or cannot count.
func startSyscalls(cgroups map[string]*stack.Cgroup, dir string) (*syscallCounter, error) {
	perf, err := exec.LookPath("perf")
	if err != nil {
		return nil, fmt.Errorf("perf not found (Debian: apt-get install linux-perf)")
	}
	c := &syscallCounter{runs: map[string]*perfRun{}}
	for name, cg := range cgroups {
		var pids []string
		for _, p := range cg.Pids() {
			pids = append(pids, strconv.Itoa(p))
		}
		if len(pids) == 0 {
			continue
		}
		out := filepath.Join(dir, "perf-"+name+".csv")
		cmd := exec.Command(perf, "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-o", out, "-p", strings.Join(pids, ","))
		if err := cmd.Start(); err != nil {
			c.stop()
			return nil, fmt.Errorf("perf: %v", err)
		}
		c.runs[name] = &perfRun{cmd: cmd, out: out}
	}
	time.Sleep(200 * time.Millisecond) // perf attaches to every thread before the load starts
	for name, r := range c.runs {
		if r.cmd.ProcessState != nil || r.cmd.Process.Signal(syscall.Signal(0)) != nil {
			c.stop()
			return nil, fmt.Errorf("perf stopped at once for %s; see %s", name, r.out)
		}
	}
	return c, nil
}

// stop ends every perf and returns each component's count; a component
// whose count could not be read is left out.
func (c *syscallCounter) stop() map[string]int64 {
	counts := map[string]int64{}
	for name, r := range c.runs {
		r.cmd.Process.Signal(os.Interrupt)
		r.cmd.Wait()
		if n, err := readPerfCount(r.out); err == nil {
			counts[name] = n
		}
		os.Remove(r.out)
	}
	return counts
}

// readPerfCount reads the count from perf stat -x , output: the first
// field of the line naming the event.
func readPerfCount(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ",")
		if len(fields) >= 3 && fields[2] == "raw_syscalls:sys_enter" {
			if strings.HasPrefix(fields[0], "<not counted>") {
				return 0, nil // no thread ran while perf counted
			}
			return strconv.ParseInt(fields[0], 10, 64)
		}
	}
	return 0, errors.New(path + ": no raw_syscalls:sys_enter count")
}
