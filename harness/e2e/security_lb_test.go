package e2e

// The trust tests of the balancers, through the path an attacker uses:
// port 9999, and cmd/lb's control socket (-balancer fdpass). Those of the
// control socket need the native stack's fdpass balancer (its metrics
// answer on 127.0.0.1:9103) and find its socket in the stack's newest
// run folder (FRAUDKNN_RUN names one instead); they skip otherwise.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"fraudknn/internal/server"
	"fraudknn/internal/testenv"
)

// lbOperator is where the native stack's cmd/lb serves its metrics.
const lbOperator = "127.0.0.1:9103"

// lbStack is the fdpass stack under test: its control socket and log.
type lbStack struct {
	url, control, log string
}

// needLB returns the running fdpass stack, or skips.
func needLB(t *testing.T) lbStack {
	t.Helper()
	url := stackURL(t)
	if _, err := lbMetrics(); err != nil {
		t.Skipf("skipping: no cmd/lb metrics at %s (%v): the stack does not run -balancer fdpass", lbOperator, err)
	}
	run := os.Getenv("FRAUDKNN_RUN")
	if run == "" {
		run = newestLBRun()
	}
	control := filepath.Join(run, "lb", "lb.sock")
	if _, err := os.Lstat(control); run == "" || err != nil {
		t.Skipf("skipping: cmd/lb's control socket not found (%q); set FRAUDKNN_RUN to the stack's run folder", control)
	}
	return lbStack{url: url, control: control, log: filepath.Join(run, "nginx.log")}
}

// newestLBRun returns the newest run folder with a cmd/lb control socket
// in the first runs folder found walking up from here.
func newestLBRun() string {
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		socks, _ := filepath.Glob(filepath.Join(d, "runs", "*", "lb", "lb.sock"))
		var newest string
		var when time.Time
		for _, s := range socks {
			if st, err := os.Lstat(s); err == nil && st.ModTime().After(when) {
				newest, when = filepath.Dir(filepath.Dir(s)), st.ModTime()
			}
		}
		if newest != "" || filepath.Dir(d) == d {
			return newest
		}
	}
}

func lbMetrics() (string, error) {
	resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + lbOperator + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && !strings.Contains(string(b), "fraudknn_lb_backends") {
		err = errors.New("not cmd/lb's metrics")
	}
	return string(b), err
}

// lbMetric returns the value of the sample named exactly series.
func lbMetric(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in the metrics:\n%s", series, text)
	return 0
}

func refused(t *testing.T, reason string) float64 {
	t.Helper()
	m, err := lbMetrics()
	if err != nil {
		t.Fatal(err)
	}
	return lbMetric(t, m, `fraudknn_lb_registrations_refused_total{reason="`+reason+`"}`)
}

// waitLogLine waits up to 2 s for cmd/lb's log to hold want.
func waitLogLine(t *testing.T, path, want string) {
	t.Helper()
	var b []byte
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, _ = os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return
		}
	}
	t.Errorf("cmd/lb's log %s has no %q; it ends:\n%s", path, want, lastLines(string(b), 5))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// askFraud sends SPEC.md's fraud example on a connection of its own and
