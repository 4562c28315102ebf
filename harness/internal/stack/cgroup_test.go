package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fraudknn/harness/internal/compose"
)

// fakeRoot points CgroupRoot at a temporary folder for the test.
func fakeRoot(t *testing.T) string {
	root := t.TempDir()
	old := CgroupRoot
	CgroupRoot = root
	t.Cleanup(func() { CgroupRoot = old })
	return root
}

func read(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestNewCgroupAppliesLimits(t *testing.T) {
	root := fakeRoot(t)
	cg, err := NewCgroup("fraudknn-test", "api1", compose.Limits{CPUs: 0.4, Memory: 160 << 20})
	if err != nil {
		t.Fatal(err)
	}
	dir := func(ctl string) string { return filepath.Join(root, ctl, "fraudknn-test", "api1") }
	if q, p := read(t, filepath.Join(dir("cpu"), "cpu.cfs_quota_us")), read(t, filepath.Join(dir("cpu"), "cpu.cfs_period_us")); q != "40000" || p != "100000" {
		t.Errorf("CPU quota %s per period %s; want 40000 per 100000", q, p)
	}
	if m := read(t, filepath.Join(dir("memory"), "memory.limit_in_bytes")); m != "167772160" {
		t.Errorf("memory limit %s; want 167772160", m)
	}
	if got := cg.ProcsFiles(); len(got) != 3 || !strings.HasSuffix(got[0], "cgroup.procs") {
		t.Errorf("ProcsFiles %v", got)
	}
	// Stats reads the counters the kernel would keep.
	files := map[string]string{
		"cpuacct/cpuacct.usage":            "2500000000",
		"cpuacct/cpuacct.usage_user":       "1000000000",
		"cpuacct/cpuacct.usage_sys":        "1500000000",
		"cpu/cpu.stat":                     "nr_periods 100\nnr_throttled 7\nthrottled_time 35000000",
		"memory/memory.max_usage_in_bytes": "104857600",
		"memory/memory.usage_in_bytes":     "52428800",
		"memory/memory.failcnt":            "0",
		"memory/memory.oom_control":        "oom_kill_disable 0\nunder_oom 0\noom_kill 1",
	}
	for f, v := range files {
		ctl, name, _ := strings.Cut(f, "/")
		os.WriteFile(filepath.Join(dir(ctl), name), []byte(v+"\n"), 0o644)
	}
	st, err := cg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.CPUSeconds != 2.5 || st.UserSeconds != 1 || st.SystemSeconds != 1.5 || st.Periods != 100 || st.Throttled != 7 || st.ThrottledSecs != 0.035 ||
		st.MemoryPeak != 100<<20 || st.OOMKills != 1 || st.QuotaCPUs != 0.4 || st.MemoryLimit != 160<<20 {
		t.Errorf("Stats = %+v", st)
	}
	found := FindCgroups()
	if len(found) != 1 || found["api1"] == nil {
		t.Fatalf("FindCgroups = %v; want api1", found)
	}
}

func TestNewCgroupFailsCleanly(t *testing.T) {
	root := fakeRoot(t)
	// A file where the memory hierarchy should be: the cgroup cannot be
	// made, and nothing of it is left behind.
	os.MkdirAll(filepath.Join(root, "cpu"), 0o755)
	os.WriteFile(filepath.Join(root, "memory"), nil, 0o644)
	if _, err := NewCgroup("fraudknn-test", "nginx", compose.Limits{CPUs: 0.2, Memory: 30 << 20}); err == nil {
		t.Fatal("NewCgroup succeeded without a memory hierarchy")
	}
	if _, err := os.Stat(filepath.Join(root, "cpu", "fraudknn-test", "nginx")); !os.IsNotExist(err) {
		t.Fatalf("a half-made cgroup was left: %v", err)
	}
}

func TestRemoveStale(t *testing.T) {
	root := fakeRoot(t)
	for _, ctl := range controllers {
		os.MkdirAll(filepath.Join(root, ctl, "fraudknn-old", "api1"), 0o755)
	}
	RemoveStale()
	if left, _ := filepath.Glob(filepath.Join(root, "*", "fraudknn-*")); len(left) != 0 {
		t.Fatalf("stale cgroups left: %v", left)
	}
}

func TestSwitchesSumsThreads(t *testing.T) {
	root := fakeRoot(t)
	proc := t.TempDir()
	old := ProcRoot
	ProcRoot = proc
	t.Cleanup(func() { ProcRoot = old })
	cg, err := NewCgroup("fraudknn-test", "nginx", compose.Limits{CPUs: 0.3, Memory: 30 << 20})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "memory", "fraudknn-test", "nginx", "cgroup.procs"), []byte("10\n20\n"), 0o644)
	write := func(path, text string) {
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(text), 0o644)
	}
	for _, pid := range []string{"10", "20"} {
		write(filepath.Join(proc, pid, "comm"), "nginx\n")
		write(filepath.Join(proc, pid, "io"), "rchar: 1\nsyscr: 7\nsyscw: 3\n")
		for _, tid := range []string{pid, pid + "1"} {
			write(filepath.Join(proc, pid, "task", tid, "status"), "Name:\tnginx\nvoluntary_ctxt_switches:\t5\nnonvoluntary_ctxt_switches:\t2\n")
		}
	}
	got := cg.Switches()
	if want := (Switches{Voluntary: 20, Involuntary: 8, ReadCalls: 14, WriteCalls: 6}); got != want {
		t.Errorf("Switches = %+v; want %+v (two processes of two threads each)", got, want)
	}
	if c := cg.Comm(); c != "nginx" {
		t.Errorf("Comm = %q; want nginx", c)
	}
}

// TestStatsReadsTheCounters: the figures the budget reports come from the
// cgroup v1 files, in their units (nanoseconds, bytes, key-value lines).
func TestStatsReadsTheCounters(t *testing.T) {
	root := fakeRoot(t)
	cg, err := NewCgroup("fraudknn-test", "api1", compose.Limits{CPUs: 0.35, Memory: 160 << 20})
	if err != nil {
		t.Fatal(err)
	}
	write := func(ctl, file, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, ctl, "fraudknn-test", "api1", file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cpuacct", "cpuacct.usage", "2500000000\n")
	write("cpuacct", "cpuacct.usage_user", "1500000000\n")
	write("cpuacct", "cpuacct.usage_sys", "1000000000\n")
	write("memory", "memory.max_usage_in_bytes", "115343360\n")
	write("memory", "memory.usage_in_bytes", "110100480\n")
	write("memory", "memory.failcnt", "0\n")
	write("cpu", "cpu.stat", "nr_periods 600\nnr_throttled 3\nthrottled_time 45000000\n")
	write("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
	st, err := cg.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{CPUSeconds: 2.5, UserSeconds: 1.5, SystemSeconds: 1, MemoryPeak: 115343360, MemoryNow: 110100480,
		MemoryLimit: 160 << 20, QuotaCPUs: 0.35, Periods: 600, Throttled: 3, ThrottledSecs: 0.045, OOMKills: 1}
	if st != want {
		t.Errorf("stats\n got %+v\nwant %+v", st, want)
	}
	write("cpuacct", "cpuacct.usage", "lots\n")
	if _, err := cg.Stats(); err == nil || !strings.Contains(err.Error(), "cpuacct.usage") {
		t.Errorf("an unreadable counter: %v; want an error naming the file", err)
	}
}
