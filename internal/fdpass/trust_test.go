package fdpass

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dialControl connects to the control socket as this process would
// register, and returns the connection.
func dialControl(t *testing.T, ctl string) *net.UnixConn {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: ctl, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByBalancer reports whether the balancer closed c (a read ends
// with EOF) within a second, without sending it anything.
func closedByBalancer(t *testing.T, c *net.UnixConn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Second))
	var buf [1]byte
	n, err := c.Read(buf[:])
	return n == 0 && err == io.EOF
}

func waitLog(t *testing.T, logs *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(logs.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("the balancer's log has no %q; it says:\n%s", want, logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRefusesUntrustedUID: a process of another uid than the trusted one
// is refused, the refusal logged with its pid and uid, and a client's
// connection is not handed to it.
func TestRefusesUntrustedUID(t *testing.T) {
	b, addr, ctl, logs := startLogged(t, func(b *Balancer) {
		b.TrustUID = os.Getuid() + 1 // this process is now a stranger
		b.Wait = 200 * time.Millisecond
	})
	c := dialControl(t, ctl)
	if !closedByBalancer(t, c) {
		t.Fatal("the balancer kept a registration from an untrusted uid open")
	}
	waitLog(t, logs, fmt.Sprintf("refused a registration: pid %d uid %d: only uid %d may register", os.Getpid(), os.Getuid(), b.TrustUID))
	if b.APIs() != 0 || b.Refused[RefusedUID].Load() != 1 {
		t.Fatalf("%d APIs registered, %d refused for their uid; want 0 and 1", b.APIs(), b.Refused[RefusedUID].Load())
	}
	if s := ask(t, addr); s != "" || b.Handed.Load() != 0 {
		t.Fatalf("a client's connection was handed over (%q, %d handed) with no trusted API registered", s, b.Handed.Load())
	}
}

// TestRefusesPastBackends: with MaxBackends registered, one more is
// refused and logged; when a registered API leaves, its slot is free.
func TestRefusesPastBackends(t *testing.T) {
	b, addr, ctl, logs := startLogged(t, nil)
	r1 := api(t, ctl, "one")
	api(t, ctl, "two")
	waitAPIs(t, b, 2)
	extra := dialControl(t, ctl)
	if !closedByBalancer(t, extra) {
		t.Fatal("a third registration was kept open with -backends 2")
	}
	waitLog(t, logs, fmt.Sprintf("refused a registration: pid %d uid %d: 2 APIs are registered", os.Getpid(), os.Getuid()))
	if b.Refused[RefusedFull].Load() != 1 || b.APIs() != 2 {
		t.Fatalf("%d refused as full, %d registered; want 1 and 2", b.Refused[RefusedFull].Load(), b.APIs())
	}
	for i := 0; i < 6; i++ {
		if s := ask(t, addr); s != "one" && s != "two" {
			t.Fatalf("a client got %q; want one of the registered APIs", s)
		}
	}
	r1.Close()
	waitAPIs(t, b, 1)
	api(t, ctl, "three")
	waitAPIs(t, b, 2)
}

// TestListenControlFolder: the control socket's folder is made 0700 when
// missing; one that others may enter, or that another uid owns, stops
// the balancer with a message saying what to do.
func TestListenControlFolder(t *testing.T) {
	uid := os.Getuid()
	ctl := filepath.Join(t.TempDir(), "made", "lb.sock")
	ln, err := ListenControl(ctl, uid)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	assertMode(t, filepath.Dir(ctl), 0o700)
	assertMode(t, ctl, 0o600)

	for _, mode := range []os.FileMode{0o755, 0o770, 0o711, 0o707} {
		dir := filepath.Join(t.TempDir(), "wide")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, mode)
		_, err := ListenControl(filepath.Join(dir, "lb.sock"), uid)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("mode %04o", mode)) || !strings.Contains(err.Error(), "chmod 0700") {
			t.Errorf("a folder of mode %04o: %v; want a refusal naming the mode and the fix", mode, err)
		}
	}

	file := filepath.Join(t.TempDir(), "lb.sock")
	os.WriteFile(file, nil, 0o600)
	os.Chmod(filepath.Dir(file), 0o700)
	if _, err := ListenControl(file, uid); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("a regular file at the socket's path: %v; want a refusal", err)
	}

	if uid != 0 {
		t.Log("not root: the folder owned by another uid is not tried")
		return
	}
	other := filepath.Join(t.TempDir(), "other")
	os.Mkdir(other, 0o700)
	os.Chown(other, 65534, -1)
	if _, err := ListenControl(filepath.Join(other, "lb.sock"), 0); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Errorf("a folder of uid 65534 for APIs of uid 0: %v; want a refusal", err)
	}
	// Made for APIs of another uid, the folder and socket are theirs.
	theirs := filepath.Join(t.TempDir(), "theirs", "lb.sock")
	ln2, err := ListenControl(theirs, 65534)
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	for _, p := range []string{filepath.Dir(theirs), theirs} {
		if st, _ := os.Lstat(p); ownerOf(st) != 65534 {
			t.Errorf("%s belongs to uid %d; want 65534", p, ownerOf(st))
		}
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != want {
		t.Errorf("%s has mode %04o; want %04o", path, st.Mode().Perm(), want)
	}
}

// TestMetrics: the counters are written with their values, every reason
// at 0 too.
func TestMetrics(t *testing.T) {
	b, addr, ctl := start(t)
	api(t, ctl, "one")
	waitAPIs(t, b, 1)
	ask(t, addr)
	b.Refused[RefusedUID].Add(3)
	var out strings.Builder
	b.WritePrometheus(&out)
	for _, want := range []string{
		"fraudknn_lb_connections_handed_total 1\n",
		"fraudknn_lb_connections_dropped_total 0\n",
		"fraudknn_lb_backends 1\n",
		`fraudknn_lb_registrations_refused_total{reason="uid"} 3` + "\n",
		`fraudknn_lb_registrations_refused_total{reason="full"} 0` + "\n",
		"# TYPE fraudknn_lb_registrations_refused_total counter\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the metrics lack %q:\n%s", want, out.String())
		}
	}
}
