package e2e

// The public port's routes and its handling of slow and idle clients,
// tried as an attacker would: raw requests to FRAUDKNN_URL (nginx on
// 9999, or cmd/lb handing the connection to an API's fasthttp), and the
// operator listeners named by FRAUDKNN_OPERATORS. docs/SECURITY.md maps
// each finding to the test here that shows it closed.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fraudknn/internal/fdpass"
	"fraudknn/internal/server"
	"fraudknn/internal/testenv"
)

// balancer says what answers at FRAUDKNN_URL: "nginx" when the answer
// carries nginx's Server header, else "fdpass" (cmd/lb hands the
// connection over, and the API's fasthttp, which sends no Server header,
// answers).
func balancer(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url + "/ready")
	if err != nil {
		t.Fatalf("GET %s/ready: %v", url, err)
	}
	resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Server"), "nginx") {
		return "nginx"
	}
	return "fdpass"
}

// hostPort returns the host:port of a base URL.
func hostPort(t *testing.T, base string) string {
	t.Helper()
	u, err := neturl.Parse(base)
	if err != nil || u.Host == "" {
		t.Fatalf("FRAUDKNN_URL %q is not a URL like http://127.0.0.1:9999", base)
	}
	return u.Host
}

// rawExchange sends request, byte for byte, on a new connection to addr
// and reads one answer. It bypasses Go's client, which would clean the
// path up before an attacker's spelling reached the server.
func rawExchange(t *testing.T, addr, request string) (*http.Response, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	method, _, _ := strings.Cut(request, " ")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%.60q: no answer: %v", request, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestSecurityPublicPortRoutes asks the public port for the operator's
// routes and others, spelled as an attacker might to slip past an exact
// match: each gets a JSON 404, and no answer carries neighbours or
// metrics.
func TestSecurityPublicPortRoutes(t *testing.T) {
	url := stackURL(t)
	addr := hostPort(t, url)
	t.Logf("balancer at %s: %s", url, balancer(t, url))
	post := func(target string) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", target, len(testenv.SpecLegit), testenv.SpecLegit)
	}
	get := func(target string) string {
		return fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
	}
	for _, req := range []string{
		post(server.ExplainPath),
		post(server.ExplainPath + "?x=1"),
		post("//fraud-score/explain"),
		post("/fraud-score/./explain"),
		post("/fraud-score/%65xplain"),
		post("/fraud-score%2Fexplain"),
		post("/ready/../fraud-score/explain"),
		post("/fraud-score/explain/"),
		post("/FRAUD-SCORE/EXPLAIN"),
		post("http://x/fraud-score/explain"),
		get(server.ExplainPath),
		get(server.MetricsPath),
		get("/metrics/"),
		get("/ready/../metrics"),
		get("/%6detrics"),
		get("/debug/pprof/"),
		get("/"),
		get("/index.html"),
		post("/fraud-score/"),
	} {
		resp, body := rawExchange(t, addr, req)
		line := strings.SplitN(req, "\r\n", 2)[0]
		if resp.StatusCode != 404 || !strings.Contains(testenv.ErrorText(body), "no such path") || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d (%s) %.200s; want a JSON 404", line, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if strings.Contains(body, "neighbors") || strings.Contains(body, "fraudknn_") {
			t.Errorf("%s: the public port leaked operator data: %.200s", line, body)
		}
	}
}

