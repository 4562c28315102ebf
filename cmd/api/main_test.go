package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"fraudknn/artifact"
	"fraudknn/internal/testenv"
	"fraudknn/knn"
)

// buildAPI compiles this command once for the tests.
func buildAPI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "api")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// smallArtifact writes a valid artifact of random vectors.
func smallArtifact(t *testing.T, dir string) string {
	n := 2000
	vecs := make([]int16, n*knn.Dims)
	labels := make([]uint8, n)
	assign := make([]uint32, n)
	for i := range labels {
		for d := 0; d < knn.Dims; d++ {
			vecs[i*knn.Dims+d] = int16((i*7919 + d*104729) % (knn.MaxValue + 1))
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
	if testing.Short() {
		t.Skip("skipping: builds and runs the binary")
	}
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
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "-artifact", tc.path, "-listen", "unix:"+sock)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		client := &http.Client{Timeout: 200 * time.Millisecond, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			},
		}}
		var err error
	poll:
		for {
			select {
			case err = <-done:
				break poll
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("%s: the API did not exit", tc.name)
			default:
				if resp, err := client.Get("http://api/ready"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						t.Fatalf("%s: /ready said 200", tc.name)
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		exit, ok := err.(*exec.ExitError)
		if !ok || exit.ExitCode() != 1 {
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
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	for i := 0; ; i++ {
		if resp, err := client.Get("http://api/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 200 {
			t.Fatal("a good artifact never became ready")
		}
		time.Sleep(10 * time.Millisecond)
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
