package composecheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fraudknn/harness/internal/compose"
)

// Broken is a compose file broken in one way, and the words the check's
// error must contain: the cause, named.
type Broken struct {
	Name          string
	Compose, Conf compose.Edit // edits of the compose file and of nginx/nginx.conf
	Static        string       // what the static check (package compose) says
	Engine        string       // what the run on the engine says
}

// BrokenVariants returns the ways the check must refuse a deployment,
// for the compose file with balancer b (nginx or lb).
func BrokenVariants(b string) []Broken {
	// The hardening, broken where the check reads it back: the balancer
	// keeping its capabilities, the APIs on a network with a route out.
	keepsCaps := Broken{Name: "the " + b + " keeping its capabilities (no cap_drop)",
		Compose: compose.Edit{From: "    cap_drop: [ALL]\n", To: ""},
		Static:  b + " does not drop all capabilities", Engine: b + " does not drop all capabilities"}
	routeOut := Broken{Name: "the APIs on a network with a route out (not internal)",
		Compose: compose.Edit{From: "    internal: true\n", To: ""},
		Static:  "api1 is on network operator, which is not internal", Engine: "which is not internal: it has a route out"}
	noVolume := Broken{Name: "the socket volume missing from api2",
		Compose: compose.Edit{From: "  api2:\n    <<: *api\n", To: "  api2:\n    <<: *api\n    volumes: []\n"},
		Static:  "socket volume is missing from api2", Engine: "the socket volume is missing from api2"}
	if b == "lb" {
		return []Broken{
			{Name: "a limit above the budget (lb: 60MB)", Compose: compose.Edit{From: "memory: 30MB", To: "memory: 60MB"},
				Static: "the budget is", Engine: "the limits the engine applies sum to"},
			noVolume,
			{Name: "lb's control socket renamed (the APIs register at a socket nobody creates)",
				Compose: compose.Edit{From: `"-control", "/sockets/control/lb.sock"`, To: `"-control", "/sockets/control/lb2.sock"`},
				Static:  "no balancer creates", Engine: "the balancer created no such socket"},
			keepsCaps,
			routeOut,
			{Name: "the APIs without a process limit", Compose: compose.Edit{From: "          pids: 64\n", To: ""},
				Static: "api1 has no limit on its processes", Engine: "api1 has no process limit"},
		}
	}
	return []Broken{
		{Name: "a limit above the budget (nginx: 60MB)", Compose: compose.Edit{From: "memory: 30MB", To: "memory: 60MB"},
			Static: "the budget is", Engine: "the limits the engine applies sum to"},
		noVolume,
		{Name: "nginx pointing at a socket no API creates (api3.sock)",
			Conf:   compose.Edit{From: "unix:/sockets/api2.sock", To: "unix:/sockets/api3.sock"},
			Static: "no API creates", Engine: "no API creates that socket"},
		keepsCaps,
		routeOut,
		{Name: "nginx as root", Compose: compose.Edit{From: `user: "101:101"`, To: `user: "0:0"`},
			Static: "nginx runs as root", Engine: "nginx runs as root"},
	}
}

// RunBroken writes variant v of cfg.File into dir and checks that both
// the static check and the run on the engine (the static check off)
// refuse it, naming the cause. It returns the two messages.
func RunBroken(cfg Config, v Broken, dir string) (static, engine string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	path, err := compose.WriteVariant(cfg.File, dir, v.Compose, v.Conf)
	if err != nil {
		return "", "", err
	}
	if static, err = RefusedStatically(path, v); err != nil {
		return "", "", err
	}
	cfg.File, cfg.Static = path, false
	cfg.Dir = filepath.Join(dir, "run")
	_, rerr := Run(cfg)
	if rerr == nil || !strings.Contains(rerr.Error(), v.Engine) {
		return "", "", fmt.Errorf("%s: the run on the engine ended with %v; want a failure containing %q", v.Name, rerr, v.Engine)
	}
	return static, rerr.Error(), nil
}

// RefusedStatically checks that the rules of package compose refuse the
// variant v written at path with v.Static, and returns the message.
func RefusedStatically(path string, v Broken) (string, error) {
	f, err := compose.Load(path)
	if err != nil {
		return "", err
	}
	serr := errors.Join(append(f.Check(), f.CheckSockets(path)...)...)
	if serr == nil || !strings.Contains(serr.Error(), v.Static) {
		return "", fmt.Errorf("%s: the static check says %v; want a message containing %q", v.Name, serr, v.Static)
	}
	return firstLine(serr.Error()), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