// TestSecurityPublicPortMethods: a wrong method on either public route
// gets a JSON 405 with Allow, from nginx or the API alike.
func TestSecurityPublicPortMethods(t *testing.T) {
	url := stackURL(t)
	addr := hostPort(t, url)
	for _, c := range []struct{ method, path, allow, want string }{
		{"GET", "/fraud-score", "POST", "use POST"},
		{"PUT", "/fraud-score", "POST", "use POST"},
		{"DELETE", "/fraud-score", "POST", "use POST"},
		{"OPTIONS", "/fraud-score", "POST", "use POST"},
		{"POST", "/ready", "GET, HEAD", "use GET"},
		{"DELETE", "/ready", "GET, HEAD", "use GET"},
	} {
		req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", c.method, c.path)
		resp, body := rawExchange(t, addr, req)
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != c.allow || !strings.Contains(testenv.ErrorText(body), c.want) {
			t.Errorf("%s %s: %d (Allow %q) %.200s; want 405, Allow %q, a JSON error saying %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), body, c.allow, c.want)
		}
	}
	// And the two routes still answer.
	if resp, body := rawExchange(t, addr, fmt.Sprintf("POST /fraud-score HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(testenv.SpecFraud), testenv.SpecFraud)); resp.StatusCode != 200 || body != testenv.SpecFraudAnswer {
		t.Errorf("POST /fraud-score: %d %s", resp.StatusCode, body)
	}
	if resp, body := rawExchange(t, addr, "HEAD /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD /ready: %d %q", resp.StatusCode, body)
	}
}

// TestSecurityOperatorListeners: each API's operator listener explains
// (5 neighbours with their positions and labels) and serves the metrics,
// including what the instance serves; it listens on loopback only, so
// none of the host's other addresses reach it.
func TestSecurityOperatorListeners(t *testing.T) {
	for _, base := range operatorURLs(t) {
		code, body, _ := post(t, "POST", base+server.ExplainPath, testenv.SpecFraud)
		var e struct {
			Neighbors []struct {
				Position *uint32 `json:"position"`
				Label    string  `json:"label"`
			} `json:"neighbors"`
		}
		if err := json.Unmarshal([]byte(body), &e); code != 200 || err != nil || len(e.Neighbors) != 5 || e.Neighbors[0].Position == nil || e.Neighbors[0].Label == "" {
			t.Errorf("%s explain: %d %v %.300s; want 5 neighbours", base, code, err, body)
		}
		code, body, h := post(t, "GET", base+server.MetricsPath, "")
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.Contains(body, "fraudknn_ready 1\n") || !strings.Contains(body, "fraudknn_info{") {
			t.Errorf("%s metrics: %d (%s) %.300s", base, code, h.Get("Content-Type"), body)
		}
		u, _ := neturl.Parse(base)
		host, port, _ := net.SplitHostPort(u.Host)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			t.Errorf("operator listener %s is not on a loopback address", base)
			continue
		}
		for _, ip := range hostAddresses(t) {
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), port), time.Second); err == nil {
				c.Close()
				t.Errorf("the operator port %s answers on the host's address %s, not only on loopback", port, ip)
			}
		}
	}
}

// hostAddresses returns the host's own non-loopback IP addresses.
func hostAddresses(t *testing.T) []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var ips []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			ips = append(ips, n.IP)
		}
	}
	return ips
}

// clientTimeouts are the limits a client of the public port meets, read
// from the configuration of what answers there.
type clientTimeouts struct {
	header time.Duration // a request's header (nginx) or whole request (the API), from the connection's start
	body   time.Duration // a started body falling silent
	idle   time.Duration // a kept-alive connection between requests
	source string        // where the figures come from
}

// timeoutsFor returns the limits under the balancer that answers: nginx's
// from nginx/nginx.conf; behind cmd/lb, the API's fasthttp settings
// (server.DefaultOptions' read timeout, and the idle timeout cmd/api
// gives the connections cmd/lb hands over), since the client talks to
// the API directly.
func timeoutsFor(t *testing.T, bal string) clientTimeouts {
	t.Helper()
	if bal == "fdpass" {
		o := server.DefaultOptions
		return clientTimeouts{header: o.ReadTimeout, body: o.ReadTimeout, idle: fdpass.IdleTimeout, source: "server.DefaultOptions and fdpass.IdleTimeout (cmd/lb hands the connection to the API)"}
	}
	conf, err := os.ReadFile("../../nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	return clientTimeouts{
		header: nginxSeconds(t, conf, "client_header_timeout"),
		body:   nginxSeconds(t, conf, "client_body_timeout"),
		idle:   nginxSeconds(t, conf, "keepalive_timeout"),
		source: "nginx/nginx.conf",
	}
}

