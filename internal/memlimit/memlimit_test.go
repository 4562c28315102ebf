package memlimit

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCgroupV1 finds the limit of the process's own memory cgroup in a
// v1 hierarchy, as the native stack sets it, and the smaller of its own
// and its parent's.
func TestCgroupV1(t *testing.T) {
	root := t.TempDir()
	own := filepath.Join(root, "sys/fs/cgroup/memory/fraudknn-1/api1")
	os.MkdirAll(own, 0o755)
	os.WriteFile(filepath.Join(own, "memory.limit_in_bytes"), []byte("167772160\n"), 0o644)
	os.WriteFile(filepath.Join(filepath.Dir(own), "memory.limit_in_bytes"), []byte("9223372036854771712\n"), 0o644)
	self := []byte("9:name=systemd:/\n4:memory:/fraudknn-1/api1\n1:cpu:/\n0::/\n")
	mounts := []byte("30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
		"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
		"31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n")
	limit, from, err := limitIn(root, self, mounts)
	if err != nil || limit != 160<<20 || !strings.HasSuffix(from, "api1/memory.limit_in_bytes") {
		t.Fatalf("got %d from %q, %v; want 160 MiB from api1's memory.limit_in_bytes", limit, from, err)
	}
	// A parent with a smaller limit wins.
	os.WriteFile(filepath.Join(filepath.Dir(own), "memory.limit_in_bytes"), []byte("104857600\n"), 0o644)
	if limit, _, _ := limitIn(root, self, mounts); limit != 100<<20 {
		t.Fatalf("with a 100 MiB parent: %d", limit)
	}
}

// TestCgroupV2 reads memory.max in a container (a cgroup namespace: the
// mount's root is the process's own cgroup) and outside one.
func TestCgroupV2(t *testing.T) {
	root := t.TempDir()
	mounts := []byte("25 30 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n")
	cg := filepath.Join(root, "sys/fs/cgroup")
	os.MkdirAll(filepath.Join(cg, "system.slice/api.scope"), 0o755)
	os.WriteFile(filepath.Join(cg, "memory.max"), []byte("167772160\n"), 0o644)
	if limit, _, err := limitIn(root, []byte("0::/\n"), mounts); err != nil || limit != 160<<20 {
		t.Fatalf("in a namespace: %d, %v", limit, err)
	}
	os.WriteFile(filepath.Join(cg, "memory.max"), []byte("max\n"), 0o644)
	os.WriteFile(filepath.Join(cg, "system.slice/api.scope/memory.max"), []byte("max\n"), 0o644)
	if limit, _, err := limitIn(root, []byte("0::/system.slice/api.scope\n"), mounts); err != nil || limit != 0 {
		t.Fatalf("no limit anywhere: %d, %v; want 0", limit, err)
	}
	os.WriteFile(filepath.Join(cg, "system.slice/api.scope/memory.max"), []byte("52428800\n"), 0o644)
	if limit, from, err := limitIn(root, []byte("0::/system.slice/api.scope\n"), mounts); err != nil || limit != 50<<20 || !strings.Contains(from, "api.scope") {
		t.Fatalf("own cgroup's limit: %d from %q, %v", limit, from, err)
	}
	os.WriteFile(filepath.Join(cg, "system.slice/api.scope/memory.max"), []byte("lots\n"), 0o644)
	if _, _, err := limitIn(root, []byte("0::/system.slice/api.scope\n"), mounts); err == nil || !strings.Contains(err.Error(), "memory.max") {
		t.Fatalf("an unreadable limit: %v; want an error naming the file", err)
	}
}

// TestThisProcess reads the real files: whatever the machine, no error.
func TestThisProcess(t *testing.T) {
	limit, from, err := Cgroup()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("this process's memory limit: %d (%s)", limit, from)
}

func TestPlan(t *testing.T) {
	const artifact = 99 << 20
	// The contest's instance: 160 MiB.
	p, err := New(160<<20, artifact, 0, 512)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(160<<20 - artifact - Reserve); p.GoLimit != want {
		t.Errorf("Go limit %d; want %d", p.GoLimit, want)
	}
	if int64(p.MaxConns)*PerConn+BaseHeap > p.GoLimit || !p.Capped || p.MaxConns < 256 {
		t.Errorf("%d connections of %d bytes do not fit %d, or are fewer than the contest needs", p.MaxConns, PerConn, p.GoLimit)
	}
	// Plenty of memory: the connections asked for.
	if p, err := New(1<<30, artifact, 0, 512); err != nil || p.MaxConns != 512 || p.Capped {
		t.Errorf("1 GiB: %+v, %v", p, err)
	}
	// No limit known: none set.
	if p, err := New(0, artifact, 0, 512); err != nil || p.MaxConns != 512 || p.GoLimit != math.MaxInt64 {
		t.Errorf("unknown: %+v, %v", p, err)
	}
	// GOMEMLIMIT chosen: kept, and it bounds the connections.
	if p, err := New(160<<20, artifact, 20<<20, 512); err != nil || p.GoLimit != 20<<20 || p.MaxConns != int((20<<20-BaseHeap)/PerConn) {
		t.Errorf("GOMEMLIMIT 20 MiB: %+v, %v", p, err)
	}
	// Too little memory for the artifact: refused, saying how much is needed.
	if _, err := New(110<<20, artifact, 0, 512); err == nil || !strings.Contains(err.Error(), "at least") {
		t.Errorf("110 MiB: %v; want a refusal saying how much is needed", err)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{"160MB": 160 << 20, "160m": 160 << 20, "1g": 1 << 30, "512": 512, "64KiB": 64 << 10, "2 GiB": 2 << 30} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-5MB", "1.5g", "lots", "0", "99999999999g"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
}
