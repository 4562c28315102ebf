package stack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"fraudknn/artifact"
)

// ControlSocket is the name of the Unix socket, in the runs folder, at
// which a running cmd/stack takes index updates (`stack -reindex`).
const ControlSocket = "stack.sock"

// ServeControl serves index updates at the Unix socket path until the
// returned function is called: a POST /reindex whose body is the path of
// a new artifact, and on a second line "sha256 HEX" when its digest is
// pinned, runs ReindexPinned onto it, then Install moves it to install
// (the artifact the stack was started with). The answer is the update's
// progress, a line per step, and a last line starting "ok:" or "error:".
func (s *Stack) ServeControl(path, install string) (stop func(), err error) {
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: another stack is running and listens there", path)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /reindex", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		next, pin, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		s.controlReindex(w, strings.TrimSpace(next), strings.TrimPrefix(strings.TrimSpace(pin), "sha256 "), install)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close(); os.Remove(path) }, nil
}

// controlReindex runs one update and writes its progress to w.
func (s *Stack) controlReindex(w http.ResponseWriter, next, pin, install string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		s.cfg.Log.Print(line)
		fmt.Fprintln(w, line)
		flush()
	}
	if next == "" {
		say("error: no artifact named; send the path of the new artifact")
		return
	}
	var pinned artifact.Digest
	if pin != "" {
		d, err := artifact.ParseDigest(pin)
		if err != nil {
			say("error: the pinned digest: %v", err)
			return
		}
		pinned = d
	}
	start := time.Now()
	say("updating the index to %s, one instance at a time", next)
	_, err := s.ReindexPinned(next, pinned, say)
	if err != nil {
		say("error: %v", err)
		return
	}
	if err := s.Install(next, install); err != nil {
		say("error: every instance serves %s, but: %v", next, err)
		return
	}
	say("ok: every instance serves %s, moved to %s (the replaced one kept as %s.prev), after %v",
		next, s.Artifact(), install, time.Since(start).Round(time.Millisecond))
}

// RequestReindex asks the stack whose control socket is at path to update
// its index to the artifact next, whose SHA-256 must be pinned (zero:
// none), copies its progress to out, and returns an error unless the
// update succeeded.
func RequestReindex(path, next string, pinned artifact.Digest, out io.Writer) error {
	c := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
	body := next
	if !pinned.IsZero() {
		body += "\nsha256 " + pinned.String()
	}
	resp, err := c.Post("http://stack/reindex", "text/plain", strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("no stack answers at %s (%v): start one with `make run`", path, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	last := ""
	for sc.Scan() {
		last = sc.Text()
		fmt.Fprintln(out, last)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("the stack stopped answering mid-update: %w", err)
	}
	if !strings.HasPrefix(last, "ok:") {
		return errors.New("the index update did not complete (see above)")
	}
	return nil
}
