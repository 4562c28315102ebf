// Package composecheck runs a compose file of the project on a real
// Docker engine and checks it end to end: the start-up orders and the
// fresh socket volume, every shared payload through port 9999, a short k6
// lane, the limits the engine applies, the memory each container uses,
// and an API killed under load. make compose-check drives it
// (scripts/compose-check.sh, docs/DEPLOY.md).
package composecheck

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"fraudknn/harness/internal/compose"
	"fraudknn/harness/internal/loadtest"
	"fraudknn/harness/internal/replay"
	"fraudknn/internal/payloads"
)

// URL is where the deployment answers.
const URL = "http://127.0.0.1:9999"

// Config says what to check and how hard.
type Config struct {
	File     string           // the compose file
	Project  string           // the compose project name
	Payloads []payloads.Entry // every shared payload, for the replays
	K6       loadtest.K6      // Bin, Script and Payloads (uncompressed); URL is set here
	Dir      string           // where k6 writes its results
	Peak     int              // the k6 lane: requests/s at the end of its ramp
	Seconds  int              // the k6 lane: the ramp's length
	KillRate int              // requests/s while an API is killed
	Static   bool             // check the file statically first (false: let the engine meet the fault)
	Log      *log.Logger      // progress
}

// Report is what one check found.
type Report struct {
	Balancer      string
	StandIn       string // what the nginx image is, when it is a local stand-in
	Replayed      int
	Wrong, Errors int
	LaneRequests  int
	LaneErrors    int
	LaneWrong     int
	Limits        []Limit
	MemoryMiB     map[string]float64
	KillRequests  int
	KillFailed    int
	KillWrong     int
	BackAfter     time.Duration
	Restart       string
	Hardening     []Hardening // per service, as read back
	Firewall      string      // whether the engine enforces internal networks
	Digest        string      // the artifact's SHA-256 the APIs serve, as .env pins it
	killRate      int
}

// Limit is one container's limits as the engine reads them back.
type Limit struct {
	Service string
	CPUs    float64
	MiB     float64
}

// Line is the check's one-line summary.
func (r *Report) Line(file string) string {
	var cpus, mib float64
	var each, mem []string
	for _, l := range r.Limits {
		cpus, mib = cpus+l.CPUs, mib+l.MiB
		each = append(each, fmt.Sprintf("%s %.2f/%.0f", l.Service, l.CPUs, l.MiB))
		mem = append(mem, fmt.Sprintf("%s %.0f", l.Service, r.MemoryMiB[l.Service]))
	}
	s := fmt.Sprintf("compose-check %s: ok: %d payloads replayed, %d wrong, %d errors; k6 lane %d errors, %d wrong of %d requests; "+
		"limits read back %.2f CPU, %.0f MiB in total (%s); memory after the replay (MiB): %s; "+
		"api1 killed under %d requests/s: %d of %d requests failed, %d wrong, back in %.1f s (restart: %s)",
		file, r.Replayed, r.Wrong, r.Errors, r.LaneErrors, r.LaneWrong, r.LaneRequests,
		cpus, mib, strings.Join(each, ", "), strings.Join(mem, ", "),
		r.killRate, r.KillFailed, r.KillRequests, r.KillWrong, r.BackAfter.Seconds(), r.Restart)
	if r.Balancer == "lb" {
		s += fmt.Sprintf(" (behind lb the requests on the dead instance's connections fail: up to %d allowed)", k6MaxVUs)
	}
	if r.Digest != "" {
		s += fmt.Sprintf("; /metrics and explain 404 through 9999, served on the internal network; artifact %.12s… as .env pins", r.Digest)
	}
	if r.StandIn != "" {
		s += "; nginx: " + r.StandIn
	}
	return s
}

// check is one run of Run.
type check struct {
	Config
	p           Project
	f           *compose.File
	report      *Report
	readyWithin time.Duration // how long port 9999 may take to answer /ready (0: 90 s)
	payloads    int           // how many payloads the emulated run replays
}

// Run checks cfg.File and leaves nothing running, whatever happens.
func Run(cfg Config) (*Report, error) {
	f, err := compose.Load(cfg.File)
	if err != nil {
		return nil, err
	}
	c := &check{Config: cfg, p: Project{Name: cfg.Project, File: cfg.File}, f: f,
		report: &Report{Balancer: f.Balancer(), MemoryMiB: map[string]float64{}, killRate: cfg.KillRate}}
	c.K6.URL = URL
	if cfg.Static {
		if errs := append(f.Check(), f.CheckSockets(cfg.File)...); len(errs) > 0 {
			return nil, fmt.Errorf("%s breaks a rule (found before any container started): %w", cfg.File, errors.Join(errs...))
		}
	}
	if _, err := c.p.Compose("down", "-v", "--remove-orphans"); err != nil {
		return nil, err
	}
	if loadtest.Ready(URL) {
		return nil, fmt.Errorf("something already answers on %s; stop it first", URL)
	}
	err = c.run()
	if _, derr := c.p.Compose("down", "-v", "--remove-orphans"); derr != nil && err == nil {
		err = derr
	}
	if err == nil {
		err = c.leftNothing()
	}
	return c.report, err
}

