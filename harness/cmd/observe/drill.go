package main

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"fraudknn/harness/internal/loadtest"
	"fraudknn/harness/internal/observe"
	"fraudknn/harness/internal/stack"
)

type drillOptions struct {
	rate, seconds             int
	at                        time.Duration
	rules, payloads, artifact string
	k6                        loadtest.K6
}

// The alert the drill makes fire, and the instance it stops.
const (
	drillAlert   = "FraudknnInstanceNotReady"
	drillService = "api1"
)

// runDrill starts Prometheus and a stack, drives a constant load, stops
// api1 (SIGTERM: it drains and exits, and is not restarted) at -at, and
// watches Prometheus's alerts API until the not-ready alert fires for it.
// It passes when the alert fires within its `for` plus two scrape and
// evaluation intervals of the stop, and writes into dir: alerts.json (the
// API's answer when it fired), drill.json (the times), k6's results and
// the run's picture.
func runDrill(logger *log.Logger, o drillOptions, cfg observe.Config, dir string) int {
	hold, err := ruleFor(o.rules, drillAlert)
	if err != nil {
		logger.Print(err)
		return 1
	}
	o.k6.URL = "http://127.0.0.1:9999"
	if loadtest.Ready(o.k6.URL) {
		logger.Print("a stack already answers on 9999; stop it first: the drill starts its own")
		return 1
	}
	if o.k6.Payloads, err = loadtest.Unpack(o.payloads, dir); err != nil {
		logger.Print(err)
		return 1
	}
	if abs, _ := filepath.Abs(o.payloads); o.k6.Payloads != abs {
		defer os.Remove(o.k6.Payloads)
	}
	p, err := observe.Start(cfg)
	if err != nil {
		logger.Print(err)
		return 1
	}
	defer p.Stop()
	s, err := stack.Start(stack.Config{
		Compose: "docker-compose.yml", NginxConf: "nginx/nginx.conf", Nginx: "nginx",
		API: "bin/api", Artifact: o.artifact, RunsDir: filepath.Dir(dir), Port: 9999,
		Log: log.New(os.Stderr, "stack: ", log.LstdFlags),
	})
	if err != nil {
		logger.Print(err)
		return 1
	}
	defer s.Stop()
	go func() {
		for e := range s.Exits() {
			logger.Printf("%s exited (%v)", e.Name, e.Err)
		}
	}()
	c := observe.Client{URL: p.URL}
	if err := waitUp(c, 15*time.Second); err != nil {
		logger.Print(err)
		return 1
	}
	logger.Printf("prometheus scrapes api1 and api2; %d requests/s for %d s, api1 stopped at %v; the alert's for: %v", o.rate, o.seconds, o.at, hold)

	start := time.Now()
	type loadResult struct {
		res *loadtest.Results
		err error
	}
	loaded := make(chan loadResult, 1)
	go func() {
		res, err := o.k6.Run(dir, fmt.Sprintf("RATE=%d", o.rate), fmt.Sprintf("SECONDS=%d", o.seconds))
		loaded <- loadResult{res, err}
	}()
	time.Sleep(o.at)
	logger.Printf("SIGTERM %s", drillService)
	stopped := time.Now()
	if err := s.Signal(drillService, syscall.SIGTERM); err != nil {
		logger.Print(err)
		return 1
	}
	// Two scrapes and two evaluations beyond `for`: the last ready
	// sample can be up to a scrape old, and the rule is evaluated once a
	// second.
	limit := hold + 4*time.Second
	pending, firing, alert, raw, err := watch(c, stopped, limit+10*time.Second)
	if err != nil {
		logger.Print(err)
	}
	l := <-loaded
	end := time.Now()
	picture(logger, c, start, end, dir)

	report := map[string]any{"alert": drillAlert, "for_seconds": hold.Seconds(), "limit_seconds": limit.Seconds(),
		"rate": o.rate, "seconds": o.seconds, "stopped_at": stopped}
	if !pending.IsZero() {
		report["pending_after_seconds"] = pending.Sub(stopped).Seconds()
	}
	ok := !firing.IsZero() && firing.Sub(stopped) <= limit
	if !firing.IsZero() {
		report["firing_after_seconds"] = firing.Sub(stopped).Seconds()
		os.WriteFile(filepath.Join(dir, "alerts.json"), raw, 0o644)
		text, _ := json.MarshalIndent(alert, "", "  ")
		logger.Printf("%s pending %.1f s and firing %.1f s after %s stopped (for: %v; limit %v). Prometheus's /api/v1/alerts:\n%s",
			drillAlert, pending.Sub(stopped).Seconds(), firing.Sub(stopped).Seconds(), drillService, hold, limit, text)
	}
	if l.err != nil {
		logger.Printf("the load: %v", l.err)
	} else {
		report["load"] = l.res.Line()
		logger.Printf("the load through nginx: %s", l.res.Line())
	}
	text, _ := json.MarshalIndent(report, "", "  ")
	os.WriteFile(filepath.Join(dir, "drill.json"), text, 0o644)
	if !ok {
		logger.Printf("FAILED: %s did not fire for %s within %v of its stop", drillAlert, drillService, limit)
		return 1
	}
	logger.Printf("ok: run folder %s", dir)
	return 0
}

// waitUp waits until Prometheus has scraped both APIs successfully.
func waitUp(c observe.Client, within time.Duration) error {
	deadline := time.Now().Add(within)
	observe.WaitScraped(c, within)
	for {
		up, err := c.Query(`up{job="api"} == 1`, time.Now())
		if err == nil && len(up) == 2 {
			return nil
		}
		if time.Now().After(deadline) {
			targets, _ := c.Targets()
			return fmt.Errorf("prometheus does not see both APIs up after %v (targets: %+v): do the APIs serve their operator listeners on 127.0.0.1:9101 and 9102?", within, targets)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// watch polls the alerts API from the stop until the drill's alert fires
// for the stopped service, or until the deadline; it returns when the alert
// was first seen pending and firing, the alert and the API's answer then.
func watch(c observe.Client, stopped time.Time, within time.Duration) (pending, firing time.Time, alert observe.Alert, raw []byte, err error) {
	for time.Since(stopped) < within {
		alerts, r, err := c.Alerts()
		if err != nil {
			return pending, firing, alert, nil, err
		}
		for _, a := range alerts {
			if a.Labels["alertname"] != drillAlert || a.Labels["service"] != drillService {
				continue
			}
			if pending.IsZero() {
				pending = time.Now()
			}
			if a.State == "firing" {
				return pending, time.Now(), a, r, nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return pending, firing, alert, nil, fmt.Errorf("%s did not fire for %s within %v", drillAlert, drillService, within)
}

// ruleFor reads the `for` of alert name from a rules file.
func ruleFor(path, name string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				For   string `yaml:"for"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == name {
				d, err := time.ParseDuration(r.For)
				if err != nil {
					return 0, fmt.Errorf("%s: %s's for %q: %w", path, name, r.For, err)
				}
				return d, nil
			}
		}
	}
	return 0, fmt.Errorf("%s has no alert %s", path, name)
}