// nginxSeconds returns directive's value in seconds ("5s") in the server
// block that listens on 9999, which must set it.
func nginxSeconds(t *testing.T, conf []byte, directive string) time.Duration {
	t.Helper()
	i := strings.Index(string(conf), "listen 9999")
	if i < 0 {
		t.Fatal("nginx/nginx.conf has no server listening on 9999")
	}
	m := regexp.MustCompile(`(?m)^\s*` + directive + `\s+(\d+)s;`).FindSubmatch(conf[i:])
	if m == nil {
		t.Fatalf("nginx/nginx.conf's public server does not set %s in seconds (its default of 60 s or more lets slow clients hold connections)", directive)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return time.Duration(n) * time.Second
}

// closeMargin is how much later than its timeout a connection may be seen
// closed: timer granularity, a busy machine, the drip's own period.
const closeMargin = 2 * time.Second

// waitClosed reads conn until the server closes it (EOF or a reset; an
// answer such as a 408 before the close is read and ignored) or limit
// passes, and returns when that was, measured from start.
func waitClosed(conn net.Conn, start time.Time, limit time.Duration) (time.Duration, bool) {
	conn.SetReadDeadline(start.Add(limit))
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return time.Since(start), false
		}
		return time.Since(start), true
	}
}

// checkClosedAround fails unless the connection was closed between 80% of
// want and want plus closeMargin.
func checkClosedAround(t *testing.T, what string, took time.Duration, closed bool, want time.Duration, source string) {
	t.Helper()
	if !closed {
		t.Fatalf("%s: still open after %v; %s says it is closed after %v", what, took.Round(time.Millisecond), source, want)
	}
	if took < want*8/10 {
		t.Fatalf("%s: closed after %v, well before the %v %s sets: something else closed it", what, took.Round(time.Millisecond), want, source)
	}
	t.Logf("%s: closed after %v (limit %v, %s)", what, took.Round(time.Millisecond), want, source)
}

// TestSecuritySlowClients opens, each on its own connection at once: a
// header dripped one byte every 500 ms, a connection that sends nothing,
// a body that falls silent after its header, and a connection idle after
// one answered request. Each is closed by the server within the timeout
// its configuration gives (plus closeMargin).
func TestSecuritySlowClients(t *testing.T) {
	url := stackURL(t)
	addr := hostPort(t, url)
	bal := balancer(t, url)
	to := timeoutsFor(t, bal)
	if to.idle > 30*time.Second {
		t.Errorf("behind %s an idle kept-alive client holds its connection for %v (%s); it must be a few seconds", bal, to.idle, to.source)
		to.idle = 0 // not waited for: that figure is the finding itself
	}
	dial := func(t *testing.T) (net.Conn, time.Time) {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, time.Now()
	}
	t.Run("header drip", func(t *testing.T) {
		t.Parallel()
		c, start := dial(t)
		io.WriteString(c, "POST /fraud-score HTTP/1.1\r\nHost: x\r\nX-Drip: ")
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() { // one byte every 500 ms until the server closes
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(500 * time.Millisecond):
					if _, err := c.Write([]byte("a")); err != nil {
						return
					}
				}
			}
		}()
		took, closed := waitClosed(c, start, to.header+closeMargin+time.Second)
		close(stop)
		wg.Wait()
		checkClosedAround(t, "a header dripped a byte every 500 ms", took, closed, to.header, to.source)
	})
	t.Run("silent connection", func(t *testing.T) {
		t.Parallel()
		c, start := dial(t)
		took, closed := waitClosed(c, start, to.header+closeMargin+time.Second)
		checkClosedAround(t, "a connection that sends nothing", took, closed, to.header, to.source)
	})
	t.Run("silent body", func(t *testing.T) {
		t.Parallel()
		c, start := dial(t)
		io.WriteString(c, "POST /fraud-score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"id\":")
		took, closed := waitClosed(c, start, to.body+closeMargin+time.Second)
		checkClosedAround(t, "a body that falls silent", took, closed, to.body, to.source)
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		if to.idle == 0 {
			t.Skip("not waited for: the idle limit is reported above as too long")
		}
		t.Parallel()
		c, _ := dial(t)
		fmt.Fprintf(c, "POST /fraud-score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(testenv.SpecLegit), testenv.SpecLegit)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("the request before going idle: %d", resp.StatusCode)
		}
		start := time.Now()
		took, closed := waitClosed(&readerConn{c, r}, start, to.idle+closeMargin+time.Second)
		checkClosedAround(t, "a kept-alive connection left idle", took, closed, to.idle, to.source)
	})
}

