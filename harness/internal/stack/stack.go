// Package stack runs the contest's deployment natively: two API instances
// and nginx, each in its own cgroup with the CPU quota and memory limit of
// its service in docker-compose.yml, logs in one run folder.
package stack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fraudknn/artifact"
	"fraudknn/harness/internal/compose"
)

// Config says what to run.
type Config struct {
	Compose   string // docker-compose.yml: the limits of nginx, api1, api2
	NginxConf string // nginx/nginx.conf
	Nginx     string // the nginx binary
	API       string // the api binary
	Artifact  string // the artifact both APIs map
	RunsDir   string // a run folder is made inside
	Port      int    // where nginx listens (the config's 9999)
	APIArgs   []string
	// Digest, when not zero, is the artifact's pinned SHA-256: every API
	// instance is started with -digest and refuses any other file, and
	// an index update must name the new artifact's digest.
	Digest artifact.Digest
	// Balancer is "nginx" (the default when empty) or "fdpass": cmd/lb
	// (the binary LB) in the nginx service's place and limits, handing
	// whole connections to the APIs.
	Balancer string
	LB       string // the lb binary, for Balancer "fdpass"
	// Operators are the operator listeners of api1 and api2 (cmd/api
	// -operator: host:port or unix:/path); empty means DefaultOperators.
	Operators []string
	// LBOperator is cmd/lb's operator listener with Balancer "fdpass";
	// empty means LBOperator. A second stack beside the native one (a
	// test's) gives other addresses here, in Operators and in Port.
	LBOperator string
	Log        *log.Logger
}

// DefaultOperators are the operator listeners of api1 and api2 in the
// native stack: loopback only, where `make run` prints them.
var DefaultOperators = []string{"127.0.0.1:9101", "127.0.0.1:9102"}

// ComposeFile returns the compose file that describes a deployment with
// the given balancer.
func ComposeFile(balancer string) string {
	if balancer == "fdpass" {
		return "docker-compose.fdpass.yml"
	}
	return "docker-compose.yml"
}

// Stack is a running deployment.
type Stack struct {
	Dir      string // the run folder: logs, sockets, nginx files
	URL      string // where nginx answers
	cfg      Config
	procs    map[string]*proc
	exits    chan Exit
	cgroupID string
	limits   map[string]compose.Limits
	mu       sync.Mutex
	roll     sync.Mutex // one index update at a time
}

type proc struct {
	name    string
	cmd     *exec.Cmd
	cgroup  *Cgroup // nil when running unlimited
	done    chan struct{}
	err     error
	planned atomic.Bool // stopped on purpose, by Reindex
}

// Exit is a service that exited, with the error Wait returned.
type Exit struct {
	Name    string
	Err     error
	Planned bool // Reindex stopped it, to start it on a new artifact
}

// Names of the services, as in docker-compose.yml.
var (
	APIs     = []string{"api1", "api2"}
	Services = append([]string{"nginx"}, APIs...)
)

