package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"fraudknn/internal/server"
	"fraudknn/internal/testenv"
)

func stackURL(t *testing.T) string {
	url := os.Getenv("FRAUDKNN_URL")
	if url == "" {
		t.Skip("skipping: FRAUDKNN_URL does not point at a running stack (start one with `make run`)")
	}
	return strings.TrimRight(url, "/")
}

// operatorURLs returns the base URLs of the running stack's operator
// listeners, from FRAUDKNN_OPERATORS (comma-separated host:port; the
// native stack's are 127.0.0.1:9101,127.0.0.1:9102), or skips the test.
func operatorURLs(t *testing.T) []string {
	t.Helper()
	env := os.Getenv("FRAUDKNN_OPERATORS")
	if env == "" {
		t.Skip("skipping: FRAUDKNN_OPERATORS does not name the operator listeners (`make run` serves them at 127.0.0.1:9101,127.0.0.1:9102)")
	}
	var urls []string
	for _, addr := range strings.Split(env, ",") {
		if addr = strings.TrimSpace(addr); addr != "" {
			urls = append(urls, "http://"+strings.TrimPrefix(strings.TrimRight(addr, "/"), "http://"))
		}
	}
	return urls
}

func post(t *testing.T, method, url, body string) (int, string, http.Header) {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return postCT(t, method, url, ct, body)
}

func postCT(t *testing.T, method, url, contentType, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// matrixPost is the matrix's request: postCT, except for a body larger
// than the APIs read, which postOversize sends.
func matrixPost(t *testing.T, method, url, contentType, body string) (int, string) {
	t.Helper()
	if len(body) > server.MaxBodySize {
		return postOversize(t, method, url, contentType, body)
	}
	code, b, _ := postCT(t, method, url, contentType, body)
	return code, b
}

// postOversize sends a body larger than server.MaxBodySize and reads the
// answer while it is still sending. An API talked to directly (an
// operator listener, or behind cmd/lb) answers 413 from the
// Content-Length and closes without reading on; the unread bytes make
// its kernel reset the connection, and a client that reads only once it
// has sent everything (as net/http's does) may get that reset instead of
// the 413 that came before it. nginx reads the whole body first, so
// through it either way gives the 413.
func postOversize(t *testing.T, method, rawURL, contentType, body string) (int, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		// The write fails once the server has closed: expected, ignored.
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
			method, u.RequestURI(), u.Host, contentType, len(body), body)
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s with a %d-byte body: no answer: %v", method, rawURL, len(body), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s with a %d-byte body: reading the answer: %v", method, rawURL, len(body), err)
	}
	return resp.StatusCode, string(b)
}

func TestStackSpecExamples(t *testing.T) {
	url := stackURL(t)
	if code, body, _ := post(t, "GET", url+"/ready", ""); code != 200 {
		t.Fatalf("/ready: %d %s", code, body)
	}
	for _, c := range []struct{ body, want string }{
		{testenv.SpecLegit, testenv.SpecLegitAnswer},
		{testenv.SpecFraud, testenv.SpecFraudAnswer},
	} {
		if code, body, h := post(t, "POST", url+"/fraud-score", c.body); code != 200 || body != c.want || h.Get("Content-Type") != "application/json" {
			t.Errorf("got %d %s (%s); want 200 %s", code, body, h.Get("Content-Type"), c.want)
		}
	}
}

// TestStackBadInputs runs the bad-input table through nginx.
func TestStackBadInputs(t *testing.T) {
	url := stackURL(t)
	for _, row := range testenv.BadInputs(server.MaxBodySize) {
		var code int
		var body string
		var h http.Header // stays nil for an oversize body: a 413 has no Allow to check
		if len(row.Body) > server.MaxBodySize {
			code, body = postOversize(t, row.Method, url+row.Path, "application/json", row.Body)
		} else {
			code, body, h = post(t, row.Method, url+row.Path, row.Body)
		}
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || code != row.Status || !strings.Contains(e.Error, row.Want) {
			t.Errorf("%s: %d %s; want %d with an error containing %q", row.Name, code, body, row.Status, row.Want)
		}
		if code == 405 && h.Get("Allow") == "" {
			t.Errorf("%s: 405 without an Allow header", row.Name)
		}
	}
	// A body of 3 MiB, sent whole: nginx reads and refuses it, in JSON.
	// Behind cmd/lb the API refuses it from its Content-Length and closes
	// the connection without reading on, so a client still sending may see
	// a reset instead of the 413 (the table's row above, whose body the
	// client sends before it reads, checks the 413).
	if balancer(t, url) == "nginx" {
		code, body, _ := post(t, "POST", url+"/fraud-score", strings.Repeat(" ", 3<<20))
		if code != 413 || !strings.Contains(body, `"error"`) {
			t.Errorf("3 MiB body: %d %s; want 413 with a JSON error", code, body)
		}
	}
	if code, body, _ := post(t, "POST", url+"/fraud-score", testenv.SpecFraud); code != 200 {
		t.Fatalf("after the bad inputs: %d %s", code, body)
	}
}

// TestStackMatrix runs the whole bad-input matrix through nginx.
func TestStackMatrix(t *testing.T) {
	url := stackURL(t)
	do := func(method, path, contentType, body string) (int, string) {
		return matrixPost(t, method, url+path, contentType, body)
	}
	_, base := do("POST", "/fraud-score", "application/json", testenv.SpecLegit)
	for _, row := range testenv.Matrix(testenv.SpecLegit) {
		testenv.CheckRow(t, row, base, do)
	}
}
