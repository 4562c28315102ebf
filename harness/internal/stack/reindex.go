package stack

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"fraudknn/artifact"
	"fraudknn/internal/memlimit"
)

// Step is what replacing one API instance took, as the stack saw it.
type Step struct {
	Name    string    `json:"name"`
	Stop    time.Time `json:"stop"`    // SIGTERM sent
	Stopped time.Time `json:"stopped"` // the old process exited (its requests drained)
	Ready   time.Time `json:"ready"`   // the new process answered /ready
	Back    time.Time `json:"back"`    // it scored a transaction sent by the balancer, or Settle passed
	Served  float64   `json:"served"`  // transactions it had scored by Back
}

// Roll is the record of an index update.
type Roll struct {
	Old, New string
	Checked  time.Duration // validating the new artifact
	Steps    []Step
}

// Settle is how long, at most, Reindex waits after an instance is ready
// for the balancer to send it requests again before it stops the next
// one. nginx.conf gives each instance fail_timeout=2s: the instance that
// was down is not tried for that long after its last failure, and were
// the other one stopped meanwhile, nginx would have no live upstream.
var Settle = 3 * time.Second

// CheckArtifact checks the artifact at path with the code cmd/indexer
// -check runs, every check an API instance makes before it serves it
// (artifact.Verify: header, checksums of every byte, the index's
// contents, and its SHA-256 against pinned when not zero), and that an
// instance with memLimit of memory (0: no check) can hold it and serve
// connections beside it, as the instance plans its memory
// (memlimit.New). It returns the artifact's metadata and digest.
func CheckArtifact(path string, memLimit int64, pinned artifact.Digest) (artifact.Meta, artifact.Digest, error) {
	a, err := artifact.Verify(path, pinned)
	if err != nil {
		return artifact.Meta{}, artifact.Digest{}, err
	}
	defer a.Close()
	if memLimit > 0 {
		if _, err := memlimit.New(memLimit, a.Size, 0, math.MaxInt); err != nil {
			return artifact.Meta{}, artifact.Digest{}, fmt.Errorf("artifact %s: %w", path, err)
		}
	}
	return a.Meta, a.SHA256, nil
}

// Reindex makes the API instances serve the artifact at next instead of
// the one they serve, without a failed request: it checks next completely
// first (CheckArtifact) and, if it is bad, returns the error having
// touched nothing. Then, one instance at a time: SIGTERM (the instance
// stops accepting connections and finishes its requests in flight; the
// balancer retries what it could not send on the other instance), wait
// for it to exit, start it on next, wait for its /ready, then until the
// balancer sends it requests again (at most Settle), and only then the
// next instance. An instance's old process has exited before its new one
// starts, so its cgroup never holds two copies of the index.
//
// If an instance does not become ready on next, Reindex puts every
// instance it replaced back on the old artifact and returns the error.
// logf, when not nil, is told of every step.
func (s *Stack) Reindex(next string, logf func(format string, args ...any)) (Roll, error) {
	return s.ReindexPinned(next, artifact.Digest{}, logf)
}

// ReindexPinned is Reindex onto an artifact whose SHA-256 must be pinned
// (zero: none). A stack started with a pinned digest (Config.Digest)
// takes only pinned updates: the instances it restarts refuse any other
// file, and so does the update, before it stops one.
func (s *Stack) ReindexPinned(next string, pinned artifact.Digest, logf func(format string, args ...any)) (Roll, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	s.roll.Lock()
	defer s.roll.Unlock()
	old := s.artifactPath()
	roll := Roll{Old: old, New: next}
	start := time.Now()
	oldPin := s.pin()
	if pinned.IsZero() && !oldPin.IsZero() {
		return roll, fmt.Errorf("the new artifact is refused, nothing was changed, the stack serves %s as before: the stack serves a pinned artifact (sha256 %s), so an update must name the new one's digest (-digest, as cmd/indexer printed it)", old, oldPin)
	}
	meta, sum, err := CheckArtifact(next, s.limits[APIs[0]].Memory, pinned)
	roll.Checked = time.Since(start)
	if err != nil {
		return roll, fmt.Errorf("the new artifact is refused, nothing was changed, the stack serves %s as before: %w", old, err)
	}
	logf("%s checked in %v: sha256 %s%s (built from references with sha256 %x)", next, roll.Checked.Round(time.Millisecond), sum, pinNote(pinned), meta.Source[:8])
	s.setArtifact(next)
	s.setPin(pinned)
	for i, name := range APIs {
		step, err := s.replace(name, logf)
		roll.Steps = append(roll.Steps, step)
		if err == nil {
			continue
		}
		logf("%s: %v; putting the replaced instances back on %s", name, err, old)
		s.setArtifact(old)
		s.setPin(oldPin)
		for _, back := range APIs[:i+1] {
			if _, berr := s.replace(back, logf); berr != nil {
				return roll, fmt.Errorf("%s failed on %s (%v), and putting %s back on %s failed too: %w", name, next, err, back, old, berr)
			}
		}
		return roll, fmt.Errorf("%s did not serve %s (%w); every instance serves %s again", name, next, err, old)
	}
	return roll, nil
}

