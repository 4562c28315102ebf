package stack

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fraudknn/artifact"
	"fraudknn/internal/server"
	"fraudknn/internal/testenv"
	"fraudknn/knn"
	"fraudknn/vector"
)

// smallArtifacts writes two artifacts of the same random vectors, the
// second with every label flipped, and returns their paths.
func smallArtifacts(t *testing.T, dir string) (oldPath, newPath string) {
	t.Helper()
	const n, k = 4000, 16
	rng := rand.New(rand.NewPCG(5, 6))
	vecs := make([]int16, 0, n*vector.Dims)
	labels, flipped := make([]uint8, n), make([]uint8, n)
	assign := make([]uint32, n)
	for i := range n {
		for range vector.Dims {
			vecs = append(vecs, int16(rng.IntN(vector.MaxValue+1)))
		}
		labels[i] = uint8(rng.IntN(2))
		flipped[i] = 1 - labels[i]
		assign[i] = uint32(i % k)
	}
	for i, l := range [][]uint8{labels, flipped} {
		ix, err := knn.Build(vecs, l, assign, k)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("index%d.fknn", i))
		if _, err := artifact.Write(path, ix, artifact.Meta{Seed: uint64(i)}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			oldPath = path
		} else {
			newPath = path
		}
	}
	return oldPath, newPath
}

// apiBinary builds cmd/api into dir.
func apiBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "api")
	out, err := exec.Command("go", "build", "-o", bin, "fraudknn/cmd/api").CombinedOutput()
	if err != nil {
		t.Fatalf("building cmd/api: %v\n%s", err, out)
	}
	return bin
}

// startAPIs starts the two API instances on art, with no balancer and
// no cgroups, as Start does for its part.
func startAPIs(t *testing.T, bin, art string, pin ...artifact.Digest) *Stack {
	t.Helper()
	dir, err := os.MkdirTemp("", "fk") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.MkdirAll(filepath.Join(dir, "sockets"), 0o755)
	s := &Stack{Dir: dir, procs: map[string]*proc{}, exits: make(chan Exit, 16),
		cfg: Config{API: bin, Artifact: art, APIArgs: []string{"-warm", "20"}, Log: log.New(io.Discard, "", 0),
			Operators: []string{"unix:" + filepath.Join(dir, "sockets", "api1-op.sock"), "unix:" + filepath.Join(dir, "sockets", "api2-op.sock")}}}
	if len(pin) > 0 {
		s.cfg.Digest = pin[0]
	}
	go func() {
		for range s.exits {
		}
	}()
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	for _, name := range APIs {
		if err := s.start(name, nil, bin, s.apiArgs(name)...); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range APIs {
		if err := s.waitReady(name, unixClient(s.socket(name)), "http://api/ready", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// labels returns the labels of the neighbours instance name finds for
// SPEC.md's first example, from the explain route of its operator
// listener.
func labels(t *testing.T, s *Stack, name string) string {
	t.Helper()
	c, base := OperatorClient(s.Operator(name))
	resp, err := c.Post(base+server.ExplainPath, "application/json", strings.NewReader(testenv.SpecLegit))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer resp.Body.Close()
	var e struct{ Neighbors []struct{ Label string } }
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 200 || len(e.Neighbors) != 5 {
		t.Fatalf("%s: %d %v %+v", name, resp.StatusCode, err, e)
	}
	var b strings.Builder
	for _, n := range e.Neighbors {
		b.WriteString(n.Label[:1])
	}
	return b.String()
}

func pids(s *Stack) [2]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return [2]int{s.procs[APIs[0]].cmd.Process.Pid, s.procs[APIs[1]].cmd.Process.Pid}
}

// reindexFixture skips the test under -short (it builds cmd/api and
// starts two instances); otherwise it returns a fresh folder holding an
// old and a new small artifact.
func reindexFixture(t *testing.T) (dir, oldPath, newPath string) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping: builds cmd/api and starts two instances")
	}
	dir = t.TempDir()
	oldPath, newPath = smallArtifacts(t, dir)
	return dir, oldPath, newPath
}

// settleFast shortens Settle for the test: with no balancer and no
// traffic there is nothing to wait for between the instances' restarts.
func settleFast(t *testing.T) {
	old := Settle
	Settle = 100 * time.Millisecond
	t.Cleanup(func() { Settle = old })
}

// TestReindexAbortsOnBadArtifacts offers Reindex a corrupt, a truncated
// and a missing artifact: each is refused with a message that says why
// and that nothing changed, and both instances keep running, as the same
// processes, on the old artifact.
func TestReindexAbortsOnBadArtifacts(t *testing.T) {
	dir, oldPath, newPath := reindexFixture(t)
	s := startAPIs(t, apiBinary(t, dir), oldPath)
	before, answer := pids(s), labels(t, s, "api1")

	good, err := os.ReadFile(newPath)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)/2] ^= 0x40
	bad := map[string][]byte{"corrupt.fknn": corrupt, "truncated.fknn": good[:len(good)*2/3], "empty.fknn": nil}
	for name, b := range bad {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"corrupt.fknn", "truncated.fknn", "empty.fknn", "missing.fknn"} {
		path := filepath.Join(dir, name)
		roll, err := s.Reindex(path, t.Logf)
		if err == nil || !strings.Contains(err.Error(), "nothing was changed") || !strings.Contains(err.Error(), path) || len(roll.Steps) != 0 {
			t.Fatalf("%s: Reindex returned %v after %d steps; want a refusal naming the file", name, err, len(roll.Steps))
		}
		t.Logf("%s: %v", name, err)
		if got := pids(s); got != before || !s.Running("api1") || !s.Running("api2") || s.Artifact() != oldPath {
			t.Fatalf("%s: the instances changed: pids %v → %v, artifact %s", name, before, got, s.Artifact())
		}
		for _, api := range APIs {
			if got := labels(t, s, api); got != answer {
				t.Fatalf("%s: %s answers with neighbours %s; before, %s", name, api, got, answer)
			}
		}
	}
}