func (c *check) run() error {
	steps := []struct {
		name string
		do   func() error
	}{
		{"start-up on a brand-new volume, the balancer before the APIs' sockets exist, then api2, then api1", c.balancerFirst},
		{"start-up in compose's order on a brand-new volume", c.composeOrder},
		{"the hardening of every running service, read back", func() error { return c.hardening(true) }},
		{"limits as the engine applies them", c.limits},
		{"the sockets where the balancer looks for them", c.sockets},
		{"every shared payload through port 9999", c.replayAll},
		{"the operator routes: 404 through port 9999, served on the internal network", c.operatorRoutes},
		{"the k6 lane", c.lane},
		{"api1 killed under load", c.kill},
		{"each API restarted while the balancer runs, then serving alone", c.restarts},
	}
	for _, s := range steps {
		c.Log.Printf("%s: %s", c.File, s.name)
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %s: %w", c.File, s.name, err)
		}
	}
	return nil
}

func (c *check) apis() []string { return []string{"api1", "api2"} }

// balancerFirst starts the balancer alone on a volume that does not exist
// yet, checks it keeps running without any API socket, then starts api2
// and api1, judges every service's hardening as the engine was told it,
// and waits for port 9999; then takes it all down.
func (c *check) balancerFirst() error {
	vol := c.p.Name + "_" + c.volume()
	if _, err := Docker("volume", "inspect", vol); err == nil {
		return fmt.Errorf("volume %s exists before the start; compose down -v did not remove it", vol)
	}
	b := c.report.Balancer
	if _, err := c.p.Compose("up", "-d", "--no-deps", b); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	if ct, err := c.p.Service(b); err != nil || !ct.State.Running {
		return fmt.Errorf("%s does not keep running before the APIs exist (%v); its log: %s", b, err, c.p.LastLog(b, 5))
	}
	for _, api := range []string{"api2", "api1"} {
		if _, err := c.p.Compose("up", "-d", "--no-deps", api); err != nil {
			return err
		}
	}
	// Read before anything depends on it working: a service that is not
	// confined is refused for that, not for what follows from it.
	if err := c.hardening(false); err != nil {
		return err
	}
	if err := c.sockets(); err != nil {
		return err
	}
	if err := c.waitReady(); err != nil {
		return err
	}
	_, err := c.p.Compose("down", "-v")
	return err
}

// composeOrder is `docker compose up -d` as a user runs it.
func (c *check) composeOrder() error {
	if _, err := c.p.Compose("up", "-d"); err != nil {
		return err
	}
	if err := c.standIn(); err != nil {
		return err
	}
	return c.waitReady()
}

// volume returns the name (in the compose file) of the volume api1's
// socket is in.
func (c *check) volume() string {
	return c.f.VolumeAt("api1", c.f.APISocket("api1"))
}

// standIn notes when the nginx image is the local stand-in
// (scripts/nginx-standin.sh), so the summary says so.
func (c *check) standIn() error {
	if c.report.Balancer != "nginx" {
		return nil
	}
	ct, err := c.p.Service("nginx")
	if err != nil {
		return err
	}
	if v := ct.Config.Labels["fraudknn.standin"]; v != "" {
		c.report.StandIn = fmt.Sprintf("%s here is a STAND-IN (%s)", ct.Config.Image, v)
	}
	return nil
}

// hardening reads every service's confinement back (hardening.go) and
// fails naming each shortfall. Strict, every service must be running and
// its processes are read; otherwise (at start-up, before anything depends
// on the services working) a service that is not running is judged by
// what the engine was told, and why it does not run is left to the steps
// that need it.
func (c *check) hardening(strict bool) error {
	var read []Hardening
	var bad []string
	firewall := engineFirewall()
	for _, name := range c.services() {
		h, err := c.p.readHardening(name, strict)
		if err != nil {
			return err
		}
		read = append(read, h)
		c.Log.Printf("%s: %s", c.File, h.Line(c.p.Name, firewall))
		bad = append(bad, h.Problems(name == c.report.Balancer)...)
	}
	if len(bad) > 0 {
		return fmt.Errorf("hardening missing: %s", strings.Join(bad, "; "))
	}
	if strict {
		c.report.Hardening, c.report.Firewall = read, firewall
	}
	return nil
}

