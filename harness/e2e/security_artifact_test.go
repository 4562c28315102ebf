package e2e

// The artifact and memory findings, from the attacker's position: one who
// can write the artifact file (a tampered but well-formed file, or one
// truncated in place under a running instance), and an anonymous client
// who opens every connection an instance serves, each holding a body of
// the largest size accepted.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fraudknn/artifact"
	"fraudknn/harness/internal/stack"
	"fraudknn/internal/dataset"
	"fraudknn/internal/decision"
	"fraudknn/internal/server"
	"fraudknn/internal/testenv"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

// The header fields the tamper helper rewrites, as docs/ARTIFACT.md
// gives them: the section table (offset and length of each section, 16
// bytes a section; the labels are section 1), the CRC-32C of the data
// and the CRC-32C of the header before it.
const (
	offSections  = 104
	labelSection = 1
	offDataCRC   = 312
	offHeaderCRC = 316
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// tamperLabels returns a copy of the artifact b with every label zeroed
// (every reference legitimate) and both checksums recomputed, as an
// attacker who can write the file would: well-formed, every check of the
// format passes, and no transaction is ever found fraudulent.
func tamperLabels(t *testing.T, b []byte) []byte {
	t.Helper()
	out := append([]byte(nil), b...)
	le := binary.LittleEndian
	off := le.Uint64(out[offSections+16*labelSection:])
	n := le.Uint64(out[offSections+16*labelSection+8:])
	if off+n > uint64(len(out)) || n == 0 {
		t.Fatalf("the labels section [%d, +%d) is not inside the %d-byte file: docs/ARTIFACT.md's layout changed", off, n, len(out))
	}
	clear(out[off : off+n])
	le.PutUint32(out[offDataCRC:], crc32.Checksum(out[artifact.HeaderSize:], castagnoli))
	le.PutUint32(out[offHeaderCRC:], crc32.Checksum(out[:offHeaderCRC], castagnoli))
	return out
}

// realArtifact returns the path of the real artifact ($FRAUDKNN_ARTIFACT,
// else build/index.fknn at the repository's root), or skips.
func realArtifact(t *testing.T) string {
	t.Helper()
	path := os.Getenv("FRAUDKNN_ARTIFACT")
	if path == "" {
		root, _ := dataset.ModuleRoot()
		path = filepath.Join(root, "build", "index.fknn")
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("skipping: no artifact at %s (run `make artifact` or set FRAUDKNN_ARTIFACT)", path)
	}
	return path
}

// tamperedCopy writes the real artifact with its labels zeroed to a
// temporary folder, and returns its path and the real artifact's digest.
// It first shows what the tamper does without a pin: the file opens
// cleanly, and SPEC.md's fraudulent example, which the real index
// scores 1.0, would be approved.
func tamperedCopy(t *testing.T, dir string) (string, artifact.Digest) {
	t.Helper()
	real := realArtifact(t)
	b, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "index.tampered.fknn")
	if err := os.WriteFile(path, tamperLabels(t, b), 0o644); err != nil {
		t.Fatal(err)
	}
	orig, err := artifact.Map(real)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	bad, err := artifact.Map(path)
	if err != nil {
		t.Fatalf("the tampered artifact fails the format's checks (%v): the tamper does not show what it must", err)
	}
	defer bad.Close()
	if fo, fb := frauds(t, orig.Index, testenv.SpecFraud), frauds(t, bad.Index, testenv.SpecFraud); fo != decision.Neighbors || fb != 0 {
		t.Fatalf("SPEC.md's fraudulent example has %d fraudulent neighbours in the real index and %d in the tampered one; want %d and 0", fo, fb, decision.Neighbors)
	}
	return path, orig.SHA256
}

