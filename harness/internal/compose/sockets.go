package compose

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Volume is one entry of a service's volumes, in the short syntax
// (source:target[:mode]) or the long one (type, source, target).
type Volume struct {
	Source, Target string
}

// UnmarshalYAML reads either syntax.
func (v *Volume) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		parts := strings.Split(n.Value, ":")
		if len(parts) < 2 {
			v.Target = parts[0] // an anonymous volume
			return nil
		}
		v.Source, v.Target = parts[0], parts[1]
		return nil
	}
	var long struct{ Source, Target string }
	if err := n.Decode(&long); err != nil {
		return err
	}
	v.Source, v.Target = long.Source, long.Target
	return nil
}

// named reports whether the volume is a named volume (not a bind mount
// of a host path, not anonymous).
func (v Volume) named() bool {
	return v.Source != "" && !strings.HasPrefix(v.Source, ".") && !strings.HasPrefix(v.Source, "/") && !strings.HasPrefix(v.Source, "~")
}

// flagValue returns the value of -name (or --name) in args: "-name v" or
// "-name=v", and whether it is there.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		a = strings.TrimPrefix(a, "-")
		a = strings.TrimPrefix(a, "-")
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// APISocket returns the Unix socket API service name listens on (its
// -listen unix:PATH), or "" when it listens on TCP.
func (f *File) APISocket(name string) string {
	listen, _ := flagValue(f.Services[name].Command, "listen")
	p, _ := strings.CutPrefix(listen, "unix:")
	if p == listen {
		return ""
	}
	return p
}

// ControlSocket returns the socket the fd-passing balancer (service lb)
// takes its APIs' registrations at: its -control.
func (f *File) ControlSocket() string {
	p, _ := flagValue(f.Services["lb"].Command, "control")
	return p
}

// VolumeAt returns the named volume service name mounts at the folder
// that holds socket p, or at a folder above it (the deepest such mount),
// or "" when none does.
func (f *File) VolumeAt(name, p string) string {
	dir, best, depth := path.Dir(p), "", -1
	for _, v := range f.Services[name].Volumes {
		t := path.Clean(v.Target)
		if v.named() && (t == dir || strings.HasPrefix(dir, t+"/")) && len(t) > depth {
			best, depth = v.Source, len(t)
		}
	}
	return best
}

// NginxConf returns the host path of the nginx configuration the nginx
// service mounts at /etc/nginx/nginx.conf, resolved against the compose
// file's folder, or "" when it mounts none.
func (f *File) NginxConf(composePath string) string {
	for _, v := range f.Services["nginx"].Volumes {
		if v.Target == "/etc/nginx/nginx.conf" && !v.named() {
			if filepath.IsAbs(v.Source) {
				return v.Source
			}
			return filepath.Join(filepath.Dir(composePath), v.Source)
		}
	}
	return ""
}

var upstreamSocket = regexp.MustCompile(`(?m)^\s*server\s+unix:([^\s;]+)`)

// UpstreamSockets returns the Unix sockets an nginx configuration sends
// requests to (its upstream servers unix:PATH).
func UpstreamSockets(conf []byte) []string {
	var out []string
	for _, m := range upstreamSocket.FindAllSubmatch(conf, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// CheckSockets returns every way the balancer and the APIs of the file at
// composePath fail to meet: each API listens on a Unix socket in a named
// volume that the balancer mounts at the same folder; nginx's upstream
// servers are exactly the APIs' sockets; with cmd/lb, every API registers
// at lb's control socket, in that volume too.
func (f *File) CheckSockets(composePath string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	balancer := f.Balancer()
	if balancer == "" {
		return nil // Check reports it
	}
	var apiSockets []string
	for _, name := range []string{"api1", "api2"} {
		if _, ok := f.Services[name]; !ok {
			continue // Check reports it
		}
		p := f.APISocket(name)
		if p == "" {
			bad("service %s does not listen on a Unix socket (-listen unix:/sockets/%s.sock)", name, name)
			continue
		}
		apiSockets = append(apiSockets, p)
		vol := f.VolumeAt(name, p)
		if vol == "" {
			bad("service %s listens on %s but mounts no named volume at %s: the socket volume is missing from %s", name, p, path.Dir(p), name)
			continue
		}
		if got := f.VolumeAt(balancer, p); got != vol {
			bad("service %s mounts volume %q at %s, where %s creates its socket; %s must mount it there too", balancer, got, path.Dir(p), name, balancer)
		}
		if balancer == "lb" {
			control := f.ControlSocket()
			if reg, _ := flagValue(f.Services[name].Command, "fdpass"); reg != control {
				bad("service %s registers at %q (-fdpass) but lb takes registrations at %q (-control): no balancer creates %q", name, reg, control, reg)
			}
			if f.VolumeAt(name, control) == "" {
				bad("service %s mounts no named volume at %s, where lb's control socket is", name, path.Dir(control))
			}
		}
	}
	if balancer == "nginx" {
		conf := f.NginxConf(composePath)
		if conf == "" {
			bad("service nginx mounts no configuration at /etc/nginx/nginx.conf")
			return errs
		}
		b, err := os.ReadFile(conf)
		if err != nil {
			bad("nginx's configuration: %v", err)
			return errs
		}
		up := UpstreamSockets(b)
		for _, p := range up {
			if !slices.Contains(apiSockets, p) {
				bad("%s sends requests to unix:%s, a socket no API creates (the APIs listen on %s)", conf, p, strings.Join(apiSockets, ", "))
			}
		}
		for _, p := range apiSockets {
			if !slices.Contains(up, p) {
				bad("%s never sends requests to unix:%s, where an API listens", conf, p)
			}
		}
	}
	return errs
}
