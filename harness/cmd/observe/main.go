// Command observe runs Prometheus beside the stack, as make observe does:
// configured from observe/prometheus.yml (scraping api1 on 127.0.0.1:9101,
// api2 on 9102 and cmd/lb on 9103 every second, with the alert rules of
// observe/alerts.yml), its database in a run folder, its API on
// 127.0.0.1:9090, until Ctrl-C, which stops it. With -picture it draws
// the time it ran (rate, p50/p99, declined share, CPU per process) into
// the run folder as it stops.
//
//	observe -drill    the not-ready drill: a stack of its own under load,
//	                  api1 stopped, and the time until Prometheus fires
//	                  FraudknnInstanceNotReady, the alert recorded as
//	                  /api/v1/alerts reports it
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"fraudknn/harness/internal/observe"
)

type options struct {
	config, listen, runs, bin string
	picture, drill            bool
	drillOpts                 drillOptions
}

func main() {
	var o options
	flag.StringVar(&o.config, "config", "observe/prometheus.yml", "Prometheus's configuration")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:9090", "where Prometheus serves its API and UI")
	flag.StringVar(&o.runs, "runs", "runs", "folder for run folders")
	flag.StringVar(&o.bin, "prometheus", "prometheus", "the prometheus binary (Debian's package)")
	flag.BoolVar(&o.picture, "picture", false, "on Ctrl-C, draw the time Prometheus ran into the run folder (run.png, run.svg)")
	flag.BoolVar(&o.drill, "drill", false, "run the not-ready drill instead (starts a stack and load of its own)")
	flag.IntVar(&o.drillOpts.rate, "rate", 300, "-drill: requests/s, constant")
	flag.IntVar(&o.drillOpts.seconds, "seconds", 60, "-drill: length of the load in seconds")
	flag.DurationVar(&o.drillOpts.at, "at", 20*time.Second, "-drill: when api1 is stopped, after the load starts")
	flag.StringVar(&o.drillOpts.rules, "rules", "observe/alerts.yml", "-drill: the alert rules (the alert's `for` is read there)")
	flag.StringVar(&o.drillOpts.k6.Bin, "k6", ".tools/bin/k6", "-drill: k6 binary")
	flag.StringVar(&o.drillOpts.k6.Script, "script", "k6/score.js", "-drill: k6 script")
	flag.StringVar(&o.drillOpts.payloads, "payloads", "../shared/data/test-data.json.gz", "-drill: test-data file")
	flag.StringVar(&o.drillOpts.artifact, "artifact", "build/index.fknn", "-drill: artifact")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: observe [-picture] | observe -drill; see -help")
		os.Exit(2)
	}
	logger := log.New(os.Stderr, "observe: ", log.LstdFlags)
	prefix := "observe-"
	if o.drill {
		prefix = "drill-notready-"
	}
	dir, err := filepath.Abs(filepath.Join(o.runs, prefix+time.Now().Format("20060102-150405")))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		logger.Fatal(err)
	}
	cfg := observe.Config{Bin: o.bin, File: o.config, Listen: o.listen, Data: filepath.Join(dir, "prometheus")}
	if o.drill {
		os.Exit(runDrill(logger, o.drillOpts, cfg, dir))
	}
	os.Exit(serve(logger, o, cfg, dir))
}

// serve runs Prometheus until a signal, then (with -picture) draws.
func serve(logger *log.Logger, o options, cfg observe.Config, dir string) int {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	p, err := observe.Start(cfg)
	if err != nil {
		logger.Print(err)
		return 1
	}
	start := time.Now()
	logger.Printf("prometheus on %s (alerts: %s/alerts, targets: %s/targets); run folder %s; Ctrl-C stops it", p.URL, p.URL, p.URL, dir)
	go reportTargets(logger, observe.Client{URL: p.URL})
	code := 0
	select {
	case <-stop:
	case <-p.Done():
		logger.Printf("prometheus exited by itself: see %s", p.Log)
		code = 1
	}
	if o.picture && code == 0 {
		picture(logger, observe.Client{URL: p.URL}, start, time.Now(), dir)
	}
	if err := p.Stop(); err != nil {
		logger.Printf("stopping prometheus: %v", err)
		return 1
	}
	logger.Printf("prometheus stopped; its data stays in %s", cfg.Data)
	return code
}

// reportTargets says, once the first scrapes are in, which targets are up.
func reportTargets(logger *log.Logger, c observe.Client) {
	targets, err := observe.WaitScraped(c, 20*time.Second)
	if err != nil {
		logger.Print(err)
		return
	}
	for _, t := range targets {
		msg := fmt.Sprintf("target %s (%s): %s", t.Labels["service"], t.ScrapeURL, t.Health)
		if t.LastError != "" {
			msg += ": " + t.LastError
		}
		logger.Print(msg)
	}
}

// picture draws the run from start to end into dir.
func picture(logger *log.Logger, c observe.Client, start, end time.Time, dir string) {
	base := filepath.Join(dir, "run")
	empty, err := observe.Draw(c, start, end, base)
	if err != nil {
		logger.Printf("drawing the run: %v", err)
		return
	}
	logger.Printf("picture: %s.png, %s.svg", base, base)
	for _, e := range empty {
		logger.Printf("picture: no data for %q", e)
	}
}