// services returns the file's services, the balancer first.
func (c *check) services() []string {
	names := []string{c.report.Balancer, "api1", "api2"}
	for name := range c.f.Services {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// HardeningLines are the per-service lines of what was read back.
func (r *Report) HardeningLines(file, project string) []string {
	var out []string
	for _, h := range r.Hardening {
		out = append(out, fmt.Sprintf("compose-check %s hardening %s", file, h.Line(project, r.Firewall)))
	}
	return out
}

// waitReady waits for /ready on port 9999; on time-out it says what each
// service logged last.
func (c *check) waitReady() error {
	within := c.readyWithin
	if within == 0 {
		within = 90 * time.Second
	}
	deadline := time.Now().Add(within)
	for !loadtest.Ready(URL) {
		if time.Now().After(deadline) {
			var logs []string
			for name := range c.f.Services {
				logs = append(logs, name+": "+c.p.LastLog(name, 3))
			}
			slices.Sort(logs)
			return fmt.Errorf("port 9999 does not answer /ready after %v; the services logged: %s", within, strings.Join(logs, "; "))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

// limits reads every container's limits back from the engine: each must
// be what the file asks, and their sum within the contest's budget.
func (c *check) limits() error {
	c.report.Limits = nil
	var sum compose.Limits
	for _, name := range c.services() {
		ct, err := c.p.Service(name)
		if err != nil {
			return err
		}
		l := Limit{Service: name, CPUs: ct.CPUs(), MiB: float64(ct.HostConfig.Memory) / (1 << 20)}
		if l.CPUs == 0 || ct.HostConfig.Memory == 0 {
			return fmt.Errorf("the engine applies no CPU or memory limit to %s (CPUs %.2f, memory %d B): is this a Compose that ignores deploy.resources?", name, l.CPUs, ct.HostConfig.Memory)
		}
		if want, err := c.f.Limits(name); err == nil && (abs(want.CPUs-l.CPUs) > 1e-6 || want.Memory != ct.HostConfig.Memory) {
			return fmt.Errorf("%s: the engine applies %.2f CPU and %d B; the file asks %.2f CPU and %d B", name, l.CPUs, ct.HostConfig.Memory, want.CPUs, want.Memory)
		}
		c.report.Limits = append(c.report.Limits, l)
		c.report.Restart = ct.HostConfig.RestartPolicy.Name
		sum.CPUs += l.CPUs
		sum.Memory += ct.HostConfig.Memory
	}
	if sum.CPUs > compose.Budget.CPUs+1e-9 || sum.Memory > compose.Budget.Memory {
		return fmt.Errorf("the limits the engine applies sum to %.2f CPU and %d MiB; the budget is %.0f CPU and %d MiB", sum.CPUs, sum.Memory>>20, compose.Budget.CPUs, compose.Budget.Memory>>20)
	}
	return nil
}

func abs(x float64) float64 { return max(x, -x) }

// sockets checks, from the host, that the balancer and the APIs meet: each
// API's socket answers /ready in the volume the balancer mounts; every
// socket nginx sends requests to is one of them; with cmd/lb, the control
// socket the APIs register at exists there.
func (c *check) sockets() error {
	b, err := c.p.Service(c.report.Balancer)
	if err != nil {
		return err
	}
	var present []string
	for _, api := range c.apis() {
		sock := c.f.APISocket(api)
		dir := path.Dir(sock)
		ct, err := c.p.Service(api)
		if err != nil {
			return err
		}
		src, vol, ok := ct.MountAt(dir)
		if !ok {
			return fmt.Errorf("%s mounts nothing at %s, where it creates its socket %s: the socket volume is missing from %s (its log: %s)", api, dir, sock, api, c.p.LastLog(api, 2))
		}
		bsrc, _, ok := b.MountAt(dir)
		if !ok || bsrc != src {
			return fmt.Errorf("%s creates %s in volume %s, which the balancer %s does not mount at %s", api, sock, vol, c.report.Balancer, dir)
		}
		if err := c.waitSocket(api, filepath.Join(src, path.Base(sock))); err != nil {
			return err
		}
		present = append(present, sock)
	}
	switch c.report.Balancer {
	case "nginx":
		conf, err := os.ReadFile(c.f.NginxConf(c.File))
		if err != nil {
			return err
		}
		for _, s := range compose.UpstreamSockets(conf) {
			if !slices.Contains(present, s) {
				return fmt.Errorf("nginx sends requests to unix:%s, but no API creates that socket (in the volume: %s)", s, strings.Join(present, ", "))
			}
		}
	case "lb":
		for _, api := range c.apis() {
			reg := fdpassOf(c.f, api)
			host, ok := b.HostPath(reg)
			if !ok {
				return fmt.Errorf("%s registers at %s (-fdpass), in no volume the balancer mounts", api, reg)
			}
			st, err := os.Lstat(host)
			if err != nil || st.Mode()&os.ModeSocket == 0 {
				return fmt.Errorf("%s registers at %s (-fdpass), but the balancer created no such socket (it listens at %s, -control)", api, reg, c.f.ControlSocket())
			}
		}
	}
	return nil
}

// fdpassOf returns the control socket an API registers at (its -fdpass).
func fdpassOf(f *compose.File, api string) string {
	args := f.Services[api].Command
	for i, a := range args {
		if a == "-fdpass" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// waitSocket waits up to a minute for api's socket (host path) to answer
// /ready, and gives up early when the container exits or crashes again.
func (c *check) waitSocket(api, hostPath string) error {
	first, err := c.p.Service(api)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if err = getUnix(hostPath, "/ready"); err == nil {
			return nil
		}
		if ct, ierr := c.p.Service(api); ierr == nil && (ct.State.Restarting || ct.State.Status == "exited" || ct.RestartCount > first.RestartCount) {
			return fmt.Errorf("%s is %s (exit code %d, restarted %d times) and its socket does not answer (%v); its log: %s", api, ct.State.Status, ct.State.ExitCode, ct.RestartCount, err, c.p.LastLog(api, 3))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s's socket does not answer /ready after a minute (%v); its log: %s", api, err, c.p.LastLog(api, 3))
}

// replayAll posts every shared payload through port 9999 and records the
// memory each container uses after it.
func (c *check) replayAll() error {
	sum := replay.RunHTTP(URL, c.Payloads, 8, replay.Options{Show: 5, Log: c.Log.Writer()})
	c.report.Replayed, c.report.Wrong, c.report.Errors = sum.N, sum.Wrong+sum.ScoreMismatch, sum.Errors
	if !sum.OK() {
		return fmt.Errorf("%s", sum)
	}
	ids := map[string]string{}
	var all []string
	for name := range c.f.Services {
		ct, err := c.p.Service(name)
		if err != nil {
			return err
		}
		ids[name] = ct.ID
		all = append(all, ct.ID)
	}
	mem, err := MemoryMiB(all...)
	if err != nil {
		return err
	}
	for name, id := range ids {
		c.report.MemoryMiB[name] = mem[id]
	}
	return nil
}

// lane runs k6/score.js's ramp, short: no error, no wrong answer.
func (c *check) lane() error {
	dir := filepath.Join(c.Dir, "lane")
	os.MkdirAll(dir, 0o755)
	res, err := c.K6.Run(dir, fmt.Sprintf("PEAK=%d", c.Peak), fmt.Sprintf("SECONDS=%d", c.Seconds))
	if err != nil {
		return err
	}
	c.report.LaneRequests, c.report.LaneErrors, c.report.LaneWrong = res.Requests, res.Breakdown.Errors, res.Breakdown.FP+res.Breakdown.FN
	if !res.Clean() {
		return fmt.Errorf("k6: %s; see %s", res.Line(), dir)
	}
	return nil
}

// killSeconds is the length of the load api1 is killed under; the kill
// comes at killAt, after k6 has loaded the payloads.
const (
	killSeconds = 30
	killAt      = 10 * time.Second
)

// kill sends SIGKILL to api1's process from the host under a constant
// load, as a crash or the kernel's OOM killer would (docker kill would
// count as an operator's stop, which rightly restarts nothing), and
// checks that the engine brings it back and the clients saw no failure.
func (c *check) kill() error {
	before, err := c.p.Service("api1")
	if err != nil {
		return err
	}
	dir := filepath.Join(c.Dir, "kill")
	os.MkdirAll(dir, 0o755)
	var res *loadtest.Results
	var k6err error
	var wg sync.WaitGroup
	wg.Go(func() {
		res, k6err = c.K6.Run(dir, fmt.Sprintf("RATE=%d", c.KillRate), fmt.Sprintf("SECONDS=%d", killSeconds))
	})
	time.Sleep(killAt)
	c.Log.Printf("%s: kill -9 api1 (pid %d on the host)", c.File, before.State.Pid)
	killed := time.Now()
	kerr := syscall.Kill(before.State.Pid, syscall.SIGKILL)
	back := c.waitBack(before, killed)
	wg.Wait()
	if kerr != nil {
		return fmt.Errorf("kill -9 %d (api1): %v; the check runs as root", before.State.Pid, kerr)
	}
	if k6err != nil {
		return k6err
	}
	c.report.KillRequests, c.report.KillFailed, c.report.KillWrong = res.Requests, res.Breakdown.Errors, res.Breakdown.FP+res.Breakdown.FN
	if back != nil {
		return back
	}
	if res.Breakdown.FP+res.Breakdown.FN > 0 || res.Breakdown.Errors > c.allowedKillFailures() {
		return fmt.Errorf("k6 while api1 was killed: %s, %d failures allowed; see %s", res.Line(), c.allowedKillFailures(), dir)
	}
	return nil
}

// k6MaxVUs is k6/score.js's maxVUs: at most that many client connections.
const k6MaxVUs = 250

// allowedKillFailures is how many requests may fail when api1 dies: none
// behind nginx, which retries them on api2; behind cmd/lb a connection
// belongs to one instance, and those on the dead one break (as
// docker-compose.fdpass.yml says), at most one request per connection.
func (c *check) allowedKillFailures() int {
	if c.report.Balancer == "lb" {
		return k6MaxVUs
	}
	return 0
}

// waitBack waits for the engine to restart api1 and for its socket to
// answer again.
func (c *check) waitBack(before *Container, killed time.Time) error {
	sock := c.f.APISocket("api1")
	src, _, _ := before.MountAt(path.Dir(sock))
	for time.Since(killed) < 30*time.Second {
		ct, err := c.p.Service("api1")
		if err == nil && ct.RestartCount > before.RestartCount && ct.State.Running && getUnix(filepath.Join(src, path.Base(sock)), "/ready") == nil {
			c.report.BackAfter = time.Since(killed)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	ct, _ := c.p.Service("api1")
	state := "unknown"
	if ct != nil {
		state = fmt.Sprintf("%s, restart policy %q, restarted %d times", ct.State.Status, ct.HostConfig.RestartPolicy.Name, ct.RestartCount)
	}
	return fmt.Errorf("api1 did not come back within 30 s of its crash (%s): a deployment needs restart: unless-stopped", state)
}

// restarts checks that the balancer reaches each API after it restarted
// while the balancer ran: api1 (restarted by the engine after the kill)
// serves alone while api2 is stopped; then api2, started again and
// restarted, serves beside api1, then alone while api1 is stopped.
//
// Before an API is left alone, requests go through the balancer with
// both up, as they would in service: nginx counts a failed instance out
// (max_fails) until a request succeeds on it again, and with both counted
// out at once it answers 502 without trying either.
func (c *check) restarts() error {
	slice := c.Payloads[:min(3000, len(c.Payloads))]
	through := func(what string) error {
		if sum := replay.RunHTTP(URL, slice, 4, replay.Options{Show: 3, Log: c.Log.Writer()}); !sum.OK() {
			return fmt.Errorf("%s: %s", what, sum)
		}
		return nil
	}
	alone := func(serving, stopped string) error {
		if _, err := c.p.Compose("stop", stopped); err != nil {
			return err
		}
		if err := through(serving + " alone behind the balancer (" + stopped + " stopped)"); err != nil {
			return err
		}
		if _, err := c.p.Compose("start", stopped); err != nil {
			return err
		}
		if err := c.sockets(); err != nil {
			return err
		}
		return through("both APIs after " + stopped + " started again")
	}
	if err := alone("api1", "api2"); err != nil {
		return err
	}
	if _, err := c.p.Compose("restart", "api2"); err != nil {
		return err
	}
	if err := c.sockets(); err != nil {
		return err
	}
	if err := through("both APIs after api2 restarted"); err != nil {
		return err
	}
	if err := alone("api2", "api1"); err != nil {
		return err
	}
	return c.waitReady()
}

// leftNothing checks that compose down left no container, volume or
// network of the project, and nothing on port 9999.
func (c *check) leftNothing() error {
	filter := "label=com.docker.compose.project=" + c.p.Name
	for _, kind := range [][]string{{"ps", "-a", "-q"}, {"volume", "ls", "-q"}, {"network", "ls", "-q"}} {
		out, err := Docker(append(kind, "--filter", filter)...)
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "" {
			return fmt.Errorf("docker compose down left %s %s", kind[0], strings.Fields(out))
		}
	}
	if loadtest.Ready(URL) {
		return fmt.Errorf("something still answers on %s after docker compose down", URL)
	}
	return nil
}