// readerConn reads through the buffered reader that already holds what
// the server sent, and does the rest on the connection.
type readerConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *readerConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// TestSecurityPerClientLimit fills nginx's per-address limit with
// requests in progress, each holding a body of almost 64 KiB that nginx
// buffers, and checks that the next one from the same address is refused
// with a JSON 429 while those are held, that nginx kept every one of them
// (under its memory limit in the stack's cgroup, none was dropped), that
// the limit is above the contest's 250 connections, and that the port
// answers normally once they are gone. Behind cmd/lb there is no
// per-address limit (the API's connection limit and its idle handling
// stand in its place, security_lb_test.go), so it is skipped there.
func TestSecurityPerClientLimit(t *testing.T) {
	url := stackURL(t)
	if bal := balancer(t, url); bal != "nginx" {
		t.Skipf("skipping: %s has no per-address connection limit; nginx's is what this tests", bal)
	}
	addr := hostPort(t, url)
	conf, err := os.ReadFile("../../nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*limit_conn perclient (\d+);`).FindSubmatch(conf)
	if m == nil {
		t.Fatal("nginx/nginx.conf sets no `limit_conn perclient N;`")
	}
	limit, _ := strconv.Atoi(string(m[1]))
	if limit <= 250 {
		t.Fatalf("limit_conn perclient %d: the contest's k6 run holds up to 250 connections from one address and must never meet it", limit)
	}
	held := make([]net.Conn, 0, limit)
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	body := strings.Repeat("x", server.MaxBodySize-1024) // all but the last KiB
	for range limit {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("connection %d of %d: %v", len(held)+1, limit, err)
		}
		held = append(held, c)
		fmt.Fprintf(c, "POST /fraud-score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", server.MaxBodySize, body)
	}
	time.Sleep(300 * time.Millisecond) // nginx reads every header and body so far
	resp, answer := rawExchange(t, addr, fmt.Sprintf("POST /fraud-score HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(testenv.SpecLegit), testenv.SpecLegit))
	if resp.StatusCode != 429 || testenv.ErrorText(answer) == "" {
		t.Fatalf("with %d requests in progress from this address, the next got %d %.200s; want a JSON 429", limit, resp.StatusCode, answer)
	}
	dropped := 0
	for _, c := range held {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
			dropped++
		}
	}
	if dropped > 0 {
		t.Fatalf("%d of the %d held requests were closed or answered before their bodies were complete (nginx out of memory?)", dropped, limit)
	}
	t.Logf("%d requests in progress, each with %d bytes of body buffered: the next was refused with 429, none was dropped", limit, len(body))
	for _, c := range held {
		c.Close()
	}
	held = held[:0]
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, answer := rawExchange(t, addr, fmt.Sprintf("POST /fraud-score HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(testenv.SpecLegit), testenv.SpecLegit))
		if resp.StatusCode == 200 && answer == testenv.SpecLegitAnswer {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("3 s after the held requests closed: %d %s", resp.StatusCode, answer)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestSecurityAmbiguousBodies sends requests whose body length two
// servers could read differently, the ground of request smuggling:
// Content-Length with Transfer-Encoding, two Content-Lengths, a transfer
// coding other than chunked. Each is refused (400 or 501), and what
// follows it on the connection, a request for the explain route, is
// never answered as a request of its own.
func TestSecurityAmbiguousBodies(t *testing.T) {
	url := stackURL(t)
	addr := hostPort(t, url)
	smuggled := "POST " + server.ExplainPath + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
	for _, c := range []struct{ name, head, body string }{
		{"Content-Length and Transfer-Encoding", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"},
		{"two Content-Lengths", "Content-Length: 0\r\nContent-Length: 5\r\n", ""},
		{"Transfer-Encoding gzip", "Transfer-Encoding: gzip\r\n", "0\r\n\r\n"},
		{"Transfer-Encoding gzip, chunked", "Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"},
	} {
		conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, "POST /fraud-score HTTP/1.1\r\nHost: x\r\n"+c.head+"\r\n"+c.body+smuggled)
		r := bufio.NewReader(conn)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			conn.Close()
			t.Errorf("%s: no answer: %v", c.name, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 && resp.StatusCode != 501 {
			t.Errorf("%s: %d %.200s; want 400 or 501", c.name, resp.StatusCode, body)
		}
		if second, err := http.ReadResponse(r, nil); err == nil {
			b, _ := io.ReadAll(second.Body)
			t.Errorf("%s: the bytes after it were answered as a request: %d %.200s", c.name, second.StatusCode, b)
		}
		conn.Close()
		t.Logf("%s: %d", c.name, resp.StatusCode)
	}
}
