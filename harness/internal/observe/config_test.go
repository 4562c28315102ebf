package observe

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
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