// TestReindexRolls replaces the artifact with one whose labels are all
// flipped: both instances are new processes serving the flipped labels,
// and the second was stopped only after the first was ready again.
func TestReindexRolls(t *testing.T) {
	settleFast(t)
	dir, oldPath, newPath := reindexFixture(t)
	s := startAPIs(t, apiBinary(t, dir), oldPath)
	before, answer := pids(s), labels(t, s, "api2")

	roll, err := s.Reindex(newPath, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	after := pids(s)
	if after[0] == before[0] || after[1] == before[1] || s.Artifact() != newPath {
		t.Fatalf("pids %v → %v, artifact %s", before, after, s.Artifact())
	}
	flip := strings.NewReplacer("f", "l", "l", "f").Replace(answer)
	for _, api := range APIs {
		if got := labels(t, s, api); got != flip {
			t.Fatalf("%s answers with neighbours %s; the flipped index has %s (the old one %s)", api, got, flip, answer)
		}
	}
	if len(roll.Steps) != 2 {
		t.Fatalf("%d steps", len(roll.Steps))
	}
	a, b := roll.Steps[0], roll.Steps[1]
	if !(a.Stop.Before(a.Stopped) && a.Stopped.Before(a.Ready) && !a.Back.Before(a.Ready) && !b.Stop.Before(a.Back)) {
		t.Fatalf("the steps overlap: %+v then %+v", a, b)
	}

	// Installing the new artifact under the old name keeps the old one.
	if err := s.Install(newPath, oldPath); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(newPath); !os.IsNotExist(err) || s.Artifact() != oldPath {
		t.Fatalf("after Install: %v, artifact %s", err, s.Artifact())
	}
	for path, seed := range map[string]uint64{oldPath: 1, oldPath + ".prev": 0} {
		a, err := artifact.Map(path)
		if err != nil {
			t.Fatal(err)
		}
		if a.Meta.Seed != seed {
			t.Errorf("%s holds the artifact of seed %d; want %d", path, a.Meta.Seed, seed)
		}
		a.Close()
	}
	// A restart after the update serves the new labels.
	s.Signal("api1", 9)
	for s.Running("api1") {
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Restart("api1"); err != nil {
		t.Fatal(err)
	}
	if got := labels(t, s, "api1"); got != flip {
		t.Fatalf("restarted api1 answers with %s; want %s", got, flip)
	}
}

// TestControlSocket drives updates as `stack -reindex` does: a corrupt
// artifact is refused (an error, nothing moved), a good one is served
// and moved to the stack's artifact path.
func TestControlSocket(t *testing.T) {
	settleFast(t)
	dir, oldPath, newPath := reindexFixture(t)
	s := startAPIs(t, apiBinary(t, dir), oldPath)
	answer := labels(t, s, "api1")
	sock := filepath.Join(s.Dir, ControlSocket)
	stop, err := s.ServeControl(sock, oldPath)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, err := s.ServeControl(sock, oldPath); err == nil {
		t.Fatal("a second ServeControl took over the socket of a running one")
	}

	b, _ := os.ReadFile(newPath)
	corrupt := filepath.Join(dir, "corrupt.fknn")
	os.WriteFile(corrupt, b[:len(b)-1], 0o644)
	var out strings.Builder
	if err := RequestReindex(sock, corrupt, artifact.Digest{}, &out); err == nil || !strings.Contains(out.String(), "error: the new artifact is refused") {
		t.Fatalf("a truncated artifact: %v\n%s", err, out.String())
	}
	if got := labels(t, s, "api2"); got != answer || s.Artifact() != oldPath {
		t.Fatalf("after a refused update: neighbours %s (before %s), artifact %s", got, answer, s.Artifact())
	}

	out.Reset()
	if err := RequestReindex(sock, newPath, artifact.Digest{}, &out); err != nil || !strings.Contains(out.String(), "ok: every instance serves") {
		t.Fatalf("a good artifact: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	if got := labels(t, s, "api2"); got == answer || s.Artifact() != oldPath {
		t.Fatalf("after the update: neighbours %s (before %s), artifact %s", got, answer, s.Artifact())
	}
	if _, err := os.Stat(oldPath + ".prev"); err != nil {
		t.Fatal(err)
	}
}

// TestReindexPinned runs a stack pinned to its artifact's digest: an
// update that names no digest, or one the new file does not have, is
// refused with nothing changed; one with the new file's digest rolls,
// and the new instances are pinned to it.
func TestReindexPinned(t *testing.T) {
	settleFast(t)
	dir, oldPath, newPath := reindexFixture(t)
	oldSum, err := artifact.ReadDigestFile(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	newSum, err := artifact.ReadDigestFile(newPath)
	if err != nil {
		t.Fatal(err)
	}
	s := startAPIs(t, apiBinary(t, dir), oldPath, oldSum)
	before := pids(s)
	for _, c := range []struct {
		pin  artifact.Digest
		want []string
	}{
		{artifact.Digest{}, []string{"nothing was changed", "must name the new one's digest", oldSum.String()}},
		{oldSum, []string{"nothing was changed", oldSum.String(), newSum.String()}},
	} {
		_, err := s.ReindexPinned(newPath, c.pin, t.Logf)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Fatalf("pin %s: %v; want a refusal containing %q", c.pin, err, w)
			}
		}
		if got := pids(s); got != before || s.Artifact() != oldPath {
			t.Fatalf("pin %s: the instances changed: %v → %v, %s", c.pin, before, got, s.Artifact())
		}
	}
	if _, err := s.ReindexPinned(newPath, newSum, t.Logf); err != nil {
		t.Fatal(err)
	}
	for _, name := range APIs {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", s.Pid(name)))
		if !strings.Contains(string(cmdline), "-digest\x00"+newSum.String()) {
			t.Errorf("%s runs %q; want it pinned to %s", name, strings.ReplaceAll(string(cmdline), "\x00", " "), newSum)
		}
	}
	// Installed over the old path, the file and its digest record move
	// together, and the replaced pair is kept as .prev.
	if err := s.Install(newPath, oldPath); err != nil {
		t.Fatal(err)
	}
	if d, err := artifact.ReadDigestFile(oldPath); err != nil || d != newSum {
		t.Errorf("after Install, %s records %s (%v); want %s", artifact.DigestPath(oldPath), d, err, newSum)
	}
	if d, err := artifact.ReadDigestFile(oldPath + ".prev"); err != nil || d != oldSum {
		t.Errorf("after Install, the kept .prev records %s (%v); want %s", d, err, oldSum)
	}
	if sum, err := artifact.FileDigest(oldPath); err != nil || sum != newSum {
		t.Errorf("after Install, %s has sha256 %s (%v); want %s", oldPath, sum, err, newSum)
	}
}