// frauds returns the fraudulent neighbours of a request body in ix.
func frauds(t *testing.T, ix *knn.Index, body string) int {
	t.Helper()
	v, err := vectorize.Vectorize([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var r knn.Result
	knn.NewSearcher(ix, decision.Neighbors).Search((*[vector.Dims]int16)(&v), &r)
	return r.Frauds
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// productBinary builds the product's command name (cmd/NAME) once for
// the tests and returns its path.
func productBinary(t *testing.T, name string) string {
	t.Helper()
	binOnce.Do(func() {
		root, ok := dataset.ModuleRoot()
		if !ok {
			binErr = errors.New("the product's module root is not above the working folder")
			return
		}
		binDir, binErr = os.MkdirTemp("", "fraudknn-e2e-bin-")
		if binErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./cmd/api", "./cmd/indexer", "./cmd/lb")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, name)
}

// TestArtifactTamperedRefusedAtStart starts the API on the tampered
// artifact with the real one's digest pinned: it must exit 1 before it
// is ready, naming both digests; `indexer -check` with the pin must
// refuse it too, and pass the real artifact.
func TestArtifactTamperedRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	tampered, pin := tamperedCopy(t, dir)
	api := productBinary(t, "api")
	got, err := artifact.FileDigest(tampered)
	if err != nil {
		t.Fatal(err)
	}
	for _, huge := range []string{"-hugepages=true", "-hugepages=false"} {
		sock := filepath.Join(dir, "api.sock")
		cmd := exec.Command(api, "-artifact", tampered, "-digest", pin.String(), "-listen", "unix:"+sock, huge)
		stderr, done := testenv.Start(t, cmd)
		err = testenv.ExitsUnready(t, huge+" on the tampered artifact", cmd, done, testenv.UnixClient(sock), "http://api/ready", time.Minute)
		if !testenv.ExitedWith(err, 1) {
			t.Errorf("%s: the API ended with %v; want exit status 1", huge, err)
		}
		for _, want := range []string{pin.String(), got.String(), "pinned"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%s: the API's refusal lacks %q:\n%s", huge, want, stderr.String())
			}
		}
	}

	indexer := productBinary(t, "indexer")
	out, err := exec.Command(indexer, "-check", tampered, "-digest", pin.String()).CombinedOutput()
	if !testenv.ExitedWith(err, 1) || !strings.Contains(string(out), got.String()) || !strings.Contains(string(out), pin.String()) {
		t.Errorf("indexer -check of the tampered file: %v\n%s\nwant exit status 1 naming both digests", err, out)
	}
	out, err = exec.Command(indexer, "-check", realArtifact(t), "-digest", pin.String(), "-memory-limit", "160MB").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok: ") {
		t.Errorf("indexer -check of the real artifact with its digest: %v\n%s", err, out)
	}
}

// TestArtifactTamperedRefusedAtReindex offers the running stack the
// tampered artifact with the real one's digest pinned: the update must
// be refused before any instance is touched, naming both digests, and
// the stack must go on answering right through its balancer.
func TestArtifactTamperedRefusedAtReindex(t *testing.T) {
	url := stackURL(t)
	control := os.Getenv("FRAUDKNN_CONTROL")
	if control == "" {
		root, _ := dataset.ModuleRoot()
		control = filepath.Join(root, "runs", stack.ControlSocket)
	}
	if _, err := os.Stat(control); err != nil {
		t.Skipf("skipping: no stack control socket at %s (bin/stack makes runs/stack.sock; FRAUDKNN_CONTROL names another)", control)
	}
	tampered, pin := tamperedCopy(t, t.TempDir())
	got, _ := artifact.FileDigest(tampered)
	var out bytes.Buffer
	err := stack.RequestReindex(control, tampered, pin, &out)
	if err == nil {
		t.Fatalf("the stack rolled the tampered artifact in:\n%s", out.String())
	}
	for _, want := range []string{"nothing was changed", pin.String(), got.String()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the refusal lacks %q:\n%s", want, out.String())
		}
	}
	checkSpecAnswers(t, url)
}

// checkSpecAnswers sends SPEC.md's two examples through the balancer at
// url and checks the answers.
func checkSpecAnswers(t *testing.T, url string) {
	t.Helper()
	for _, c := range []struct{ body, want string }{
		{testenv.SpecLegit, testenv.SpecLegitAnswer},
		{testenv.SpecFraud, testenv.SpecFraudAnswer},
	} {
		if code, body, _ := post(t, "POST", url+"/fraud-score", c.body); code != 200 || body != c.want {
			t.Errorf("got %d %s; want 200 %s", code, body, c.want)
		}
	}
}

// TestArtifactTruncatedWhileMapped starts a stack of its own, beside any
// other (its own port and operator sockets, the compose file's limits),
// under each balancer, with both APIs mapping a copy of the real
// artifact (-hugepages=false); then truncates the file in place under
// them and sends SPEC.md's examples through the balancer. Every answer
// must be the right one or a refusal (503 or a balancer's error), never
// another; and each API must stop in order with status 1 (the
// supervisor's cue to restart it), saying why, never die of SIGBUS.
func TestArtifactTruncatedWhileMapped(t *testing.T) {
	real := realArtifact(t)
	root, _ := dataset.ModuleRoot()
	for _, balancer := range []string{"nginx", "fdpass"} {
		t.Run(balancer, func(t *testing.T) {
			if balancer == "nginx" {
				if _, err := exec.LookPath("nginx"); err != nil {
					t.Skip("skipping: no nginx (apt-get install -y nginx)")
				}
			}
			dir, err := os.MkdirTemp("", "fk-trunc") // short: socket paths are limited to 108 bytes
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			os.Chmod(dir, 0o755) // nginx's workers, another user, reach the sockets inside
			path := filepath.Join(dir, "index.fknn")
			b, err := os.ReadFile(real)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			size := int64(len(b))
			b = nil
			s, err := stack.Start(stack.Config{
				Compose: filepath.Join(root, stack.ComposeFile(balancer)), NginxConf: filepath.Join(root, "nginx", "nginx.conf"), Nginx: "nginx",
				API: productBinary(t, "api"), LB: productBinary(t, "lb"), Balancer: balancer, Artifact: path,
				RunsDir: dir, Port: freePort(t), APIArgs: []string{"-hugepages=false", "-warm", "200"},
				Operators:  []string{"unix:" + filepath.Join(dir, "op1.sock"), "unix:" + filepath.Join(dir, "op2.sock")},
				LBOperator: "unix:" + filepath.Join(dir, "lb-op.sock"),
				Log:        log.New(io.Discard, "", 0),
			})
			if err != nil {
				logs, _ := filepath.Glob(filepath.Join(dir, "*", "*.log"))
				more, _ := filepath.Glob(filepath.Join(dir, "*", "nginx", "error.log"))
				logs = append(logs, more...)
				for _, l := range logs {
					text, _ := os.ReadFile(l)
					t.Logf("%s:\n%s", l, text)
				}
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Stop() })
			checkSpecAnswers(t, s.URL)
			// The tables the search reads first (the regions') are at the
			// end of the file: cutting it in half faults every search.
			if err := os.Truncate(path, size/2); err != nil {
				t.Fatal(err)
			}
			cases := []struct{ body, want string }{{testenv.SpecLegit, testenv.SpecLegitAnswer}, {testenv.SpecFraud, testenv.SpecFraudAnswer}}
			// Until both APIs have stopped (a request then waits for a
			// backend until its timeout: cmd/lb holds it for one to come).
			c := &http.Client{Timeout: 2 * time.Second}
			refused, right := 0, 0
			for i := 0; i < 40 && (s.Running("api1") || s.Running("api2")); i++ {
				code, body := score(c, s.URL, cases[i%2].body)
				switch {
				case code == 200 && body == cases[i%2].want:
					right++
				case code == 200:
					t.Errorf("request %d after the truncation: 200 %s; want %s or a refusal", i, body, cases[i%2].want)
				default:
					refused++
				}
			}
			t.Logf("after the truncation: %d right answers, %d refused", right, refused)
			if refused == 0 {
				t.Error("nothing refused after the truncation: the search never read a truncated page, so the test shows nothing")
			}
			for range stack.APIs {
				select {
				case e := <-s.Exits():
					var exit *exec.ExitError
					if !errors.As(e.Err, &exit) || exit.ExitCode() != 1 {
						t.Errorf("%s ended with %v; want exit status 1, not a signal (log %s)", e.Name, e.Err, s.LogFile(e.Name))
					}
					if text, _ := os.ReadFile(s.LogFile(e.Name)); !strings.Contains(string(text), "truncated or rewritten in place") {
						t.Errorf("%s's log does not say why it stopped:\n%s", e.Name, text)
					}
				case <-time.After(20 * time.Second):
					t.Fatal("an API did not stop after the fault")
				}
			}
		})
	}
}

