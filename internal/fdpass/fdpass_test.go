package fdpass

import (
	"bytes"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// start runs a balancer on a loopback port with its control socket in a
// temporary folder.
func start(t *testing.T) (*Balancer, string, string) {
	b, addr, ctl, _ := startLogged(t, nil)
	return b, addr, ctl
}

// startLogged is start, with the balancer's log kept and setup (if not
// nil) applied to it before it runs.
func startLogged(t *testing.T, setup func(*Balancer)) (*Balancer, string, string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	b := NewBalancer(log.New(logs, "", 0))
	if setup != nil {
		setup(b)
	}
	ctl := filepath.Join(t.TempDir(), "lb", "lb.sock")
	cl, err := ListenControl(ctl, os.Getuid())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	go b.ServeControl(cl)
	go b.Serve(ln)
	t.Cleanup(func() { ln.Close(); cl.Close() })
	return b, ln.Addr().String(), ctl, logs
}

// syncBuffer is a log's destination that tests may read while it is
// written to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// api answers every connection it is handed with its name, then closes it.
func api(t *testing.T, ctl, name string) *Receiver {
	r := Receive(ctl, log.New(io.Discard, "", 0))
	go func() {
		for {
			c, err := r.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(name))
			c.Close()
		}
	}()
	t.Cleanup(func() { r.Close() })
	return r
}

func ask(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return string(b)
}

func waitAPIs(t *testing.T, b *Balancer, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); b.APIs() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d APIs registered, want %d", b.APIs(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNoAPIWaits connects while no API is registered: the connection
// waits and goes to the API that registers later, and the balancer
// writes nothing of its own.
func TestNoAPIWaits(t *testing.T) {
	b, addr, ctl := start(t)
	got := make(chan string, 1)
	go func() { got <- ask(t, addr) }()
	for deadline := time.Now().Add(5 * time.Second); b.waiting() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the connection is not waiting for an API")
		}
		time.Sleep(5 * time.Millisecond)
	}
	api(t, ctl, "late")
	if s := <-got; s != "late" {
		t.Fatalf("the waiting connection got %q; want the API that registered", s)
	}
}

// TestNoAPICloses: with no API within Wait, the connection is closed
// without a byte written.
func TestNoAPICloses(t *testing.T) {
	b, addr, _, _ := startLogged(t, func(b *Balancer) { b.Wait = 100 * time.Millisecond })
	if s := ask(t, addr); s != "" {
		t.Fatalf("with no API the balancer wrote %q; want nothing", s)
	}
	if b.Dropped.Load() != 1 {
		t.Fatalf("Dropped = %d, want 1", b.Dropped.Load())
	}
}

func TestRoundRobinAndLeaving(t *testing.T) {
	b, addr, ctl := start(t)
	r1 := api(t, ctl, "one")
	api(t, ctl, "two")
	waitAPIs(t, b, 2)
	seen := map[string]int{}
	for i := 0; i < 10; i++ {
		seen[ask(t, addr)]++
	}
	if seen["one"] != 5 || seen["two"] != 5 {
		t.Fatalf("10 connections went %v, want 5 to each", seen)
	}
	r1.Close()
	waitAPIs(t, b, 1)
	for i := 0; i < 4; i++ {
		if got := ask(t, addr); got != "two" {
			t.Fatalf("after one API left, a connection got %q", got)
		}
	}
	if b.Handed.Load() != 14 {
		t.Fatalf("Handed = %d, want 14", b.Handed.Load())
	}
}

// TestAPIBeforeBalancer starts the API first: it waits and registers
// once the balancer is there.
func TestAPIBeforeBalancer(t *testing.T) {
	ctl := filepath.Join(t.TempDir(), "lb.sock")
	api(t, ctl, "early")
	time.Sleep(150 * time.Millisecond)
	b := NewBalancer(log.New(io.Discard, "", 0))
	cl, err := net.ListenUnix("unix", &net.UnixAddr{Name: ctl, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	go b.ServeControl(cl)
	waitAPIs(t, b, 1)
}

// waiting reports whether a connection waits for an API: the balancer
// has made the channel it closes at the next registration.
func (b *Balancer) waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.registered != nil {
		return 1
	}
	return 0
}
