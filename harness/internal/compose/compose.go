// Package compose reads the project's docker-compose.yml: the CPU and
// memory limit of every service (the native stack applies the same ones)
// and the contest's rules for the file (Check).
package compose

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is the part of a compose file this project reads.
type File struct {
	Services map[string]Service `yaml:"services"`
	Networks map[string]struct {
		Driver   string `yaml:"driver"`
		Internal bool   `yaml:"internal"`
	} `yaml:"networks"`
}

// Service is one service of a compose file.
type Service struct {
	Image       string   `yaml:"image"`
	PullPolicy  string   `yaml:"pull_policy"`
	Command     []string `yaml:"command"`
	Restart     string   `yaml:"restart"`
	Volumes     []Volume `yaml:"volumes"`
	User        string   `yaml:"user"`
	ReadOnly    bool     `yaml:"read_only"`
	Privileged  bool     `yaml:"privileged"`
	NetworkMode string   `yaml:"network_mode"`
	Networks    []string `yaml:"networks"`
	Ports       []string `yaml:"ports"`
	CapAdd      []string `yaml:"cap_add"`
	CapDrop     []string `yaml:"cap_drop"`
	SecurityOpt []string `yaml:"security_opt"`
	PidsLimit   int      `yaml:"pids_limit"`
	Deploy      struct {
		Resources struct {
			Limits struct {
				CPUs   string `yaml:"cpus"`
				Memory string `yaml:"memory"`
				Pids   int    `yaml:"pids"`
			} `yaml:"limits"`
		} `yaml:"resources"`
	} `yaml:"deploy"`
}

// Load reads a compose file.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Services) == 0 {
		return nil, fmt.Errorf("%s: no services", path)
	}
	return &f, nil
}

// Limits are a service's deploy.resources.limits.
type Limits struct {
	CPUs   float64 // cores
	Memory int64   // bytes
}

// Limits returns the limits of service name, or an error saying which is
// missing or unreadable.
func (f *File) Limits(name string) (Limits, error) {
	s, ok := f.Services[name]
	if !ok {
		return Limits{}, fmt.Errorf("no service %q", name)
	}
	l := s.Deploy.Resources.Limits
	cpus, err := strconv.ParseFloat(l.CPUs, 64)
	if err != nil || cpus <= 0 {
		return Limits{}, fmt.Errorf("service %s: deploy.resources.limits.cpus is %q; want a positive number of cores", name, l.CPUs)
	}
	mem, err := ParseBytes(l.Memory)
	if err != nil {
		return Limits{}, fmt.Errorf("service %s: deploy.resources.limits.memory: %w", name, err)
	}
	return Limits{CPUs: cpus, Memory: mem}, nil
}

// ParseBytes reads a compose byte value: a number with an optional unit
// b, k/kb, m/mb, g/gb (powers of 1024, as Docker reads them).
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive byte count such as 160MB", s)
	}
	return n * mult, nil
}

