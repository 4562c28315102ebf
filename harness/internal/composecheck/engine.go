package composecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Project is one compose file run as one compose project by the docker
// CLI (with the Compose plugin).
type Project struct {
	Name     string // the compose project: containers, volume and network carry it
	File     string // the compose file
	Override string // a second file over it, or ""
}

// Compose runs `docker compose -p Name -f File [-f Override] args...` and
// returns its output; an error carries the output's last lines.
func (p Project) Compose(args ...string) (string, error) {
	files := []string{"compose", "-p", p.Name, "-f", p.File}
	if p.Override != "" {
		files = append(files, "-f", p.Override)
	}
	return Docker(append(files, args...)...)
}

// Docker runs the docker CLI and returns its combined output.
func Docker(args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command("docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, lastLines(out.String(), 6))
	}
	return out.String(), nil
}

// lastLines returns the last n lines of s, on one line each.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Container is what the check reads of a container from docker inspect.
type Container struct {
	ID    string `json:"Id"`
	Name  string
	Image string // the image's ID
	State struct {
		Status     string
		Running    bool
		Restarting bool
		Pid        int
		ExitCode   int
	}
	RestartCount int
	HostConfig   struct {
		NanoCpus       int64
		CpuQuota       int64
		CpuPeriod      int64
		Memory         int64
		PidsLimit      *int64
		ReadonlyRootfs bool
		CapAdd         []string
		CapDrop        []string
		SecurityOpt    []string
		Privileged     bool
		PortBindings   map[string][]struct{ HostIP, HostPort string }
		RestartPolicy  struct{ Name string }
	}
	Mounts []struct {
		Type, Name, Source, Destination string
	}
	Config struct {
		Image  string
		User   string
		Labels map[string]string
	}
	NetworkSettings struct {
		Networks map[string]struct{ NetworkID, IPAddress, Gateway string }
	}
}

// CPUs returns the CPU limit the engine applies, in cores.
func (c *Container) CPUs() float64 {
	if c.HostConfig.NanoCpus > 0 {
		return float64(c.HostConfig.NanoCpus) / 1e9
	}
	if c.HostConfig.CpuQuota > 0 && c.HostConfig.CpuPeriod > 0 {
		return float64(c.HostConfig.CpuQuota) / float64(c.HostConfig.CpuPeriod)
	}
	return 0
}

// MountAt returns the host folder mounted at dir in the container, and
// the volume's name ("" for a bind mount), or ok false.
func (c *Container) MountAt(dir string) (source, name string, ok bool) {
	for _, m := range c.Mounts {
		if m.Destination == dir {
			return m.Source, m.Name, true
		}
	}
	return "", "", false
}

// HostPath returns where path p inside the container is on the host,
// through the deepest mount that holds it.
func (c *Container) HostPath(p string) (string, bool) {
	best, depth := "", -1
	for _, m := range c.Mounts {
		d := path.Clean(m.Destination)
		if rest, ok := strings.CutPrefix(p, d+"/"); ok && len(d) > depth {
			best, depth = filepath.Join(m.Source, rest), len(d)
		}
	}
	return best, depth >= 0
}

// Service returns the container of a service of the project (started or
// not), read by docker inspect.
func (p Project) Service(name string) (*Container, error) {
	out, err := p.Compose("ps", "-a", "-q", name)
	if err != nil {
		return nil, err
	}
	id := strings.TrimSpace(out)
	if id == "" || strings.Contains(id, "\n") {
		return nil, fmt.Errorf("service %s: want one container, docker compose ps lists %q", name, id)
	}
	return Inspect(id)
}

// Inspect reads one container.
func Inspect(id string) (*Container, error) {
	out, err := Docker("inspect", id)
	if err != nil {
		return nil, err
	}
	var cs []Container
	if err := json.Unmarshal([]byte(out), &cs); err != nil || len(cs) != 1 {
		return nil, fmt.Errorf("docker inspect %s: unreadable (%v)", id, err)
	}
	return &cs[0], nil
}

// LastLog returns the last n lines a service logged, on one line.
func (p Project) LastLog(name string, n int) string {
	out, _ := p.Compose("logs", "--no-log-prefix", "--tail", strconv.Itoa(n), name)
	return lastLines(out, n)
}

// MemoryMiB returns the memory each container uses now, as docker stats
// reports it (the engine's reading of the container's cgroup).
func MemoryMiB(ids ...string) (map[string]float64, error) {
	out, err := Docker(append([]string{"stats", "--no-stream", "--format", "{{.ID}}\t{{.MemUsage}}"}, ids...)...)
	if err != nil {
		return nil, err
	}
	got := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		id, usage, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		used, _, _ := strings.Cut(usage, " / ")
		mib, err := parseMiB(used)
		if err != nil {
			return nil, fmt.Errorf("docker stats: %v", err)
		}
		for _, full := range ids {
			if strings.HasPrefix(full, id) {
				got[full] = mib
			}
		}
	}
	return got, nil
}

// parseMiB reads a size as docker stats prints it ("102.9MiB", "512KiB",
// "1.2GiB", "0B").
func parseMiB(s string) (float64, error) {
	s = strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		mib    float64
	}{{"GiB", 1024}, {"MiB", 1}, {"KiB", 1.0 / 1024}, {"kB", 1e3 / (1 << 20)}, {"MB", 1e6 / (1 << 20)}, {"GB", 1e9 / (1 << 20)}, {"B", 1.0 / (1 << 20)}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				break
			}
			return f * u.mib, nil
		}
	}
	return 0, fmt.Errorf("%q is not a size", s)
}

// getUnix asks an HTTP server on a Unix socket for path and reports
// whether it answered 200.
func getUnix(socket, path string) error {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}
	resp, err := c.Get("http://api" + path)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