// Start starts the APIs, waits until both answer /ready, starts nginx and
// waits until it answers /ready too.
func Start(cfg Config) (*Stack, error) {
	if cfg.Log == nil {
		cfg.Log = log.New(os.Stderr, "stack: ", log.LstdFlags)
	}
	limits, nginx, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	runID := time.Now().Format("20060102-150405")
	dir, err := filepath.Abs(filepath.Join(cfg.RunsDir, runID))
	if err != nil {
		return nil, err
	}
	for _, d := range []string{dir, filepath.Join(dir, "sockets"), filepath.Join(dir, "nginx")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	s := &Stack{Dir: dir, URL: fmt.Sprintf("http://127.0.0.1:%d", cfg.Port), cfg: cfg, procs: map[string]*proc{}, exits: make(chan Exit, 8), cgroupID: "fraudknn-" + runID, limits: limits}
	cfg.Log.Printf("run folder %s", dir)
	cgroups := s.makeCgroups()
	if err := s.startAPIs(cgroups); err != nil {
		s.Stop()
		return nil, err
	}
	if cfg.Balancer == "fdpass" {
		err = s.startLB(cgroups["nginx"])
	} else {
		err = s.startNginx(cgroups["nginx"], nginx)
	}
	if err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// prepare checks everything Start needs before it starts anything: the
// compose file's limits for every service, the files named, the
// balancer; it returns the limits and nginx's path.
func prepare(cfg Config) (limits map[string]compose.Limits, nginx string, err error) {
	file, err := compose.Load(cfg.Compose)
	if err != nil {
		return nil, "", err
	}
	limits = map[string]compose.Limits{}
	for _, name := range Services {
		service := name
		if name == "nginx" {
			// The balancer's slot: nginx, or lb in a compose file for
			// the fd-passing balancer.
			service = file.Balancer()
		}
		if limits[name], err = file.Limits(service); err != nil {
			return nil, "", fmt.Errorf("%s: %w", cfg.Compose, err)
		}
	}
	for _, f := range []string{cfg.API, cfg.Artifact, cfg.NginxConf} {
		if _, err := os.Stat(f); err != nil {
			return nil, "", err
		}
	}
	switch cfg.Balancer {
	case "", "nginx":
	case "fdpass":
		if _, err := os.Stat(cfg.LB); err != nil {
			return nil, "", fmt.Errorf("the fdpass balancer: %w (make build writes bin/lb)", err)
		}
	default:
		return nil, "", fmt.Errorf("unknown balancer %q: nginx or fdpass", cfg.Balancer)
	}
	nginx, err = exec.LookPath(cfg.Nginx)
	if err != nil && cfg.Balancer != "fdpass" {
		return nil, "", fmt.Errorf("nginx not found (%v): install Debian's package with `apt-get install -y nginx`", err)
	}
	return limits, nginx, nil
}

// makeCgroups makes a cgroup with its compose limits for every service,
// after removing those of earlier runs. A service whose cgroup cannot be
// made runs without limits, and the log says so.
func (s *Stack) makeCgroups() map[string]*Cgroup {
	RemoveStale()
	cgroups := map[string]*Cgroup{}
	for _, name := range Services {
		cg, err := NewCgroup(s.cgroupID, name, s.limits[name])
		if err != nil {
			s.cfg.Log.Printf("cannot apply the limits through cgroups (%v): running %s UNLIMITED", err, name)
			continue
		}
		cgroups[name] = cg
		s.cfg.Log.Printf("%s: cgroup %s/%s: %.2f CPU, %d MiB", name, s.cgroupID, name, s.limits[name].CPUs, s.limits[name].Memory>>20)
	}
	return cgroups
}

// startAPIs starts every API instance, then waits until each is ready.
func (s *Stack) startAPIs(cgroups map[string]*Cgroup) error {
	for _, name := range APIs {
		if err := s.start(name, cgroups[name], s.cfg.API, s.apiArgs(name)...); err != nil {
			return err
		}
	}
	for _, name := range APIs {
		if err := s.waitReady(name, unixClient(s.socket(name)), "http://api/ready", 2*time.Minute); err != nil {
			return err
		}
	}
	return nil
}

// startLB starts cmd/lb in the balancer's slot (its name, cgroup and
// limits). Only the APIs, which run as this process's uid, may register,
// two at most; lb makes the socket's folder, mode 0700.
func (s *Stack) startLB(cg *Cgroup) error {
	return s.startBalancer(cg, s.cfg.LB, "-listen", fmt.Sprintf("127.0.0.1:%d", s.cfg.Port), "-control", s.lbSocket(),
		"-trust-uid", strconv.Itoa(os.Getuid()), "-backends", strconv.Itoa(len(APIs)), "-operator", cmp.Or(s.cfg.LBOperator, LBOperator))
}

// startNginx starts nginx with the deployment's nginx.conf, its paths
// moved into the run folder.
func (s *Stack) startNginx(cg *Cgroup, nginx string) error {
	conf, err := os.ReadFile(s.cfg.NginxConf)
	if err != nil {
		return err
	}
	text := strings.NewReplacer("/sockets/", filepath.Join(s.Dir, "sockets")+"/", "/tmp/nginx/", filepath.Join(s.Dir, "nginx")+"/",
		"listen 9999 ", fmt.Sprintf("listen %d ", s.cfg.Port)).Replace(string(conf))
	confPath := filepath.Join(s.Dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(text), 0o644); err != nil {
		return err
	}
	return s.startBalancer(cg, nginx, "-c", confPath, "-p", s.Dir, "-g", "daemon off;")
}

// startBalancer starts prog (nginx or cmd/lb) in the nginx service's
// slot, with its cgroup and limits, and waits until an API answers
// /ready through it.
func (s *Stack) startBalancer(cg *Cgroup, prog string, args ...string) error {
	if err := s.start("nginx", cg, prog, args...); err != nil {
		return err
	}
	return s.waitReady("nginx", &http.Client{Timeout: time.Second}, s.URL+"/ready", 20*time.Second)
}

func (s *Stack) socket(name string) string { return filepath.Join(s.Dir, "sockets", name+".sock") }

// apiArgs returns the command line of API instance name: its socket, and
// its operator listener.
func (s *Stack) apiArgs(name string) []string {
	args := []string{"-artifact", s.artifactPath(), "-listen", "unix:" + s.socket(name), "-operator", s.Operator(name)}
	if s.cfg.Balancer == "fdpass" {
		args = append(args, "-fdpass", s.lbSocket())
	}
	if pin := s.pin(); !pin.IsZero() {
		args = append(args, "-digest", pin.String())
	}
	return append(args, s.cfg.APIArgs...)
}

// Operator returns the operator listener of API instance name (cmd/api
// -operator): GET /metrics, POST /fraud-score/explain, GET /ready.
func (s *Stack) Operator(name string) string {
	ops := s.cfg.Operators
	if len(ops) == 0 {
		ops = DefaultOperators
	}
	for i, api := range APIs {
		if api == name && i < len(ops) {
			return ops[i]
		}
	}
	return ""
}

// OperatorClient returns a client for the operator listener at addr
// (host:port or unix:/path) and the base URL to give it.
func OperatorClient(addr string) (*http.Client, string) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		return unixClient(path), "http://api"
	}
	return &http.Client{Timeout: time.Second}, "http://" + addr
}

