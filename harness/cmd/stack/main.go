// Command stack runs the deployment natively, as `make run` does: two API
// instances and nginx on port 9999, each in a cgroup with the CPU quota
// and memory limit docker-compose.yml gives its service, until Ctrl-C or
// SIGTERM; then it stops everything it started.
//
// While it runs, `stack -reindex NEW.fknn` (what `make reindex` runs)
// asks it to serve another artifact without a failed request: NEW is
// checked completely, then each API instance in turn is stopped
// gracefully and started on it; a bad artifact changes nothing. On
// success NEW is moved to -artifact, the replaced file kept as .prev.
// `stack -check NEW.fknn` runs the same checks alone (the code of
// `indexer -check`, with the API's memory limit from the compose file).
//
// With -digest HEX the artifact's SHA-256 is pinned: every API instance
// refuses any other file (cmd/api -digest), and so does -check; with
// -reindex, -digest pins the new artifact's digest, and an update of a
// stack started with a pin must give one: a file that differs from its
// pin is refused before any instance is stopped.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"fraudknn/artifact"
	"fraudknn/harness/internal/compose"
	"fraudknn/harness/internal/stack"
)

func main() {
	var cfg stack.Config
	flag.StringVar(&cfg.Compose, "compose", "", "compose file with the services' limits (default docker-compose.yml, or docker-compose.fdpass.yml with -balancer fdpass)")
	flag.StringVar(&cfg.NginxConf, "nginx-conf", "nginx/nginx.conf", "nginx configuration")
	flag.StringVar(&cfg.Nginx, "nginx", "nginx", "nginx binary")
	flag.StringVar(&cfg.API, "api", "bin/api", "api binary")
	flag.StringVar(&cfg.Artifact, "artifact", "build/index.fknn", "artifact built by cmd/indexer")
	flag.StringVar(&cfg.RunsDir, "runs", "runs", "folder for run folders (logs, sockets)")
	flag.StringVar(&cfg.Balancer, "balancer", "nginx", "load balancer: nginx, or fdpass (bin/lb hands whole connections to the APIs)")
	flag.StringVar(&cfg.LB, "lb", "bin/lb", "lb binary, for -balancer fdpass")
	flag.IntVar(&cfg.Port, "port", 9999, "the port the balancer listens on (nginx.conf's listen 9999 is rewritten to it)")
	apiArgs := flag.String("api-args", "", "extra flags for both API instances (for example \"-max-conns 64\")")
	check := flag.String("check", "", "do not start a stack: check this artifact as an index update would (every check an API makes, and the API's memory limit in -compose), and exit")
	reindex := flag.String("reindex", "", "do not start a stack: ask the running one to serve this artifact instead, one instance at a time")
	digest := flag.String("digest", "", "the artifact's pinned SHA-256, as cmd/indexer printed it: the APIs refuse any other file (with -reindex and -check: the new artifact's)")
	flag.Parse()
	cfg.APIArgs = strings.Fields(*apiArgs)
	if *digest != "" {
		d, err := artifact.ParseDigest(*digest)
		if err != nil {
			fmt.Fprintf(os.Stderr, "stack: -digest: %v\n", err)
			os.Exit(2)
		}
		cfg.Digest = d
	}
	if cfg.Compose == "" {
		cfg.Compose = stack.ComposeFile(cfg.Balancer)
	}
	if *check != "" {
		if err := checkArtifact(*check, cfg.Compose, cfg.Digest); err != nil {
			fmt.Fprintf(os.Stderr, "stack: %v\n", err)
			os.Exit(1)
		}
		return
	}
	control := filepath.Join(cfg.RunsDir, stack.ControlSocket)
	if *reindex != "" {
		next, err := filepath.Abs(*reindex)
		if err == nil {
			err = stack.RequestReindex(control, next, cfg.Digest, os.Stdout)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "stack: %v\n", err)
			os.Exit(1)
		}
		return
	}
	logger := log.New(os.Stderr, "stack: ", log.LstdFlags)
	cfg.Log = logger

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	// Under `make run`, make is the parent: if it is terminated, so is the
	// stack, which then stops everything it started.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
		logger.Printf("cannot ask to be told of the parent's death: %v", err)
	}
	s, err := stack.Start(cfg)
	if err != nil {
		logger.Printf("cannot start: %v", err)
		os.Exit(1)
	}
	install, _ := filepath.Abs(cfg.Artifact)
	stopControl, err := s.ServeControl(control, install)
	if err != nil {
		logger.Printf("index updates are off: %v", err)
		stopControl = func() {}
	}
	fmt.Fprintf(os.Stderr, "\nfraudknn is serving at %s (POST /fraud-score, GET /ready)\n", s.URL)
	for _, name := range stack.APIs {
		fmt.Fprintf(os.Stderr, "%s operator listener: http://%s (GET /metrics, POST /fraud-score/explain, GET /ready)\n", name, s.Operator(name))
	}
	fmt.Fprintf(os.Stderr, "logs: %s\n`make reindex REFS=new.json.gz` replaces the index without stopping it. Ctrl-C stops it.\n\n", s.Dir)

	code := 0
loop:
	for {
		select {
		case sig := <-stop:
			logger.Printf("%v: stopping", sig)
			break loop
		case e := <-s.Exits():
			if e.Name == "nginx" {
				logger.Printf("nginx exited (%v); stopping. See %s", e.Err, s.LogFile("nginx"))
				code = 1
				break loop
			}
			if e.Planned {
				continue // an index update replaces it; the update says so
			}
			logger.Printf("%s exited (%v); nginx sends its requests to the other instance. See %s", e.Name, e.Err, s.LogFile(e.Name))
		}
	}
	stopControl()
	if err := s.Stop(); err != nil {
		logger.Printf("stop: %v", err)
		code = 1
	}
	logger.Printf("stopped; logs kept in %s", s.Dir)
	os.Exit(code)
}

// checkArtifact checks the artifact at path as an index update would
// (stack.CheckArtifact: every check an API makes, the pinned digest, an
// API instance's memory limit in the compose file), and says so.
func checkArtifact(path, composeFile string, pinned artifact.Digest) error {
	file, err := compose.Load(composeFile)
	if err != nil {
		return err
	}
	limits, err := file.Limits(stack.APIs[0])
	if err != nil {
		return fmt.Errorf("%s: %w", composeFile, err)
	}
	meta, sum, err := stack.CheckArtifact(path, limits.Memory, pinned)
	if err != nil {
		return err
	}
	pin := "not pinned: -digest compares it with the digest you pinned"
	if !pinned.IsZero() {
		pin = "the pinned digest"
	}
	fmt.Printf("ok: %s passes every check an API makes and fits in %d MiB (built from references with sha256 %x)\nsha256 %s (%s)\n", path, limits.Memory>>20, meta.Source, sum, pin)
	return nil
}