// checks the answer is the real one (a forged backend would approve).
func askFraud(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Post(url+"/fraud-score", "application/json", strings.NewReader(testenv.SpecFraud))
	if err != nil {
		t.Errorf("a client's request: %v", err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != testenv.SpecFraudAnswer {
		t.Errorf("a client got %d %s; want 200 %s", resp.StatusCode, b, testenv.SpecFraudAnswer)
	}
}

// TestLBControlFolder: the control socket is in a folder only its owner
// may enter, and the socket is its owner's alone.
func TestLBControlFolder(t *testing.T) {
	lb := needLB(t)
	for path, want := range map[string]os.FileMode{filepath.Dir(lb.control): 0o700, lb.control: 0o600} {
		st, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %04o; want %04o", path, st.Mode().Perm(), want)
		}
	}
}

// TestLBRefusesOtherUID runs a forged backend as uid 65534 (nobody): it
// cannot reach the control socket through its folder; given
// CAP_DAC_OVERRIDE to get past the folder, it is refused by its uid, the
// refusal is logged with its pid and uid, and it receives no client
// connection, while the clients get the real answers.
func TestLBRefusesOtherUID(t *testing.T) {
	lb := needLB(t)
	if os.Getuid() != 0 {
		t.Skip("skipping: running a process as another uid needs root")
	}
	bin := copyTestBinary(t)

	out, pid := forge(t, bin, lb.control, false)
	if !strings.Contains(out, "forge: dial failed") || !strings.Contains(out, "permission denied") {
		t.Errorf("a process of uid 65534 dialling the control socket: %q; want permission denied by the folder", out)
	}

	before := refused(t, "uid")
	done := make(chan string, 1)
	var cmd *exec.Cmd
	cmd, pid = startForge(t, bin, lb.control, true)
	go func() { done <- finishForge(t, cmd) }()
	for i := 0; i < 8; i++ {
		askFraud(t, lb.url)
	}
	out = <-done
	if !strings.Contains(out, "forge: connected") || !strings.Contains(out, "forge: ended after 0 connections: EOF") {
		t.Errorf("a forged backend of uid 65534 past the folder: %q; want connected, then closed by the balancer with no connection handed", out)
	}
	waitLogLine(t, lb.log, fmt.Sprintf("refused a registration: pid %d uid 65534: only uid %d may register", pid, os.Getuid()))
	if after := refused(t, "uid"); after != before+1 {
		t.Errorf("registrations refused for their uid went from %v to %v; want one more", before, after)
	}
}

// TestLBRefusesPastBackends registers a third backend from the trusted
// uid while the two APIs are registered: it is refused and logged, gets
// no client connection, and the clients get the real answers.
func TestLBRefusesPastBackends(t *testing.T) {
	lb := needLB(t)
	if st, err := os.Lstat(filepath.Dir(lb.control)); err != nil || int(st.Sys().(*syscall.Stat_t).Uid) != os.Getuid() {
		t.Skip("skipping: this test must run as the uid the stack's APIs run as")
	}
	before := refused(t, "full")
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: lb.control, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan string, 1)
	go func() { n, err := receiveConns(c, 3*time.Second); got <- fmt.Sprintf("%d connections: %v", n, err) }()
	for i := 0; i < 8; i++ {
		askFraud(t, lb.url)
	}
	if s := <-got; s != "0 connections: EOF" {
		t.Errorf("a third backend with -backends 2: %s; want closed by the balancer with no connection (0 connections: EOF)", s)
	}
	waitLogLine(t, lb.log, fmt.Sprintf("refused a registration: pid %d uid %d: 2 APIs are registered, as many as -backends allows", os.Getpid(), os.Getuid()))
	if after := refused(t, "full"); after != before+1 {
		t.Errorf("registrations refused as full went from %v to %v; want one more", before, after)
	}
}

// receiveConns reads a control connection as a backend would, answering
// each client connection it is handed with a forged approval, until the
// connection ends or the time is up; it returns how many it got.
func receiveConns(c *net.UnixConn, limit time.Duration) (int, error) {
	c.SetReadDeadline(time.Now().Add(limit))
	buf, oob := make([]byte, 64), make([]byte, syscall.CmsgSpace(64*4))
	got := 0
	for {
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if errors.Is(err, io.EOF) {
			return got, io.EOF // closed by the balancer
		}
		if err != nil {
			return got, err
		}
		msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			fds, _ := syscall.ParseUnixRights(&m)
			for _, fd := range fds {
				got++
				forged := `{"approved":true,"fraud_score":0.0}`
				fmt.Fprintf(os.NewFile(uintptr(fd), "client"), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(forged), forged)
				syscall.Close(fd)
			}
		}
	}
}

// TestLBForgedBackendChild is the forged backend TestLBRefusesOtherUID
// runs as another uid; it does nothing in a normal run.
func TestLBForgedBackendChild(t *testing.T) {
	path := os.Getenv("FRAUDKNN_FORGE_CONTROL")
	if path == "" {
		t.Skip("the forged backend of TestLBRefusesOtherUID; runs only as its child")
	}
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		fmt.Printf("forge: dial failed: %v\n", err)
		return
	}
	fmt.Println("forge: connected")
	n, err := receiveConns(c, 3*time.Second)
	fmt.Printf("forge: ended after %d connections: %v\n", n, err)
}

