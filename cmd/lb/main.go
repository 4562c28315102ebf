// Command lb is the alternative load balancer: it accepts the clients'
// TCP connections and hands each one whole to an API instance over a Unix
// socket (package fdpass), so requests go from the client straight to
// the API. nginx stays the default balancer; docs/TUNING.md has the
// measurements that compare the two.
//
//	lb -listen :9999 -control /sockets/lb.sock [-trust-uid 65534] [-backends 2] [-operator 127.0.0.1:9103]
//
// The APIs register by dialling the control socket (api -fdpass
// /sockets/lb.sock) once ready; until one has, connections wait
// (-wait). Only processes of the uid -trust-uid (by default lb's own)
// may register, at most -backends at once, and the socket's folder must
// be one only that uid can enter (lb makes it, mode 0700, if missing).
// It never reads or answers a request itself. -operator serves its
// counters at GET /metrics. SIGTERM, SIGINT or SIGQUIT stops it.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"fraudknn/internal/fdpass"
	"fraudknn/internal/listen"
)

func main() {
	listen := flag.String("listen", ":9999", "TCP address the clients connect to")
	control := flag.String("control", "/sockets/lb.sock", "Unix socket the APIs register at; its folder must be one only -trust-uid can enter (made, mode 0700, if missing)")
	wait := flag.Duration("wait", fdpass.DefaultWait, "how long a connection waits for an API to register when none is; then it is closed")
	trust := flag.Int("trust-uid", os.Getuid(), "the only uid whose processes may register as APIs (the APIs' uid)")
	backends := flag.Int("backends", fdpass.DefaultMaxBackends, "most APIs registered at once; more registrations are refused")
	operator := flag.String("operator", "", "address serving GET /metrics (host:port or unix:/path; off when empty)")
	flag.Parse()
	logger := log.New(os.Stderr, "lb: ", log.LstdFlags|log.Lmicroseconds)
	if flag.NArg() > 0 || *backends < 1 || *trust < 0 {
		fmt.Fprintln(os.Stderr, "usage: lb [-listen :9999] [-control /sockets/lb.sock] [-trust-uid N] [-backends N >= 1] [-operator ADDR]")
		os.Exit(2)
	}
	cl, err := fdpass.ListenControl(*control, *trust)
	if err != nil {
		logger.Fatalf("%v", err)
	}
	addr, err := net.ResolveTCPAddr("tcp", *listen)
	if err != nil {
		logger.Fatalf("-listen %s: %v", *listen, err)
	}
	ln, err := net.ListenTCP("tcp", addr)
	if err != nil {
		logger.Fatalf("cannot listen on %s: %v", *listen, err)
	}
	b := fdpass.NewBalancer(logger)
	b.Wait, b.TrustUID, b.MaxBackends = *wait, *trust, *backends
	if *operator != "" {
		serveOperator(*operator, b, logger)
	}
	go func() { logger.Fatalf("control socket: %v", b.ServeControl(cl)) }()
	go func() { logger.Fatalf("listener: %v", b.Serve(ln)) }()
	logger.Printf("handing connections from %s to at most %d APIs of uid %d registered at %s", *listen, *backends, *trust, *control)

	stop := make(chan os.Signal, 1)
	// SIGQUIT too: it is nginx's graceful stop, which whatever runs the
	// balancer's slot (the native stack) may send; unhandled, Go would
	// dump every goroutine and exit 2.
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	sig := <-stop
	logger.Printf("%v: stopping after %d connections handed, %d closed for want of an API", sig, b.Handed.Load(), b.Dropped.Load())
	os.Remove(*control) // closing the listener instead would end ServeControl, which stops the program with status 1
}

// serveOperator serves the balancer's metrics at addr (host:port, or
// unix:/path); it stops the program if it cannot listen there.
func serveOperator(addr string, b *fdpass.Balancer, logger *log.Logger) {
	// Open to its owner and group only, as the API's operator listener.
	ln, err := listen.Addr(addr, 0o660)
	if err != nil {
		logger.Fatalf("-operator %s: %v", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		b.WritePrometheus(w)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 30 * time.Second}
	go func() { logger.Printf("operator listener: %v", srv.Serve(ln)) }()
	logger.Printf("metrics at %s (GET /metrics)", addr)
}
