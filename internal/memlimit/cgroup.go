package memlimit

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// noLimit is the value at or above which cgroup v1 means "no limit" (it
// reports the largest page-aligned int64).
const noLimit = 1 << 62

// Cgroup returns the memory limit of the cgroup this process runs in,
// and the file it read it from: memory.max (cgroup v2) or
// memory.limit_in_bytes (v1) of its own cgroup, or of an ancestor within
// the same mount when that one is smaller (a container's limit can sit
// one level up). It returns 0 and no error when no limit applies, and an
// error only when the files exist but cannot be read.
func Cgroup() (int64, string, error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, "", nil // not Linux, or no /proc: nothing to go by
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return 0, "", nil
	}
	return limitIn("/", self, mounts)
}

// cgroupMount is a cgroup hierarchy as mountinfo lists it.
type cgroupMount struct {
	v2         bool
	root, path string // the hierarchy's path mounted, and where
}

// limitIn finds the memory limit under the file system rooted at fsRoot
// (a test's folder, or "/"), from the text of /proc/self/cgroup and
// /proc/self/mountinfo.
func limitIn(fsRoot string, self, mountinfo []byte) (int64, string, error) {
	var best int64
	var from string
	for _, m := range memoryMounts(mountinfo) {
		cg, ok := ownCgroup(self, m.v2)
		if !ok {
			continue
		}
		rel, err := filepath.Rel(m.root, cg)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = "." // a cgroup namespace: the mount's root is our own cgroup
		}
		file := "memory.limit_in_bytes"
		if m.v2 {
			file = "memory.max"
		}
		for dir := filepath.Join(fsRoot, m.path, rel); ; dir = filepath.Dir(dir) {
			limit, err := readLimit(filepath.Join(dir, file))
			if err != nil {
				return 0, "", err
			}
			if limit > 0 && (best == 0 || limit < best) {
				best, from = limit, filepath.Join(dir, file)
			}
			if dir == filepath.Join(fsRoot, m.path) || len(dir) <= len(fsRoot) {
				break
			}
		}
	}
	return best, from, nil
}

// readLimit reads one limit file: 0 when it is absent or says there is
// no limit.
func readLimit(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the cgroup's memory limit: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%s holds %q, not a limit in bytes", path, s)
	}
	if v >= noLimit {
		return 0, nil
	}
	return v, nil
}

// memoryMounts returns the cgroup hierarchies that can hold a memory
// limit: every cgroup2 mount, and cgroup v1 mounts of the memory
// controller.
func memoryMounts(mountinfo []byte) []cgroupMount {
	var out []cgroupMount
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	for sc.Scan() {
		// id parent maj:min root mountpoint options [optional...] - fstype source superoptions
		f := strings.Fields(sc.Text())
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+3 > len(f) {
			continue
		}
		fstype, super := f[sep+1], f[sep+3]
		switch {
		case fstype == "cgroup2":
			out = append(out, cgroupMount{v2: true, root: f[3], path: f[4]})
		case fstype == "cgroup" && hasOption(super, "memory"):
			out = append(out, cgroupMount{root: f[3], path: f[4]})
		}
	}
	return out
}

func hasOption(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// ownCgroup returns this process's cgroup path in the v2 hierarchy
// (the "0::" line) or in the v1 memory hierarchy.
func ownCgroup(self []byte, v2 bool) (string, bool) {
	for _, line := range strings.Split(string(self), "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctls, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if v2 && id == "0" && ctls == "" {
			return path, true
		}
		if !v2 && hasOption(ctls, "memory") {
			return path, true
		}
	}
	return "", false
}