// freePort returns a TCP port on loopback that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// score posts body to url's /fraud-score; code 0 means no answer.
func score(c *http.Client, url, body string) (int, string) {
	resp, err := c.Post(url+"/fraud-score", "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMemoryAtConnectionLimit opens, through the running stack's
// balancer, as many connections as its API instances serve together
// (fraudknn_max_connections on each operator listener) plus a few, and
// on each sends a request with a body of the largest size accepted,
// all but its last byte: every connection an instance holds carries a
// full body buffer. Behind cmd/lb (bin/stack -balancer fdpass) the
// connections reach the instances themselves; behind nginx, which reads
// bodies before it forwards them, only nginx holds them. No instance
// may die (the native stack does not restart one: each operator listener
// must still answer), and afterwards SPEC.md's examples must be answered
// right.
func TestMemoryAtConnectionLimit(t *testing.T) {
	url := stackURL(t)
	ops := operatorURLs(t)
	limit := 0
	for _, op := range ops {
		m := metricsOf(t, op)
		n, err := strconv.Atoi(metricValue(m, "fraudknn_max_connections"))
		if err != nil {
			t.Fatalf("%s: no fraudknn_max_connections: %v", op, err)
		}
		limit += n
		t.Logf("%s: %d connections at most, Go memory limit %s bytes, resident %s bytes", op, n, metricValue(m, "fraudknn_go_memory_limit_bytes"), metricValue(m, "process_resident_memory_bytes"))
	}
	host := strings.TrimPrefix(url, "http://")
	body := strings.Repeat(" ", server.MaxBodySize-2) + "{}"
	head := fmt.Sprintf("POST /fraud-score HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", host, len(body))
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < limit+32; i++ {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			t.Logf("connection %d: %v", i, err)
			break
		}
		conns = append(conns, c)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write([]byte(head + body[:len(body)-1]))
	}
	time.Sleep(time.Second) // every instance reads what it was sent
	for _, op := range ops {
		m := metricsOf(t, op)
		t.Logf("%s with %d connections open: resident %s bytes", op, len(conns), metricValue(m, "process_resident_memory_bytes"))
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	time.Sleep(500 * time.Millisecond)
	for _, op := range ops {
		metricsOf(t, op) // fails the test if the instance died
	}
	checkSpecAnswers(t, url)
}

// metricsOf returns the text of an operator listener's /metrics.
func metricsOf(t *testing.T, op string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(op + "/metrics")
	if err != nil {
		t.Fatalf("%s/metrics: %v (did the instance die?)", op, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metricValue returns the value of an unlabelled metric, "" if absent.
func metricValue(text, name string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return m[1]
}
