package server

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"fraudknn/internal/testenv"
	"fraudknn/knn"
)

// TestPublicListenerHasOnlyTheContestRoutes: the listener nginx and
// cmd/lb reach answers the operator's routes, and any other path, with a
// JSON 404 that names only its two routes; wrong methods on its own
// routes get 405 with Allow.
func TestPublicListenerHasOnlyTheContestRoutes(t *testing.T) {
	_, c, _ := serve(t, true)
	for _, r := range []struct{ method, path, body string }{
		{"POST", ExplainPath, testenv.SpecLegit},
		{"GET", ExplainPath, ""},
		{"GET", MetricsPath, ""},
		{"POST", MetricsPath, "{}"},
		{"GET", "/fraud-score/explain/", ""},
		{"GET", "/debug/pprof/", ""},
		{"GET", "/", ""},
	} {
		code, body, _ := do(t, c, r.method, r.path, r.body)
		if code != 404 || testenv.ErrorText(body) != "no such path; the API has POST /fraud-score and GET /ready" {
			t.Errorf("public %s %s: %d %s; want 404 naming only the public routes", r.method, r.path, code, body)
		}
	}
	for _, r := range []struct{ method, path, allow string }{
		{"GET", "/fraud-score", "POST"},
		{"DELETE", "/fraud-score", "POST"},
		{"POST", "/ready", "GET, HEAD"},
	} {
		code, body, h := do(t, c, r.method, r.path, "")
		if code != 405 || string(h.Peek("Allow")) != r.allow || testenv.ErrorText(body) == "" {
			t.Errorf("public %s %s: %d %s (Allow %q); want 405, Allow %q, a JSON error", r.method, r.path, code, body, h.Peek("Allow"), r.allow)
		}
	}
}

// TestOperatorRoutes: the operator listener explains, serves the metrics
// and /ready, and nothing else, not even /fraud-score.
func TestOperatorRoutes(t *testing.T) {
	s, c, _ := serve(t, true)
	code, body, _ := doAt(t, c, "operator", "POST", ExplainPath, testenv.SpecLegit)
	if code != 200 || !strings.Contains(body, `"neighbors":[{`) {
		t.Fatalf("operator explain: %d %s", code, body)
	}
	code, body, h := doAt(t, c, "operator", "GET", MetricsPath, "")
	if code != 200 || !strings.HasPrefix(string(h.ContentType()), "text/plain; version=0.0.4") || !strings.Contains(body, "fraudknn_ready 1\n") {
		t.Fatalf("operator metrics: %d (%s) %.200s", code, h.ContentType(), body)
	}
	if code, body, _ := doAt(t, c, "operator", "GET", "/ready", ""); code != 200 || body != `{"ready":true}` {
		t.Fatalf("operator /ready: %d %s", code, body)
	}
	code, body, h = doAt(t, c, "operator", "POST", MetricsPath, "{}")
	if code != 405 || string(h.Peek("Allow")) != "GET, HEAD" || !strings.Contains(testenv.ErrorText(body), "use GET") {
		t.Fatalf("operator POST %s: %d %s (Allow %q)", MetricsPath, code, body, h.Peek("Allow"))
	}
	for _, path := range []string{"/fraud-score", "/nope", "/metrics/"} {
		code, body, _ := doAt(t, c, "operator", "POST", path, testenv.SpecLegit)
		if code != 404 || !strings.Contains(testenv.ErrorText(body), "the operator listener has GET /metrics, POST /fraud-score/explain and GET /ready") {
			t.Errorf("operator POST %s: %d %s; want a JSON 404 naming its routes", path, code, body)
		}
	}
	// The operator's requests are not the traffic the metrics count.
	if n := s.Metrics.Requests(200) + s.Metrics.Requests(404) + s.Metrics.Requests(405); n != 0 {
		t.Fatalf("operator requests were counted as traffic: %d", n)
	}
}

// TestOperatorNotReady: before ServeIndex the operator's /ready says 503 and
// its metrics say fraudknn_ready 0.
func TestOperatorNotReady(t *testing.T) {
	_, c, _ := serve(t, false)
	if code, _, _ := doAt(t, c, "operator", "GET", "/ready", ""); code != 503 {
		t.Fatalf("operator /ready before ServeIndex: %d", code)
	}
	if _, body, _ := doAt(t, c, "operator", "GET", MetricsPath, ""); !strings.Contains(body, "fraudknn_ready 0\n") {
		t.Fatalf("metrics before ServeIndex: %.200s", body)
	}
}