// Balancer returns the load balancer's service: "nginx", else "lb" (the
// fd-passing balancer, cmd/lb), else "" when there is neither.
func (f *File) Balancer() string {
	for _, name := range []string{"nginx", "lb"} {
		if _, ok := f.Services[name]; ok {
			return name
		}
	}
	return ""
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Budget is the contest's limit on the sum of all services' limits.
var Budget = Limits{CPUs: 1, Memory: 350 << 20}

// Check returns every contest or project rule the file breaks: one load
// balancer (nginx, or lb: cmd/lb, the fd-passing balancer), publishing
// port 9999 and two API instances
// (api1, api2); limits on every service summing to at most Budget; bridge
// networking only, nothing privileged, no seccomp or apparmor override;
// every service hardened (Hardening); every image pinned to a version
// tag, with an explicit pull_policy; every service restarted by the
// engine when it dies (restart: unless-stopped or always).
func (f *File) Check() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	balancer := f.Balancer()
	if balancer == "" {
		bad("no service \"nginx\" or \"lb\": the contest needs a load balancer")
	}
	for _, name := range []string{"api1", "api2"} {
		if _, ok := f.Services[name]; !ok {
			bad("no service %q: the contest needs two API instances", name)
		}
	}
	var sum Limits
	for name, s := range f.Services {
		l, err := f.Limits(name)
		if err != nil {
			bad("%v: every service needs limits", err)
		}
		sum.CPUs += l.CPUs
		sum.Memory += l.Memory
		if s.Privileged {
			bad("service %s is privileged", name)
		}
		// A digest (name:tag@sha256:…) pins the content; the tag is still
		// required, for the people who read the file.
		ref, digest, pinned := strings.Cut(s.Image, "@")
		if i := strings.LastIndex(ref, ":"); i < 0 || ref[i+1:] == "latest" || strings.Contains(ref[i+1:], "/") {
			bad("service %s uses image %q; pin a version tag", name, s.Image)
		}
		if pinned && !digestRE.MatchString(digest) {
			bad("service %s uses image %q; a digest is sha256: and 64 hex digits", name, s.Image)
		}
		if s.PullPolicy == "" {
			bad("service %s does not set pull_policy", name)
		}
		if s.NetworkMode != "" && s.NetworkMode != "bridge" {
			bad("service %s uses network_mode %q; the contest allows bridge only", name, s.NetworkMode)
		}
		if s.Restart != "unless-stopped" && s.Restart != "always" {
			bad("service %s has restart %q; set restart: unless-stopped, so that a crashed container comes back", name, s.Restart)
		}
		for _, o := range s.SecurityOpt {
			if strings.HasPrefix(o, "seccomp") || strings.HasPrefix(o, "apparmor") {
				bad("service %s overrides %q; the contest's final rejected such files", name, o)
			}
		}
		errs = append(errs, f.Hardening(name)...)
	}
	if sum.CPUs > Budget.CPUs+1e-9 {
		bad("limits sum to %.2f CPUs; the budget is %.2f", sum.CPUs, Budget.CPUs)
	}
	if sum.Memory > Budget.Memory {
		bad("limits sum to %d MiB; the budget is %d MiB", sum.Memory>>20, Budget.Memory>>20)
	}
	published := false
	for _, p := range f.Services[balancer].Ports {
		if p == "9999:9999" || strings.HasSuffix(p, ":9999:9999") {
			published = true
		}
	}
	if !published {
		bad("the load balancer (service %q) does not publish port 9999", balancer)
	}
	for name, n := range f.Networks {
		if n.Driver != "" && n.Driver != "bridge" {
			bad("network %s uses driver %q; the contest allows bridge only", name, n.Driver)
		}
	}
	return errs
}

// Hardening returns every hardening rule service name breaks: it drops
// all capabilities and adds none back, keeps no-new-privileges, runs as
// a user other than root on a read-only root file system, has a limit
// on its processes and threads, and, when it is an API, sits only on
// internal networks (no route out) and publishes no port.
func (f *File) Hardening(name string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s := f.Services[name]
	if !slices.ContainsFunc(s.CapDrop, func(c string) bool { return strings.EqualFold(c, "ALL") }) {
		bad("service %s does not drop all capabilities; set cap_drop: [ALL]", name)
	}
	if len(s.CapAdd) > 0 {
		bad("service %s adds capabilities %v; none of the services needs one", name, s.CapAdd)
	}
	if !slices.ContainsFunc(s.SecurityOpt, func(o string) bool { return o == "no-new-privileges:true" || o == "no-new-privileges" }) {
		bad("service %s lacks security_opt no-new-privileges:true", name)
	}
	if s.User == "" || s.User == "0" || s.User == "root" || strings.HasPrefix(s.User, "0:") || strings.HasPrefix(s.User, "root:") {
		bad("service %s runs as root (user %q); set an unprivileged user", name, s.User)
	}
	if !s.ReadOnly {
		bad("service %s has a writable root file system; set read_only: true (and a tmpfs where it must write)", name)
	}
	if s.PidsLimit <= 0 && s.Deploy.Resources.Limits.Pids <= 0 {
		bad("service %s has no limit on its processes; set deploy.resources.limits.pids", name)
	}
	if strings.HasPrefix(name, "api") {
		if len(s.Networks) == 0 {
			bad("service %s is on the default network, which has a route out; put it on an internal network", name)
		}
		for _, n := range s.Networks {
			if !f.Networks[n].Internal {
				bad("service %s is on network %s, which is not internal (a route out); set internal: true on it", name, n)
			}
		}
		if len(s.Ports) > 0 {
			bad("service %s publishes ports %v; only the load balancer publishes 9999", name, s.Ports)
		}
	}
	return errs
}
