package main

import (
	"log"
	"net/url"
	"path/filepath"
	"time"

	"fraudknn/harness/internal/observe"
)

// runWatch is the Prometheus that watches a run: the one make observe
// runs, or one started for the run (own), or none (the picture is off,
// or Prometheus cannot run here).
type runWatch struct {
	logger *log.Logger
	client observe.Client
	own    *observe.Server
	dir    string
	on     bool
}

// watchRun finds or starts the Prometheus that the run's picture is
// drawn from, and waits until it scrapes the stack.
func watchRun(logger *log.Logger, o options, dir string) *runWatch {
	w := &runWatch{logger: logger, client: observe.Client{URL: o.prometheus}, dir: dir}
	if !o.picture {
		return w
	}
	if observe.Ready(w.client) {
		logger.Printf("prometheus: using the one at %s for the run's picture", o.prometheus)
	} else {
		u, err := url.Parse(o.prometheus)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			logger.Printf("NO PICTURE of this run: -prometheus %q is not an http://host:port address", o.prometheus)
			return w
		}
		listen := u.Host
		s, err := observe.Start(observe.Config{Bin: "prometheus", File: o.prometheusConfig, Listen: listen, Data: filepath.Join(dir, "prometheus")})
		if err != nil {
			logger.Printf("NO PICTURE of this run: it needs a Prometheus, and none answers at %s nor could one be started: %v", o.prometheus, err)
			return w
		}
		logger.Printf("prometheus: started one at %s for the run (data in %s)", s.URL, filepath.Join(dir, "prometheus"))
		w.own = s
	}
	targets, err := observe.WaitScraped(w.client, 20*time.Second)
	if err != nil {
		logger.Printf("prometheus: %v", err)
	}
	for _, t := range targets {
		if t.Labels["job"] == "api" && t.Health != "up" {
			logger.Printf("prometheus: %s (%s) is %s: %s", t.Labels["service"], t.ScrapeURL, t.Health, t.LastError)
		}
	}
	w.on = true
	return w
}

// draw waits for the scrape after the run's end, then draws the run
// (with a scrape's margin each side) into run.png and run.svg.
func (w *runWatch) draw(start, end time.Time) {
	if !w.on {
		return
	}
	time.Sleep(2 * time.Second)
	base := filepath.Join(w.dir, "run")
	empty, err := observe.Draw(w.client, start.Add(-2*time.Second), end.Add(2*time.Second), base)
	if err != nil {
		w.logger.Printf("NO PICTURE of this run: %v", err)
		return
	}
	w.logger.Printf("picture: %s.png, %s.svg", base, base)
	for _, e := range empty {
		w.logger.Printf("picture: no data for %q", e)
	}
}

// stop stops the Prometheus started for the run, if one was.
func (w *runWatch) stop() {
	if w.own == nil {
		return
	}
	if err := w.own.Stop(); err != nil {
		w.logger.Printf("stopping prometheus: %v", err)
	}
}
