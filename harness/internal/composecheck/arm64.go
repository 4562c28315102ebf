package composecheck

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"fraudknn/harness/internal/compose"
	"fraudknn/harness/internal/loadtest"
	"fraudknn/harness/internal/replay"
	"fraudknn/internal/testenv"
)

// Arm64Report is what the emulated run of the arm64 image found.
type Arm64Report struct {
	Image     string
	Ready     time.Duration // from docker compose up to /ready on port 9999
	Runner    string        // what runs the API's process (the binfmt interpreter)
	Kernels   string        // the knn kernel set the API reports
	Examples  int           // SPEC.md's examples answered exactly
	Replay    replay.HTTPSummary
	Hardening []Hardening
	Firewall  string
	Skipped   string // why it could not run here, when it could not
}

// Line is the emulated run's one-line summary.
func (r *Arm64Report) Line(file string) string {
	if r.Skipped != "" {
		return fmt.Sprintf("compose-check %s arm64: SKIPPED: %s", file, r.Skipped)
	}
	return fmt.Sprintf("compose-check %s arm64: ok: api1 and api2 from %s (linux/arm64) run by %s, kernels %s, ready %.1f s after up; SPEC.md's %d examples exact; %d payloads through port 9999: %d wrong, %d errors; hardening read back as on amd64",
		file, r.Image, r.Runner, r.Kernels, r.Ready.Seconds(), r.Examples, r.Replay.N, r.Replay.Wrong+r.Replay.ScoreMismatch, r.Replay.Errors)
}

// binfmtAarch64 is the kernel's entry that runs arm64 binaries through
// qemu-aarch64; with the F flag the interpreter is opened at
// registration, so it also runs inside a container's file system.
const binfmtAarch64 = "/proc/sys/fs/binfmt_misc/qemu-aarch64"

// arm64Skip says why this machine cannot run arm64 containers, or "".
func arm64Skip() string {
	b, err := os.ReadFile(binfmtAarch64)
	if err != nil {
		return "no binfmt_misc entry for arm64 (" + binfmtAarch64 + "): install Debian's qemu-user-static, whose entry runs arm64 binaries in containers"
	}
	s := string(b)
	if !strings.HasPrefix(s, "enabled") {
		return binfmtAarch64 + " is disabled"
	}
	flags := regexp.MustCompile(`(?m)^flags: (\S*)$`).FindStringSubmatch(s)
	if flags == nil || !strings.Contains(flags[1], "F") {
		return binfmtAarch64 + " lacks the F flag, so its interpreter is not found inside a container: install qemu-user-static (qemu-user-binfmt registers without it)"
	}
	return ""
}

// RunArm64 runs cfg.File with the APIs from the arm64 image under
// emulation: the hardening read back, SPEC.md's examples and n payloads
// through port 9999; then takes it down.
func RunArm64(cfg Config, n int) (*Arm64Report, error) {
	r := &Arm64Report{}
	if r.Skipped = arm64Skip(); r.Skipped != "" {
		return r, nil
	}
	f, err := compose.Load(cfg.File)
	if err != nil {
		return nil, err
	}
	// A local image per architecture (make image), or the registry's
	// manifest list when the file pins one: the platform picks the entry.
	image := f.Services["api1"].Image
	override := "services:\n"
	for _, api := range []string{"api1", "api2"} {
		override += "  " + api + ":\n    platform: linux/arm64\n"
		if !strings.Contains(image, "@") {
			override += "    image: " + image + "-arm64\n"
		}
	}
	r.Image = image
	if !strings.Contains(image, "@") {
		r.Image = image + "-arm64"
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	ov := filepath.Join(cfg.Dir, "arm64.override.yml")
	if err := os.WriteFile(ov, []byte(override), 0o644); err != nil {
		return nil, err
	}
	// Under emulation at the file's CPU limits the APIs take about a
	// minute to load, check and warm the artifact.
	c := &check{Config: cfg, p: Project{Name: cfg.Project, File: cfg.File, Override: ov}, f: f,
		report: &Report{Balancer: f.Balancer(), MemoryMiB: map[string]float64{}}, readyWithin: 5 * time.Minute, payloads: n}
	if _, err := c.p.Compose("down", "-v", "--remove-orphans"); err != nil {
		return nil, err
	}
	if strings.Contains(image, "@") {
		// The engine holds one architecture per name: fetch the list's
		// arm64 entry as an arm64 engine would.
		if _, err := Docker("pull", "-q", "--platform", "linux/arm64", image); err != nil {
			return nil, err
		}
	}
	err = c.arm64(r)
	if _, derr := c.p.Compose("down", "-v", "--remove-orphans"); derr != nil && err == nil {
		err = derr
	}
	return r, err
}

func (c *check) arm64(r *Arm64Report) error {
	c.Log.Printf("%s: the APIs from the arm64 image under emulation", c.File)
	start := time.Now()
	if _, err := c.p.Compose("up", "-d"); err != nil {
		return err
	}
	if err := c.waitReady(); err != nil {
		return err
	}
	r.Ready = time.Since(start)
	if err := c.hardening(true); err != nil {
		return err
	}
	r.Hardening, r.Firewall = c.report.Hardening, c.report.Firewall
	ct, err := c.p.Service("api1")
	if err != nil {
		return err
	}
	if r.Runner, err = os.Readlink(fmt.Sprintf("/proc/%d/exe", ct.State.Pid)); err != nil {
		return err
	}
	if arch, _ := Docker("image", "inspect", "-f", "{{.Architecture}}", ct.Image); strings.TrimSpace(arch) != "arm64" {
		return fmt.Errorf("api1 runs image %s of architecture %q, not arm64", ct.Image, strings.TrimSpace(arch))
	}
	base, err := c.operatorURL("api1", "9101")
	if err != nil {
		return err
	}
	_, metrics, err := ask("GET", base+"/metrics", "")
	if err != nil {
		return err
	}
	if m := regexp.MustCompile(`fraudknn_info\{[^}]*kernels="([^"]*)"`).FindStringSubmatch(metrics); m != nil {
		r.Kernels = m[1]
	}
	for _, ex := range []struct{ body, want string }{{testenv.SpecLegit, testenv.SpecLegitAnswer}, {testenv.SpecFraud, testenv.SpecFraudAnswer}} {
		code, body, err := ask("POST", URL+"/fraud-score", ex.body)
		if err != nil || code != http.StatusOK || body != ex.want {
			return fmt.Errorf("SPEC.md's example through port 9999 on arm64: %d %q %v; want 200 %s", code, body, err, ex.want)
		}
		r.Examples++
	}
	r.Replay = replay.RunHTTP(URL, c.Payloads[:min(c.payloads, len(c.Payloads))], 2, replay.Options{Show: 3, Log: c.Log.Writer()})
	if !r.Replay.OK() {
		return fmt.Errorf("payloads through port 9999 on arm64: %s", r.Replay)
	}
	if !loadtest.Ready(URL) {
		return fmt.Errorf("port 9999 stopped answering /ready after the arm64 replay")
	}
	return nil
}
