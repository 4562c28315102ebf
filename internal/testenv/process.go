package testenv

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// UnixClient is an HTTP client that reaches a server on the Unix socket
// sock whatever host a URL names, giving up on a request after a second.
func UnixClient(sock string) *http.Client {
	return &http.Client{Timeout: time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

// BecomesReady polls url every 10 ms for up to limit and reports whether
// it answered 200.
func BecomesReady(c *http.Client, url string, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
	}
	return false
}

// PostScore posts body to /fraud-score over c and returns the status and
// the body of the answer; status 0 means no answer, with the error as the
// body.
func PostScore(c *http.Client, body string) (int, string) {
	resp, err := c.Post("http://api/fraud-score", "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Start starts cmd with its standard error kept in the returned buffer,
// and returns a channel that receives cmd.Wait's result when it ends.
func Start(t testing.TB, cmd *exec.Cmd) (stderr *bytes.Buffer, done <-chan error) {
	t.Helper()
	stderr = new(bytes.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	return stderr, ended
}

// ExitsUnready waits up to limit for the process started by Start to end
// by itself, polling url meanwhile, and returns how it ended. It kills the
// process and fails the test, named by what, if url answers 200 first or
// the process is still running at limit: a program that must refuse to
// serve may never say it is ready.
func ExitsUnready(t testing.TB, what string, cmd *exec.Cmd, done <-chan error, c *http.Client, url string, limit time.Duration) error {
	t.Helper()
	timeout := time.After(limit)
	for {
		select {
		case err := <-done:
			return err
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("%s: the process did not exit within %v", what, limit)
		default:
			if resp, err := c.Get(url); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					cmd.Process.Kill()
					t.Fatalf("%s: %s answered 200 before the process exited", what, url)
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// ExitedWith reports whether err, from a process's Wait, says it exited
// by itself with status code (not killed by a signal).
func ExitedWith(err error, code int) bool {
	var exit *exec.ExitError
	return errors.As(err, &exit) && exit.ExitCode() == code
}
