package observe

import (
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"fraudknn/harness/internal/compose"
)

// promConfig is the part of a Prometheus configuration the two files share.
type promConfig struct {
	Global        map[string]string `yaml:"global"`
	RuleFiles     []string          `yaml:"rule_files"`
	ScrapeConfigs []struct {
		Job     string `yaml:"job_name"`
		Statics []struct {
			Targets []string          `yaml:"targets"`
			Labels  map[string]string `yaml:"labels"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func loadConfig(t *testing.T, path string) promConfig {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c promConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// The native and the compose configurations differ only in where the
// targets are: the same intervals, rules, jobs, services and ports.
func TestConfigurationsAlike(t *testing.T) {
	native := loadConfig(t, "../../../observe/prometheus.yml")
	compose := loadConfig(t, "../../../observe/prometheus.compose.yml")
	if !reflect.DeepEqual(native.Global, compose.Global) || !reflect.DeepEqual(native.RuleFiles, compose.RuleFiles) {
		t.Errorf("global settings or rule files differ: %v %v against %v %v", native.Global, native.RuleFiles, compose.Global, compose.RuleFiles)
	}
	if native.Global["scrape_interval"] != "1s" {
		t.Errorf("scrape_interval %q; the drill, the dashboard test and the picture expect 1s", native.Global["scrape_interval"])
	}
	services := func(c promConfig) map[string]string { // service -> job
		m := map[string]string{}
		for _, sc := range c.ScrapeConfigs {
			for _, st := range sc.Statics {
				if len(st.Targets) != 1 {
					t.Errorf("job %s: %d targets in one group; want one, named by its service label", sc.Job, len(st.Targets))
				}
				m[st.Labels["service"]] = sc.Job
			}
		}
		return m
	}
	if a, b := services(native), services(compose); !reflect.DeepEqual(a, b) || len(a) != 3 {
		t.Errorf("services differ: %v against %v; want api1, api2 and lb in both", a, b)
	}
	for _, sc := range native.ScrapeConfigs {
		for _, st := range sc.Statics {
			if !strings.HasPrefix(st.Targets[0], "127.0.0.1:") {
				t.Errorf("native target %s is not on loopback", st.Targets[0])
			}
		}
	}
}

// composeFile is the part of a compose file the observe profile's test reads.
type composeFile struct {
	Services map[string]struct {
		Profiles []string `yaml:"profiles"`
		Volumes  []string `yaml:"volumes"`
		Ports    []string `yaml:"ports"`
		Networks []string `yaml:"networks"`
	} `yaml:"services"`
	Networks map[string]any `yaml:"networks"`
}

func loadCompose(t *testing.T, path string) composeFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// docker-compose.observe.yml is off by default (its services only run
// with --profile observe), runs the repository's configuration and rules,
// publishes nothing beyond the host's loopback, and joins only networks
// it defines or both deployment files define (the operator network).
func TestComposeObserveProfile(t *testing.T) {
	f := loadCompose(t, "../../../docker-compose.observe.yml")
	deployments := []composeFile{loadCompose(t, "../../../docker-compose.yml"), loadCompose(t, "../../../docker-compose.fdpass.yml")}
	if len(f.Services) == 0 {
		t.Fatal("docker-compose.observe.yml has no service")
	}
	for name, s := range f.Services {
		if len(s.Profiles) != 1 || s.Profiles[0] != "observe" {
			t.Errorf("service %s has profiles %v; want only observe, so that it is off by default", name, s.Profiles)
		}
		mounts := strings.Join(s.Volumes, " ")
		for _, want := range []string{"./observe/prometheus.compose.yml:", "./observe/alerts.yml:"} {
			if !strings.Contains(mounts, want) {
				t.Errorf("service %s does not mount %s", name, want)
			}
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %s beyond the host's loopback", name, p)
			}
		}
		for _, n := range s.Networks {
			if _, ok := f.Networks[n]; ok {
				continue
			}
			for i, d := range deployments {
				if _, ok := d.Networks[n]; !ok {
					t.Errorf("service %s joins network %s, which deployment file %d does not define", name, n, i+1)
				}
			}
		}
	}
}

// The memory alert's yardstick is the APIs' memory limit in both
// deployment files: when a file changes it, this fails until the rule
// follows.
func TestMemoryAlertFollowsTheComposeLimit(t *testing.T) {
	rules, err := os.ReadFile("../../../observe/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`process_resident_memory_bytes\{job="api"\} > 0\.9 \* (\d+)`).FindSubmatch(rules)
	if m == nil {
		t.Fatal("observe/alerts.yml: no FraudknnMemoryNearLimit expression of the form process_resident_memory_bytes{job=\"api\"} > 0.9 * LIMIT")
	}
	limit, _ := strconv.ParseInt(string(m[1]), 10, 64)
	for _, file := range []string{"docker-compose.yml", "docker-compose.fdpass.yml"} {
		f, err := compose.Load("../../../" + file)
		if err != nil {
			t.Fatal(err)
		}
		for _, api := range []string{"api1", "api2"} {
			l, err := f.Limits(api)
			if err != nil {
				t.Fatal(err)
			}
			if l.Memory != limit {
				t.Errorf("%s: %s's memory limit is %d bytes; the memory alert measures against %d", file, api, l.Memory, limit)
			}
		}
	}
}