// copyTestBinary copies this test binary where uid 65534 may run it.
func copyTestBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "forge") // t.TempDir's parent is 0700
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "forge.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// startForge starts the forged backend as uid 65534, with
// CAP_DAC_OVERRIDE (which passes any folder's mode) if pastFolder.
func startForge(t *testing.T, bin, control string, pastFolder bool) (*exec.Cmd, int) {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^TestLBForgedBackendChild$", "-test.count=1")
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = []string{"FRAUDKNN_FORGE_CONTROL=" + control}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if pastFolder {
		cmd.SysProcAttr.AmbientCaps = []uintptr{unix.CAP_DAC_OVERRIDE}
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a process as uid 65534: %v", err)
	}
	return cmd, cmd.Process.Pid
}

func finishForge(t *testing.T, cmd *exec.Cmd) string {
	cmd.Wait()
	return cmd.Stdout.(*strings.Builder).String()
}

func forge(t *testing.T, bin, control string, pastFolder bool) (string, int) {
	t.Helper()
	cmd, pid := startForge(t, bin, control, pastFolder)
	return finishForge(t, cmd), pid
}

// TestIdleClientsCannotLockOut fills the APIs' connection limit with
// clients that ask once and then stay idle, from several addresses, and
// then checks that new clients are answered within a second each. Behind
// nginx the idle clients hold only nginx's connections; behind cmd/lb
// they hold the APIs' own.
func TestIdleClientsCannotLockOut(t *testing.T) {
	url := stackURL(t)
	port := strings.TrimPrefix(url[strings.LastIndex(url, ":"):], ":")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Skipf("skipping: the idle clients come from 127.0.0.2-9, which reach only a stack on 127.0.0.1 (FRAUDKNN_URL is %s)", url)
	}
	limit := apiMaxConns()
	n := 2*limit + 64
	idle := fillIdle(t, "127.0.0.1:"+port, n)
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	time.Sleep(500 * time.Millisecond) // idle means idle
	for i := 0; i < 6; i++ {
		start := time.Now()
		status, body := askOnce("127.0.0.1:"+port, "127.0.0.1", time.Second)
		if took := time.Since(start); status != 200 || body != testenv.SpecLegitAnswer || took > time.Second {
			t.Errorf("new client %d behind %d idle ones (APIs limited to %d connections each): %d %q after %v; want 200 %s within a second", i, len(idle), limit, status, body, took.Round(time.Millisecond), testenv.SpecLegitAnswer)
		}
	}
	t.Logf("%d idle clients held (of %d opened); %d of them closed by the service by the end", len(idle), n, closedCount(idle))
}

// apiMaxConns returns api1's connection limit from its operator metrics,
// or the default if they do not say.
func apiMaxConns() int {
	resp, err := (&http.Client{Timeout: time.Second}).Get("http://127.0.0.1:9101/metrics")
	if err == nil {
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "fraudknn_max_connections "); ok {
				if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && n > 0 {
					return int(n)
				}
			}
		}
	}
	return server.DefaultOptions.MaxConns
}

// fillIdle opens n connections to addr, from 127.0.0.2 to 127.0.0.9 in
// turn, each asking once; it returns those that got an answer and stay
// open.
func fillIdle(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var mu sync.Mutex
	var held []net.Conn
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c, status, _ := dialAsk(addr, fmt.Sprintf("127.0.0.%d", 2+i%8), 5*time.Second)
				if c == nil {
					continue
				}
				if status != 200 {
					c.Close()
					continue
				}
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if len(held) == 0 {
		t.Fatalf("none of %d clients got an answer", n)
	}
	return held
}

// dialAsk connects to addr from the address from, sends SPEC.md's legit
// example and reads the answer; the connection stays open (nil if it
// could not be made or written).
func dialAsk(addr, from string, limit time.Duration) (net.Conn, int, string) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: limit}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, 0, err.Error()
	}
	c.SetDeadline(time.Now().Add(limit))
	req := fmt.Sprintf("POST /fraud-score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(testenv.SpecLegit), testenv.SpecLegit)
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, 0, err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return c, 0, err.Error()
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.SetDeadline(time.Time{})
	return c, resp.StatusCode, string(b)
}

// askOnce is dialAsk on a connection closed afterwards.
func askOnce(addr, from string, limit time.Duration) (int, string) {
	c, status, body := dialAsk(addr, from, limit)
	if c != nil {
		c.Close()
	}
	return status, body
}

// closedCount returns how many of conns the other end has closed.
func closedCount(conns []net.Conn) int {
	closed := 0
	var buf [1]byte
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(buf[:]); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			closed++
		}
	}
	return closed
}
