package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"fraudknn/artifact"
	"fraudknn/internal/testenv"
	"fraudknn/knn"
	"fraudknn/vector"
)

// buildAPI compiles this command for a test that runs it, which it skips
// under -short.
func buildAPI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping: builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "api")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// smallArtifact writes a valid artifact of random vectors.
func smallArtifact(t *testing.T, dir string) string {
	n := 2000
	vecs := make([]int16, n*vector.Dims)
	labels := make([]uint8, n)
	assign := make([]uint32, n)
	for i := range labels {
		for d := 0; d < vector.Dims; d++ {
			vecs[i*vector.Dims+d] = int16((i*7919 + d*104729) % (vector.MaxValue + 1))
		}
		labels[i] = uint8(i % 2)
		assign[i] = uint32(i % 20)
	}
	ix, err := knn.Build(vecs, labels, assign, 20)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "index.fknn")
	if _, err := artifact.Write(path, ix, artifact.Meta{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRefusesBadArtifacts starts the API on a missing, truncated and
// corrupted artifact: each time it must exit 1 with a message saying what
// is wrong and how to rebuild, and /ready must never answer 200.
func TestRefusesBadArtifacts(t *testing.T) {
	bin := buildAPI(t)
	dir := t.TempDir()
	good := smallArtifact(t, dir)
	b, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.fknn")
	os.WriteFile(truncated, b[:len(b)/2], 0o644)
	flipped := filepath.Join(dir, "flipped.fknn")
	c := append([]byte(nil), b...)
	c[len(c)-100] ^= 0x40
	os.WriteFile(flipped, c, 0o644)

	for _, tc := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope.fknn"), "no such file"},
		{"truncated", truncated, "truncated"},
		{"corrupted", flipped, "checksum mismatch"},
	} {
		sock := filepath.Join(dir, tc.name+".sock")
		cmd := exec.Command(bin, "-artifact", tc.path, "-listen", "unix:"+sock)
		stderr, done := testenv.Start(t, cmd)
		err := testenv.ExitsUnready(t, tc.name, cmd, done, testenv.UnixClient(sock), "http://api/ready", 10*time.Second)
		if !testenv.ExitedWith(err, 1) {
			t.Errorf("%s: exit %v; want status 1", tc.name, err)
		}
		if msg := stderr.String(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, "make artifact") {
			t.Errorf("%s: the API said %q; want it to mention %q and how to rebuild", tc.name, msg, tc.want)
		}
	}

	// And the good artifact serves.
	sock := filepath.Join(dir, "good.sock")
	cmd := exec.Command(bin, "-artifact", good, "-listen", "unix:"+sock, "-warm", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	if !becomesReady(testenv.UnixClient(sock), "http://api/ready") {
		t.Fatal("a good artifact never became ready")
	}
}

// becomesReady polls url for up to 10 s and reports whether it answered
// 200.
func becomesReady(client *http.Client, url string) bool {
	return testenv.BecomesReady(client, url, 10*time.Second)
}

// TestDefaultArtifact runs the API without -artifact, as `go run ./cmd/api`
// does: in a folder with no build/index.fknn it exits 1 at once, saying
// where it looked and how to build one; beside one, it serves it and says
// so. When 127.0.0.1:8080 is free it also runs with no flags at all.
func TestDefaultArtifact(t *testing.T) {
	bin := buildAPI(t)
	dir := t.TempDir()

	var stderr bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Stderr = &stderr
	err := cmd.Run()
	if !testenv.ExitedWith(err, 1) {
		t.Fatalf("with no artifact: exit %v; want status 1\n%s", err, stderr.String())
	}
	for _, want := range []string{filepath.Join(dir, "build", "index.fknn"), "go run ./cmd/indexer", "make artifact"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("with no artifact the API said %q; want it to mention %q", stderr.String(), want)
		}
	}

	if err := os.Mkdir(filepath.Join(dir, "build"), 0o755); err != nil {
		t.Fatal(err)
	}
	smallArtifact(t, filepath.Join(dir, "build"))
	run := func(url string, client *http.Client, args ...string) string {
		t.Helper()
		var stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := becomesReady(client, url)
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("%v: exit %v after SIGTERM; want 0", args, err)
		}
		if !ready {
			t.Fatalf("%v: never became ready:\n%s", args, stderr.String())
		}
		return stderr.String()
	}
	sock := filepath.Join(dir, "api.sock")
	if msg := run("http://api/ready", testenv.UnixClient(sock), "-listen", "unix:"+sock, "-warm", "100"); !strings.Contains(msg, "loading build/index.fknn") {
		t.Errorf("the API did not say which artifact it loads: %q", msg)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		t.Skipf("skipping the run with no flags: 127.0.0.1:8080 is taken (%v)", err)
	}
	ln.Close()
	if msg := run("http://127.0.0.1:8080/ready", &http.Client{Timeout: time.Second}); !strings.Contains(msg, "listening on 127.0.0.1:8080") || !strings.Contains(msg, "loading build/index.fknn") {
		t.Errorf("with no flags the API did not say what it serves where: %q", msg)
	}
}