// lbSocket is where cmd/lb takes the APIs' registrations: in a folder of
// its own, which only the APIs' uid may enter (cmd/lb makes it so).
func (s *Stack) lbSocket() string { return filepath.Join(s.Dir, "lb", "lb.sock") }

// LBOperator is where cmd/lb serves its metrics in the native stack.
const LBOperator = "127.0.0.1:9103"

// Metrics returns the Prometheus metrics of API instance name, from its
// operator listener.
func (s *Stack) Metrics(name string) (string, error) {
	c, base := OperatorClient(s.Operator(name))
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Signal sends sig to service name.
func (s *Stack) Signal(name string, sig syscall.Signal) error {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("no service %q", name)
	}
	return p.cmd.Process.Signal(sig)
}

// Running reports whether service name is running.
func (s *Stack) Running(name string) bool {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// LogFile returns the log of a service.
func (s *Stack) LogFile(name string) string { return filepath.Join(s.Dir, name+".log") }

// Cgroup returns the cgroup of a service, nil when it runs unlimited.
func (s *Stack) Cgroup(name string) *Cgroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.procs[name]; p != nil {
		return p.cgroup
	}
	return nil
}

// joinScript joins the cgroups listed in $CGROUP_PROCS, then becomes the
// program: the process is inside its limits before it runs a single
// instruction of its own.
const joinScript = `for f in $CGROUP_PROCS; do echo $$ > "$f" || exit 97; done; exec "$0" "$@"`

func (s *Stack) start(name string, cg *Cgroup, prog string, args ...string) error {
	logf, err := os.OpenFile(s.LogFile(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", append([]string{"-c", joinScript, prog}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = os.Environ()
	if cg != nil {
		cmd.Env = append(cmd.Env, "CGROUP_PROCS="+strings.Join(cg.ProcsFiles(), " "))
	}
	// Its own process group (a Ctrl-C reaches the stack, which stops the
	// services in order), and SIGTERM if the stack itself dies, so that
	// no service outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, cgroup: cg, done: make(chan struct{})}
	s.mu.Lock()
	s.procs[name] = p
	s.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
		s.exits <- Exit{name, p.err, p.planned.Load()}
	}()
	s.cfg.Log.Printf("%s: started, pid %d, log %s", name, cmd.Process.Pid, s.LogFile(name))
	return nil
}

// Restart starts a service again after it exited (the API instances only).
func (s *Stack) Restart(name string) error {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil || !strings.HasPrefix(name, "api") {
		return fmt.Errorf("no API instance %q", name)
	}
	select {
	case <-p.done:
	default:
		return fmt.Errorf("%s is still running", name)
	}
	if err := s.start(name, p.cgroup, s.cfg.API, s.apiArgs(name)...); err != nil {
		return err
	}
	return s.waitReady(name, unixClient(s.socket(name)), "http://api/ready", 2*time.Minute)
}

func unixClient(path string) *http.Client {
	return &http.Client{Timeout: time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// waitReady polls url until it answers 200, the process exits or the time
// is up.
func (s *Stack) waitReady(name string, c *http.Client, url string, limit time.Duration) error {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v); its log %s ends with:\n%s", name, p.err, s.LogFile(name), tail(s.LogFile(name), 8))
		default:
		}
		if resp, err := c.Get(url); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.cfg.Log.Printf("%s: ready", name)
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %v; see %s", name, limit, s.LogFile(name))
}

// Exits delivers the name of every service that exits, with its error.
func (s *Stack) Exits() <-chan Exit { return s.exits }

// Stop stops every process (nginx gracefully first, then the APIs, which
// finish their in-flight requests), waits for them, and removes the
// cgroups and sockets. It reports processes that did not exit cleanly.
func (s *Stack) Stop() error {
	s.roll.Lock() // an index update in progress finishes first
	defer s.roll.Unlock()
	s.mu.Lock()
	procs := make([]*proc, 0, len(s.procs))
	for _, name := range Services {
		if p := s.procs[name]; p != nil {
			procs = append(procs, p)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, p := range procs { // nginx first: no new requests reach the APIs
		sig := syscall.SIGTERM
		if p.name == "nginx" {
			sig = syscall.SIGQUIT // graceful: finish the requests in flight
		}
		select {
		case <-p.done:
			continue
		default:
		}
		p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
			errs = append(errs, fmt.Errorf("%s did not stop within 15 s and was killed", p.name))
		}
		if p.err != nil && p.name != "nginx" {
			errs = append(errs, fmt.Errorf("%s exited with %v", p.name, p.err))
		}
	}
	for _, p := range procs {
		if p.cgroup != nil {
			if err := p.cgroup.Remove(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, ctl := range controllers {
		os.Remove(filepath.Join(CgroupRoot, ctl, s.cgroupID))
	}
	os.RemoveAll(filepath.Join(s.Dir, "sockets"))
	os.RemoveAll(filepath.Dir(s.lbSocket()))
	return errors.Join(errs...)
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
