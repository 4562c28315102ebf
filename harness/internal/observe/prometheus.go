// Package observe runs Prometheus beside the stack, asks it for the run's
// time series and draws them: the machinery of make observe, of the
// picture bin/score leaves in every run folder, and of the alert drill.
package observe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Config says how to run Prometheus.
type Config struct {
	Bin    string // the prometheus binary (Debian's package)
	File   string // its configuration, observe/prometheus.yml
	Listen string // host:port of its HTTP API, 127.0.0.1:9090
	Data   string // its database folder, inside a run folder
}

// DefaultURL is where make observe serves Prometheus's API.
const DefaultURL = "http://127.0.0.1:9090"

// Server is a Prometheus process started by Start.
type Server struct {
	URL  string
	Log  string // its log file
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts Prometheus with cfg, logging into the folder above its
// database, and waits until it says it is ready.
func Start(cfg Config) (*Server, error) {
	bin, err := exec.LookPath(cfg.Bin)
	if err != nil {
		return nil, fmt.Errorf("prometheus not found (%v): install Debian's package with `apt-get install -y prometheus` (make observe does it as root)", err)
	}
	if _, err := os.Stat(cfg.File); err != nil {
		return nil, fmt.Errorf("the Prometheus configuration: %w (run from the repository's top folder)", err)
	}
	if Ready(Client{URL: "http://" + cfg.Listen}) {
		return nil, fmt.Errorf("a Prometheus already answers at %s: use it, or stop it first", cfg.Listen)
	}
	if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(filepath.Dir(cfg.Data), "prometheus.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config.file="+cfg.File, "--storage.tsdb.path="+cfg.Data,
		"--web.listen-address="+cfg.Listen, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so that a Ctrl-C reaches only us (we stop it
	// in order), and SIGTERM if we die, so that it never outlives us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting prometheus: %w", err)
	}
	s := &Server{URL: "http://" + cfg.Listen, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !Ready(Client{URL: s.URL}) {
		select {
		case <-s.done:
			return nil, fmt.Errorf("prometheus exited at start (%v): its log, %s, says why", s.err, logPath)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("prometheus did not become ready within 30 s: see %s", logPath)
		}
	}
	return s, nil
}

// Done is closed once the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop stops Prometheus (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return errors.New("prometheus did not stop within 10 s of SIGTERM: killed")
	}
	var exit *exec.ExitError
	if errors.As(s.err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled() {
		return nil
	}
	return s.err
}

// Ready reports whether a Prometheus answers at c and is ready.
func Ready(c Client) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/-/ready", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// WaitScraped waits until Prometheus at c has loaded its targets (it
// discovers them a few seconds after it is ready) and scraped each once,
// and returns them; the caller says which must be up.
func WaitScraped(c Client, within time.Duration) ([]Target, error) {
	deadline := time.Now().Add(within)
	for {
		targets, err := c.Targets()
		if err == nil && len(targets) > 0 && allScraped(targets) {
			return targets, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("Prometheus at %s has not scraped all its targets after %v (%d loaded)", c.URL, within, len(targets))
			}
			return targets, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func allScraped(targets []Target) bool {
	for _, t := range targets {
		if t.LastScrape.IsZero() || t.Health == "unknown" {
			return false
		}
	}
	return true
}