// replace stops instance name gracefully, starts it on the stack's
// current artifact and waits until it is ready and back in the balancer.
func (s *Stack) replace(name string, logf func(string, ...any)) (Step, error) {
	step := Step{Name: name, Stop: time.Now()}
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil {
		return step, fmt.Errorf("no API instance %q", name)
	}
	p.planned.Store(true)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		logf("%s: SIGTERM: %v (it had exited)", name, err)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		logf("%s: did not stop within 15 s of SIGTERM and was killed", name)
	}
	step.Stopped = time.Now()
	logf("%s: stopped after %v (%v); starting it on %s", name, step.Stopped.Sub(step.Stop).Round(time.Millisecond), exitText(p.err), s.artifactPath())
	if err := s.Restart(name); err != nil {
		return step, err
	}
	step.Ready = time.Now()
	step.Served = s.waitServing(name)
	step.Back = time.Now()
	logf("%s: ready %v after it was stopped; %.0f transactions scored through the balancer %v later",
		name, step.Ready.Sub(step.Stop).Round(time.Millisecond), step.Served, step.Back.Sub(step.Ready).Round(time.Millisecond))
	return step, nil
}

func exitText(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}

// answered finds the count of scored transactions in an instance's
// metrics (the search's histogram counts each /fraud-score answer once;
// the status counts include /ready).
var answered = regexp.MustCompile(`(?m)^fraudknn_vectors_scanned_count (\d+)$`)

// waitServing waits until instance name has answered a request (the
// balancer sends it requests again) or Settle has passed, and returns how
// many it answered.
func (s *Stack) waitServing(name string) float64 {
	deadline := time.Now().Add(Settle)
	for {
		n := s.Served(name)
		if n > 0 || !time.Now().Before(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Served returns how many transactions instance name has scored since it
// started (its metrics), 0 when it cannot tell.
func (s *Stack) Served(name string) float64 {
	m, err := s.Metrics(name)
	if err != nil {
		return 0
	}
	if g := answered.FindStringSubmatch(m); g != nil {
		v, _ := strconv.ParseFloat(g[1], 64)
		return v
	}
	return 0
}

// Artifact returns the artifact the API instances serve (or are being
// moved to).
func (s *Stack) Artifact() string { return s.artifactPath() }

func (s *Stack) artifactPath() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Artifact
}

// pinNote says whether a digest was pinned, for the log.
func pinNote(pinned artifact.Digest) string {
	if pinned.IsZero() {
		return ", not pinned"
	}
	return ", the pinned digest"
}

// pin returns the digest the instances are started with (-digest), zero
// when none.
func (s *Stack) pin() artifact.Digest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Digest
}

func (s *Stack) setPin(d artifact.Digest) {
	s.mu.Lock()
	s.cfg.Digest = d
	s.mu.Unlock()
}

func (s *Stack) setArtifact(path string) {
	s.mu.Lock()
	s.cfg.Artifact = path
	s.mu.Unlock()
}

// Install makes the file at path the artifact the stack serves from:
// after a Reindex onto a staged file (say build/index.next.fknn), it
// moves that file to dest (the artifact the stack was started with),
// keeping the replaced one as dest.prev, and points later restarts at
// dest; the digest records cmd/indexer wrote beside them
// (artifact.DigestPath) move with them. Everything moves by link and
// rename, never by writing into a file: the running instances, which
// hold a copy or a mapping of it, are not affected.
func (s *Stack) Install(path, dest string) error {
	if path == dest {
		return nil
	}
	prev := dest + ".prev"
	for _, p := range [][2]string{{dest, prev}, {artifact.DigestPath(dest), artifact.DigestPath(prev)}} {
		os.Remove(p[1])
		if err := os.Link(p[0], p[1]); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("keeping the replaced artifact as %s: %w", p[1], err)
		}
	}
	if err := os.Rename(path, dest); err != nil {
		return fmt.Errorf("moving %s to %s: %w; the stack serves %s", path, dest, err, path)
	}
	s.setArtifact(dest)
	// The record of the replaced file must not stay beside the new one.
	if err := os.Rename(artifact.DigestPath(path), artifact.DigestPath(dest)); err != nil {
		os.Remove(artifact.DigestPath(dest))
	}
	return nil
}

// Pid returns the process id of service name, 0 if there is none.
func (s *Stack) Pid(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.procs[name]; p != nil {
		return p.cmd.Process.Pid
	}
	return 0
}