// TestFloorHandler checks the measurement mode: ready at once with no
// index, the same fixed answer whatever the body, 405 and 404 kept.
func TestFloorHandler(t *testing.T) {
	do := func(method, path, body string) (int, string) {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod(method)
		ctx.Request.SetRequestURI(path)
		ctx.Request.SetBodyString(body)
		floorHandler(&ctx)
		return ctx.Response.StatusCode(), string(ctx.Response.Body())
	}
	if code, body := do("GET", "/ready", ""); code != 200 || body != `{"ready":true}` {
		t.Fatalf("/ready: %d %s", code, body)
	}
	for _, body := range []string{testenv.SpecFraud, "not json", ""} {
		if code, got := do("POST", "/fraud-score", body); code != 200 || got != testenv.SpecLegitAnswer {
			t.Fatalf("answer to %.20q: %d %s, want 200 %s", body, code, got, testenv.SpecLegitAnswer)
		}
	}
	if code, _ := do("GET", "/fraud-score", ""); code != 405 {
		t.Fatalf("GET /fraud-score: %d, want 405", code)
	}
	if code, _ := do("GET", "/nope", ""); code != 404 {
		t.Fatalf("GET /nope: %d, want 404", code)
	}
}

// TestOperatorListener runs the binary with -listen and -operator on Unix
// sockets: the public socket answers the explain route and /metrics with
// 404; the operator's socket (mode 0660) explains and serves the metrics.
// The removed -metrics flag stops the program with a message naming
// -operator.
func TestOperatorListener(t *testing.T) {
	bin := buildAPI(t)
	dir := t.TempDir()
	art := smallArtifact(t, dir)
	public, operator := filepath.Join(dir, "api.sock"), filepath.Join(dir, "op.sock")
	cmd := exec.Command(bin, "-artifact", art, "-listen", "unix:"+public, "-operator", "unix:"+operator, "-warm", "100")
	stderr, done := testenv.Start(t, cmd)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); <-done }()
	if !becomesReady(testenv.UnixClient(public), "http://api/ready") || !becomesReady(testenv.UnixClient(operator), "http://api/ready") {
		t.Fatalf("never ready on both listeners:\n%s", stderr.String())
	}
	if st, err := os.Stat(operator); err != nil || st.Mode().Perm() != 0o660 {
		t.Fatalf("operator socket: %v, %v; want mode 0660", st, err)
	}
	// do sends method to path on sock; a POST carries SPEC.md's fraud example.
	do := func(method, sock, path string) (int, string) {
		var body io.Reader
		if method == "POST" {
			body = strings.NewReader(testenv.SpecFraud)
		}
		req, err := http.NewRequest(method, "http://api"+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := testenv.UnixClient(sock).Do(req)
		if err != nil {
			t.Fatalf("%s %s %s: %v", method, sock, path, err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	post := func(sock, path string) (int, string) { return do("POST", sock, path) }
	get := func(sock, path string) (int, string) { return do("GET", sock, path) }
	if code, body := post(public, "/fraud-score/explain"); code != 404 || !strings.Contains(body, `"error":"no such path`) {
		t.Errorf("public explain: %d %s; want a JSON 404", code, body)
	}
	if code, body := get(public, "/metrics"); code != 404 || !strings.Contains(body, `"error":"no such path`) {
		t.Errorf("public /metrics: %d %s; want a JSON 404", code, body)
	}
	if code, body := post(public, "/fraud-score"); code != 200 || !strings.HasPrefix(body, `{"approved":`) {
		t.Errorf("public /fraud-score: %d %s", code, body)
	}
	if code, body := post(operator, "/fraud-score/explain"); code != 200 || strings.Count(body, `"position":`) != 5 {
		t.Errorf("operator explain: %d %s; want 5 neighbours", code, body)
	}
	if code, body := get(operator, "/metrics"); code != 200 || !strings.Contains(body, "fraudknn_vectors_scanned_count 1\n") || !strings.Contains(body, "fraudknn_info{") {
		t.Errorf("operator /metrics: %d %s", code, body)
	}

	// An operator listener that cannot be opened stops the program,
	// naming the address, rather than leaving the operator without it.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var busy bytes.Buffer
	clash := exec.Command(bin, "-artifact", art, "-listen", "unix:"+filepath.Join(dir, "b.sock"), "-operator", taken.Addr().String())
	clash.Stderr = &busy
	err = clash.Run()
	if !testenv.ExitedWith(err, 1) || !strings.Contains(busy.String(), "cannot listen on "+taken.Addr().String()+" for -operator") {
		t.Errorf("-operator on a taken address: exit %v, %q; want status 1 naming the address", err, busy.String())
	}

	var out bytes.Buffer
	old := exec.Command(bin, "-artifact", art, "-metrics", "127.0.0.1:9100")
	old.Stderr = &out
	err = old.Run()
	if !testenv.ExitedWith(err, 2) || !strings.Contains(out.String(), "-operator 127.0.0.1:9100") {
		t.Errorf("-metrics: exit %v, %q; want status 2 and a pointer to -operator", err, out.String())
	}
}

// TestTruncatedMappedArtifact serves a mapped artifact (-hugepages=false)
// and truncates the file in place under it, as a careless copy would:
// the API must not die of SIGBUS nor answer wrong. Every request gets the
// answer it got before the truncation, or 503; the process then stops in
// order with status 1, saying why, for its supervisor to restart it.
func TestTruncatedMappedArtifact(t *testing.T) {
	bin := buildAPI(t)
	dir := t.TempDir()
	path := smallArtifact(t, dir)
	sock := filepath.Join(dir, "api.sock")
	cmd := exec.Command(bin, "-artifact", path, "-listen", "unix:"+sock, "-hugepages=false", "-warm", "100")
	stderr, done := testenv.Start(t, cmd)
	defer cmd.Process.Kill()
	client := testenv.UnixClient(sock)
	if !becomesReady(client, "http://api/ready") {
		t.Fatalf("never ready:\n%s", stderr.String())
	}
	bodies := []string{testenv.SpecLegit, testenv.SpecFraud}
	before := make([]string, len(bodies))
	for i, b := range bodies {
		code, answer := testenv.PostScore(client, b)
		if code != 200 {
			t.Fatalf("before the truncation: %d %s", code, answer)
		}
		before[i] = answer
	}
	if err := os.Truncate(path, artifact.HeaderSize); err != nil {
		t.Fatal(err)
	}
	unavailable := 0
	for i := 0; i < 20; i++ {
		code, answer := testenv.PostScore(client, bodies[i%2])
		switch {
		case code == 0:
			// The connection was refused: the process has stopped.
		case code == 503:
			unavailable++
		case code == 200 && answer == before[i%2]:
		default:
			t.Errorf("request %d after the truncation: %d %s; want %s or 503", i, code, answer, before[i%2])
		}
	}
	if unavailable == 0 {
		t.Error("no request after the truncation was answered 503: did the search not read the truncated pages?")
	}
	select {
	case err := <-done:
		if !testenv.ExitedWith(err, 1) {
			t.Fatalf("the API ended with %v; want exit status 1 (not a signal)\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the API did not stop after the fault\n%s", stderr.String())
	}
	for _, want := range []string{"faulted", "truncated or rewritten in place", "stopped"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the API's log lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestLoopbackOrUnix: the operator listener's warning is for addresses
// other hosts may reach.
func TestLoopbackOrUnix(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9101": true, "[::1]:9101": true, "localhost:9101": true, "127.0.0.2:9101": true,
		"unix:/run/op.sock": true,
		"0.0.0.0:9101":      false, ":9101": false, "10.0.0.5:9101": false, "[::]:9101": false, "api1:9101": false, "nonsense": false,
	} {
		if got := loopbackOrUnix(addr); got != want {
			t.Errorf("loopbackOrUnix(%q) = %v, want %v", addr, got, want)
		}
	}
}
