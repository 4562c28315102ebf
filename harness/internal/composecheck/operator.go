package composecheck

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"fraudknn/internal/testenv"
)

// operatorRoutes checks both sides of the operator listeners: through
// port 9999, the way a client comes, /metrics and the explain route
// answer 404; on the operator network, the way an operator or a
// Prometheus comes (here from the host), each API's listener serves its
// metrics, naming the artifact it serves, which must be the one .env
// pins, and explains SPEC.md's first example; the fd-passing balancer's
// serves its own metrics there.
func (c *check) operatorRoutes() error {
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/metrics", ""},
		{"POST", "/fraud-score/explain", testenv.SpecLegit},
		{"GET", "/fraud-score/explain", ""},
	} {
		code, body, err := ask(r.method, URL+r.path, r.body)
		if err != nil {
			return err
		}
		if code != http.StatusNotFound {
			return fmt.Errorf("%s %s through port 9999 answered %d, want 404: an operator route is public (%.120s)", r.method, r.path, code, body)
		}
	}
	pin, err := pinnedDigest(c.File)
	if err != nil {
		return err
	}
	c.report.Digest = pin
	for _, api := range c.apis() {
		base, err := c.operatorURL(api, "9101")
		if err != nil {
			return err
		}
		code, body, err := ask("GET", base+"/metrics", "")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("%s's operator listener (%s/metrics, on its internal network): %d %v", api, base, code, err)
		}
		if want := fmt.Sprintf(`fraudknn_info{artifact_sha256="%s"`, pin); !strings.Contains(body, want) {
			info := regexp.MustCompile(`fraudknn_info\{[^}]*\}`).FindString(body)
			return fmt.Errorf("%s serves an artifact other than the one .env pins (%s): its metrics say %s", api, pin, info)
		}
		code, body, err = ask("POST", base+"/fraud-score/explain", testenv.SpecLegit)
		if err != nil || code != http.StatusOK || !strings.Contains(body, `"neighbors":[{`) {
			return fmt.Errorf("%s's explain route on its operator listener: %d %v %.200s", api, code, err, body)
		}
	}
	if c.report.Balancer == "lb" {
		base, err := c.operatorURL("lb", "9103")
		if err != nil {
			return err
		}
		if code, body, err := ask("GET", base+"/metrics", ""); err != nil || code != http.StatusOK || !strings.Contains(body, "fraudknn_lb_backends 2") {
			return fmt.Errorf("lb's operator listener (%s/metrics): %d %v; want fraudknn_lb_backends 2 (%.200s)", base, code, err, body)
		}
	}
	return nil
}

// operatorURL returns http://IP:port of service name on its internal
// network, the one a Prometheus beside the APIs would use.
func (c *check) operatorURL(name, port string) (string, error) {
	ct, err := c.p.Service(name)
	if err != nil {
		return "", err
	}
	var nets []string
	for n := range ct.NetworkSettings.Networks {
		nets = append(nets, n)
	}
	slices.Sort(nets)
	for _, n := range nets {
		out, err := Docker("network", "inspect", "-f", "{{.Internal}}", n)
		if err == nil && strings.TrimSpace(out) == "true" && ct.NetworkSettings.Networks[n].IPAddress != "" {
			return "http://" + ct.NetworkSettings.Networks[n].IPAddress + ":" + port, nil
		}
	}
	return "", fmt.Errorf("%s is on no internal network (%v), where its operator listener would be reached", name, nets)
}

// pinnedDigest reads the artifact's pin from the .env beside the compose
// file.
func pinnedDigest(file string) (string, error) {
	env := filepath.Join(filepath.Dir(file), ".env")
	b, err := os.ReadFile(env)
	if err != nil {
		return "", fmt.Errorf("the artifact's pin: %w (make pin writes it)", err)
	}
	m := regexp.MustCompile(`(?m)^FRAUDKNN_ARTIFACT_SHA256=([0-9a-f]{64})$`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s pins no artifact (FRAUDKNN_ARTIFACT_SHA256=64 hex digits); make pin writes it", env)
	}
	return string(m[1]), nil
}

// ask sends one request and returns the status and body.
func ask(method, url, body string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}
