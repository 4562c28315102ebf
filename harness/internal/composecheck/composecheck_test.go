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
