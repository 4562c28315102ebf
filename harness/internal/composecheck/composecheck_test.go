package composecheck

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fraudknn/harness/internal/compose"
)

// TestBrokenVariantsRefusedStatically: every broken variant applies to
// the project's files and the rules refuse it with its cause (the run on
// the engine is make compose-check's part).
func TestBrokenVariantsRefusedStatically(t *testing.T) {
	for _, file := range []string{"docker-compose.yml", "docker-compose.fdpass.yml"} {
		f, err := compose.Load("../../../" + file)
		if err != nil {
			t.Fatal(err)
		}
		vs := BrokenVariants(f.Balancer())
		if len(vs) != 6 {
			t.Fatalf("%s: %d variants, want 6", file, len(vs))
		}
		for _, v := range vs {
			path, err := compose.WriteVariant("../../../"+file, t.TempDir(), v.Compose, v.Conf)
			if err != nil {
				t.Fatalf("%s, %s: %v", file, v.Name, err)
			}
			if _, err := RefusedStatically(path, v); err != nil {
				t.Errorf("%s: %v", file, err)
			}
		}
	}
}

func TestParseMiB(t *testing.T) {
	for in, want := range map[string]float64{"102.9MiB": 102.9, "512KiB": 0.5, "1.5GiB": 1536, "0B": 0, "2048B": 2048.0 / (1 << 20)} {
		if got, err := parseMiB(in); err != nil || fmt.Sprintf("%.4f", got) != fmt.Sprintf("%.4f", want) {
			t.Errorf("parseMiB(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "12 apples", "--"} {
		if _, err := parseMiB(in); err == nil {
			t.Errorf("parseMiB(%q) accepted", in)
		}
	}
}

// TestLineSumsTheLimits: the summary adds the limits read back and names
// the stand-in when there is one.
func TestLineSumsTheLimits(t *testing.T) {
	r := &Report{Balancer: "nginx", Replayed: 10, Limits: []Limit{{"nginx", 0.3, 30}, {"api1", 0.35, 160}, {"api2", 0.35, 160}},
		MemoryMiB: map[string]float64{"nginx": 4, "api1": 103, "api2": 102}, BackAfter: 2500 * time.Millisecond,
		Restart: "unless-stopped", StandIn: "a STAND-IN", killRate: 300}
	line := r.Line("docker-compose.yml")
	for _, want := range []string{"limits read back 1.00 CPU, 350 MiB in total", "nginx 4, api1 103, api2 102", "back in 2.5 s", "a STAND-IN", "under 300 requests/s"} {
		if !strings.Contains(line, want) {
			t.Errorf("the line lacks %q: %s", want, line)
		}
	}
	if strings.Contains(line, "\n") {
		t.Error("the summary spans lines")
	}
}

// TestHardeningProblems: a confined API passes; each piece taken away is
// named, for the API and for the balancer.
func TestHardeningProblems(t *testing.T) {
	good := func() Hardening {
		return Hardening{Service: "api1", User: "65534:65534", UIDs: []int{65534}, Procs: 1, ReadOnly: true,
			CapDrop: []string{"ALL"}, NNPOption: true, NoNewPrivs: true, PidsLimit: 64,
			Networks: []Network{{Name: "p_operator", Internal: true}}}
	}
	if p := good().Problems(false); len(p) > 0 {
		t.Fatalf("a confined API: %v", p)
	}
	for _, c := range []struct {
		name    string
		breakIt func(*Hardening)
		lb      bool
		want    string
	}{
		{"no cap_drop", func(h *Hardening) { h.CapDrop = nil }, false, "does not drop all capabilities"},
		{"a capability added", func(h *Hardening) { h.CapAdd = []string{"NET_ADMIN"} }, false, "keeps capabilities"},
		{"a bounding set left", func(h *Hardening) { h.CapBnd = 1 << 21 }, false, "keeps capabilities"},
		{"privileged", func(h *Hardening) { h.Privileged = true }, false, "keeps capabilities"},
		{"no no-new-privileges option", func(h *Hardening) { h.NNPOption = false }, false, "no-new-privileges"},
		{"the kernel's flag unset", func(h *Hardening) { h.NoNewPrivs = false }, false, "no-new-privileges"},
		{"user root", func(h *Hardening) { h.User = "0:0" }, false, "runs as root"},
		{"no user", func(h *Hardening) { h.User = "" }, false, "runs as root"},
		{"a process of uid 0", func(h *Hardening) { h.UIDs = []int{65534, 0} }, false, "runs as root"},
		{"writable root", func(h *Hardening) { h.ReadOnly = false }, false, "writable root"},
		{"no process limit", func(h *Hardening) { h.PidsLimit = 0 }, false, "no process limit"},
		{"a network with a route out", func(h *Hardening) { h.Networks = append(h.Networks, Network{Name: "p_public"}) }, false, "not internal"},
		{"no network", func(h *Hardening) { h.Networks = nil }, false, "on no network"},
		{"a published port", func(h *Hardening) { h.Published = []string{"9101->9101/tcp"} }, false, "only the balancer may"},
		{"a balancer not publishing 9999", func(h *Hardening) { h.Service = "nginx" }, true, "does not publish port 9999"},
	} {
		h := good()
		c.breakIt(&h)
		p := strings.Join(h.Problems(c.lb), "; ")
		if !strings.Contains(p, c.want) {
			t.Errorf("%s: problems %q lack %q", c.name, p, c.want)
		}
	}
	lb := good()
	lb.Service, lb.Published, lb.Networks = "lb", []string{"9999->9999/tcp"}, []Network{{Name: "p_public"}, {Name: "p_operator", Internal: true}}
	if p := lb.Problems(true); len(p) > 0 {
		t.Errorf("a confined balancer on a public and an internal network: %v", p)
	}
}
