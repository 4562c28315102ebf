package server

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"fraudknn/knn"
)

// What an instance serves and with what limits, for the operator's
// metrics. Everything here is read when the metrics are scraped, never on
// a request's path.

// SetArtifactDigest records the SHA-256 (hex) of the artifact the service
// answers from; fraudknn_info reports it, so that a dashboard shows which
// index every instance serves during a rolling update. Safe to call while
// serving.
func (s *Service) SetArtifactDigest(hex string) { s.digest.Store(&hex) }

// ArtifactDigest returns what SetArtifactDigest recorded, "" before.
func (s *Service) ArtifactDigest() string {
	if d := s.digest.Load(); d != nil {
		return *d
	}
	return ""
}

// Version is the build of this program: the VCS revision it was built
// from ("+dirty" when the tree had changes), else the module version,
// else "unknown".
var Version = buildVersion()

func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var rev, dirty string
	for _, kv := range info.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		return rev + dirty
	}
	if v := info.Main.Version; v != "" {
		return v
	}
	return "unknown"
}

// WriteMetrics writes every metric of the service in the Prometheus text
// format: the traffic's (Metrics.WritePrometheus), what the instance
// serves and its limits, and the process's CPU time and resident memory.
func (s *Service) WriteMetrics(w io.Writer) {
	s.Metrics.WritePrometheus(w, s.Ready())
	fmt.Fprintf(w, "# HELP fraudknn_info What this instance serves: the artifact's SHA-256 (empty until known), the build, the search kernels.\n# TYPE fraudknn_info gauge\n")
	fmt.Fprintf(w, "fraudknn_info{artifact_sha256=\"%s\",version=\"%s\",kernels=\"%s\"} 1\n",
		labelValue(s.ArtifactDigest()), labelValue(Version), labelValue(knn.Kernel()))
	fmt.Fprintf(w, "# HELP fraudknn_go_memory_limit_bytes The Go runtime's soft memory limit (math.MaxInt64: none).\n# TYPE fraudknn_go_memory_limit_bytes gauge\nfraudknn_go_memory_limit_bytes %d\n", debug.SetMemoryLimit(-1))
	fmt.Fprintf(w, "# HELP fraudknn_max_connections Connections the public listener serves at once; more are refused with 503.\n# TYPE fraudknn_max_connections gauge\nfraudknn_max_connections %d\n", s.maxConns.Load())
	writeProcessMetrics(w)
}

// labelValue escapes a Prometheus label value.
var labelValue = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace

// userHZ is the unit of the CPU times in /proc/<pid>/stat: the kernel
// reports them in USER_HZ ticks, which is 100 on every Linux architecture
// Go supports (the Prometheus Go client assumes the same).
const userHZ = 100

// writeProcessMetrics writes process_cpu_seconds_total and
// process_resident_memory_bytes from /proc/self, the names Prometheus's
// own clients use, and nothing where /proc cannot be read.
func writeProcessMetrics(w io.Writer) {
	if cpu, err := cpuSeconds(); err == nil {
		fmt.Fprintf(w, "# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %g\n", cpu)
	}
	if rss, err := residentBytes(); err == nil {
		fmt.Fprintf(w, "# HELP process_resident_memory_bytes Resident memory size, in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %d\n", rss)
	}
}

// cpuSeconds returns the process's user plus system CPU time from
// /proc/self/stat.
func cpuSeconds() (float64, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) from the text of
// /proc/<pid>/stat. The command name (field 2) is in parentheses and may
// hold spaces or parentheses itself, so the fields are counted from the
// last ')'.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/self/stat: no command name in %.60q", stat)
	}
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/self/stat: %d fields after the command name, want at least 13", len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/self/stat: utime %q, stime %q are not counts of ticks", f[11], f[12])
	}
	return float64(utime+stime) / userHZ, nil
}

// residentBytes returns the process's resident set from /proc/self/statm
// (its second field, in pages).
func residentBytes() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	return parseStatmResident(b, os.Getpagesize())
}

func parseStatmResident(statm []byte, pageSize int) (int64, error) {
	f := strings.Fields(string(statm))
	if len(f) < 2 {
		return 0, fmt.Errorf("/proc/self/statm: %q has no resident field", statm)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/self/statm: resident %q is not a count of pages", f[1])
	}
	return pages * int64(pageSize), nil
}
