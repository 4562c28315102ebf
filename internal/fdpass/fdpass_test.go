package fdpass

import (
	"bufio"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// start runs a balancer on a loopback port with its control socket in a
// temporary folder.
func start(t *testing.T) (*Balancer, string, string) {
	t.Helper()
	b := NewBalancer(log.New(io.Discard, "", 0))
	ctl := filepath.Join(t.TempDir(), "lb.sock")
	cl, err := net.ListenUnix("unix", &net.UnixAddr{Name: ctl, Net: "unix"})
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
	return b, ln.Addr().String(), ctl
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

func TestNoAPIMeans503(t *testing.T) {
	b, addr, _ := start(t)
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(ask(t, addr))), nil)
	if err != nil {
		t.Fatalf("the refusal is not an HTTP response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || string(body) != `{"error":"no API instance is ready"}` {
		t.Fatalf("with no API: %d %s", resp.StatusCode, body)
	}
	if b.Refused.Load() != 1 {
		t.Fatalf("Refused = %d, want 1", b.Refused.Load())
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