// TestInfoMetrics reads back what an instance serves and its limits from
// its metrics: the digest once set, the build, the kernels, the Go memory
// limit in force, the connection limit the public server was built with,
// and the process's CPU time and resident memory.
func TestInfoMetrics(t *testing.T) {
	s, c, _ := serve(t, true)
	_, before, _ := doAt(t, c, "operator", "GET", MetricsPath, "")
	wantInfo := fmt.Sprintf(`fraudknn_info{artifact_sha256="",version="%s",kernels="%s"} 1`, Version, knn.Kernel())
	if !strings.Contains(before, wantInfo+"\n") {
		t.Fatalf("before the digest is set, metrics lack %s:\n%s", wantInfo, before)
	}
	digest := strings.Repeat("ab12", 16)
	s.SetArtifactDigest(digest)
	limit := int64(3 << 30)
	old := debug.SetMemoryLimit(limit)
	defer debug.SetMemoryLimit(old)
	_, body, _ := doAt(t, c, "operator", "GET", MetricsPath, "")
	for _, want := range []string{
		fmt.Sprintf(`fraudknn_info{artifact_sha256="%s",version="%s",kernels="%s"} 1`, digest, Version, knn.Kernel()),
		fmt.Sprintf("fraudknn_go_memory_limit_bytes %d", limit),
		fmt.Sprintf("fraudknn_max_connections %d", DefaultOptions.MaxConns),
		"# TYPE process_cpu_seconds_total counter",
		"# TYPE process_resident_memory_bytes gauge",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	cpu := metricValue(t, body, "process_cpu_seconds_total")
	rss := metricValue(t, body, "process_resident_memory_bytes")
	// The test process has built an index and served requests: some CPU
	// time, and more than a megabyte resident; and not absurd amounts.
	if cpu <= 0 || cpu > 1e6 || rss < 1<<20 || rss > 1<<40 {
		t.Fatalf("process_cpu_seconds_total %g, process_resident_memory_bytes %g", cpu, rss)
	}
	if Version == "" || strings.ContainsAny(Version, "\"\n") {
		t.Fatalf("Version %q", Version)
	}
}

// metricValue returns the value of an unlabelled sample.
func metricValue(t *testing.T, text, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no sample of %s in:\n%s", name, text)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// TestParseProc reads CPU time and resident memory from /proc texts,
// including a command name with spaces and parentheses, and refuses
// texts that are not.
func TestParseProc(t *testing.T) {
	stat := "4242 (odd) name (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 7 0 100 1000000 300 18446744073709551615\n"
	cpu, err := parseStatCPU([]byte(stat))
	if err != nil || cpu != 3.25 {
		t.Fatalf("parseStatCPU: %v, %v; want 3.25 s (250 + 75 ticks)", cpu, err)
	}
	for _, bad := range []string{"", "4242 no parentheses", "1 (x) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 ten 75 0"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) accepted it", bad)
		}
	}
	rss, err := parseStatmResident([]byte("5000 1234 300 10 0 900 0\n"), 4096)
	if err != nil || rss != 1234*4096 {
		t.Fatalf("parseStatmResident: %v, %v", rss, err)
	}
	if _, err := parseStatmResident([]byte("5000"), 4096); err == nil {
		t.Fatal("parseStatmResident accepted a text without the resident field")
	}
	// And the live files of this process read.
	if _, err := cpuSeconds(); err != nil {
		t.Fatal(err)
	}
	if _, err := residentBytes(); err != nil {
		t.Fatal(err)
	}
}

// TestListenModes: the public socket is open to every local user (nginx
// runs as another one), the operator's to its owner and group only.
func TestListenModes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		listen func(string) (any, error)
		name   string
		want   os.FileMode
	}{
		{func(a string) (any, error) { return Listen(a) }, "public.sock", 0o666},
		{func(a string) (any, error) { return ListenOperator(a) }, "operator.sock", 0o660},
	} {
		path := filepath.Join(dir, c.name)
		ln, err := c.listen("unix:" + path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != c.want {
			t.Errorf("%s: mode %v, want %v", c.name, st.Mode().Perm(), c.want)
		}
		ln.(interface{ Close() error }).Close()
	}
}
