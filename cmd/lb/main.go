// Command lb is the alternative load balancer: it accepts the clients'
// TCP connections and hands each one whole to an API instance over a Unix
// socket (package fdpass), so requests go from the client straight to
// the API. nginx stays the default balancer; docs/TUNING.md has the
// measurements that compare the two.
//
//	lb -listen :9999 -control /sockets/lb.sock
//
// The APIs register by dialling the control socket (api -fdpass
// /sockets/lb.sock) once ready; until one has, connections wait (-wait).
// It never reads or answers a request itself. SIGTERM or SIGINT stops it.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"fraudknn/internal/fdpass"
)

func main() {
	listen := flag.String("listen", ":9999", "TCP address the clients connect to")
	control := flag.String("control", "/sockets/lb.sock", "Unix socket the APIs register at")
	wait := flag.Duration("wait", fdpass.DefaultWait, "how long a connection waits for an API to register when none is; then it is closed")
	flag.Parse()
	logger := log.New(os.Stderr, "lb: ", log.LstdFlags|log.Lmicroseconds)
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: lb [-listen :9999] [-control /sockets/lb.sock]")
		os.Exit(2)
	}
	if st, err := os.Lstat(*control); err == nil {
		if st.Mode()&os.ModeSocket == 0 {
			logger.Fatalf("%s exists and is not a socket; refusing to replace it", *control)
		}
		os.Remove(*control)
	}
	cl, err := net.ListenUnix("unix", &net.UnixAddr{Name: *control, Net: "unix"})
	if err != nil {
		logger.Fatalf("cannot listen for APIs on %s: %v", *control, err)
	}
	// The APIs may run as another user.
	if err := os.Chmod(*control, 0o666); err != nil {
		logger.Fatalf("%s: %v", *control, err)
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
	b.Wait = *wait
	go func() { logger.Fatalf("control socket: %v", b.ServeControl(cl)) }()
	go func() { logger.Fatalf("listener: %v", b.Serve(ln)) }()
	logger.Printf("handing connections from %s to the APIs registered at %s", *listen, *control)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	sig := <-stop
	logger.Printf("%v: stopping after %d connections handed, %d closed for want of an API", sig, b.Handed.Load(), b.Dropped.Load())
	os.Remove(*control)
}
