package e2e

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fraudknn/harness/internal/observe"
	"fraudknn/internal/testenv"
)

// dashboard is the Grafana dashboard an operator imports.
type dashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			Expr    string `json:"expr"`
			Instant bool   `json:"instant"`
			DS      struct {
				UID string `json:"uid"`
			} `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("../../observe/dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("observe/dashboard.json: %v", err)
	}
	return d
}

// TestDashboardFile checks the dashboard without a stack: every panel
// queries the data source the operator picks at import, and the panels
// cover what an operator of the service looks at.
func TestDashboardFile(t *testing.T) {
	d := loadDashboard(t)
	titles := map[string]bool{}
	var all strings.Builder
	for _, p := range d.Panels {
		if p.Title == "" || titles[p.Title] {
			t.Errorf("a panel without a title, or two called %q", p.Title)
		}
		titles[p.Title] = true
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.DS.UID != "${DS_PROMETHEUS}" {
				t.Errorf("panel %q: query %q on data source %q; want a query on ${DS_PROMETHEUS}", p.Title, q.Expr, q.DS.UID)
			}
			all.WriteString(q.Expr + "\n")
		}
	}
	for what, metric := range map[string]string{
		"request rate": "rate(fraudknn_requests_total", "latency": "fraudknn_request_duration_seconds_bucket",
		"error share": `status=~"5.."`, "decision mix": "fraudknn_decisions_total", "vectors scanned": "fraudknn_vectors_scanned",
		"CPU": "process_cpu_seconds_total", "memory": "process_resident_memory_bytes", "served digest": "fraudknn_info",
	} {
		if !strings.Contains(all.String(), metric) {
			t.Errorf("no panel shows the %s (%s)", what, metric)
		}
	}
}

// The dashboard's Grafana variables, as Grafana fills them for a 1 s
// scrape interval ($__rate_interval is at least four scrapes).
var grafanaVars = strings.NewReplacer("$__rate_interval", "4s", "$__interval", "1s")

// TestDashboardLive runs against a stack and the Prometheus scraping it
// (make run and make observe; CI starts both): it sends a known load
// through the stack, and checks that the dashboard's request count
// follows it within a scrape interval while it runs and equals it after,
// and that every panel's query returns data over the load.
//
//	FRAUDKNN_URL=http://127.0.0.1:9999 FRAUDKNN_PROMETHEUS=http://127.0.0.1:9090 go -C harness test -count=1 -run TestDashboardLive -v ./e2e
func TestDashboardLive(t *testing.T) {
	url := stackURL(t)
	prom := os.Getenv("FRAUDKNN_PROMETHEUS")
	if prom == "" {
		t.Skip("skipping: FRAUDKNN_PROMETHEUS does not point at a Prometheus scraping the stack (start one with `make observe`)")
	}
	c := observe.Client{URL: strings.TrimRight(prom, "/")}
	d := loadDashboard(t)
	// The panel counts every answer; the load's are the 200s. Other
	// clients' leftovers (a connection of an earlier test closed by the
	// API's read timeout is a 408) are answers too, so the comparison
	// takes the panel's query narrowed to status 200.
	count := strings.Replace(countQuery(t, d), `{job="api"}`, `{job="api",status="200"}`, 1)

	// Both APIs scraped, and the count settled (no traffic for two scrapes).
	if _, err := observe.WaitScraped(c, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	up, err := c.Query(`up{job="api"} == 1`, time.Now())
	if err != nil || len(up) != 2 {
		t.Fatalf("Prometheus does not see both APIs up (%v, %d up): are their operator listeners on 127.0.0.1:9101 and 9102?", err, len(up))
	}
	time.Sleep(2500 * time.Millisecond)
	before := instant(t, c, count, time.Now())

	const rate, seconds = 200, 8
	l := startLoad(url, rate, seconds*time.Second)
	scrape := time.Second
	slack := 300 * time.Millisecond // a scrape's start against its period, and our own clock reads
	checked := 0
	for !l.done() {
		time.Sleep(700 * time.Millisecond)
		at := time.Now()
		shown := instant(t, c, count, at) - before
		hi := float64(l.sentBy(at))
		lo := float64(l.answeredBy(at.Add(-scrape - slack)))
		if shown < lo || shown > hi {
			t.Errorf("at %s the dashboard showed %.0f requests; the load had answered %.0f one scrape interval before and sent %.0f by then", at.Format("15:04:05.000"), shown, lo, hi)
		}
		checked++
	}
	end := time.Now()
	if l.failed.Load() > 0 {
		t.Fatalf("%d of the load's requests failed: the count cannot be compared", l.failed.Load())
	}
	time.Sleep(scrape + slack + time.Second) // one scrape after the last answer, and its evaluation
	shown := instant(t, c, count, time.Now()) - before
	if sent := float64(l.answered.Load()); shown != sent {
		t.Errorf("after the load the dashboard shows %.0f requests; the load sent %.0f", shown, sent)
	}
	t.Logf("the load: %d requests in %v; the count checked %d times during it, and after it: %.0f", l.answered.Load(), end.Sub(l.start).Round(time.Millisecond), checked, shown)

	// Every panel's every query returns data over the load.
	lbUp, _ := c.Query(`up{job="lb"} == 1`, time.Now())
	for _, p := range d.Panels {
		if strings.Contains(p.Targets[0].Expr, `job="lb"`) && len(lbUp) == 0 {
			t.Logf("panel %q: skipped, cmd/lb is not running (the stack runs nginx)", p.Title)
			continue
		}
		for _, q := range p.Targets {
			expr := grafanaVars.Replace(q.Expr)
			series, err := c.QueryRange(expr, l.start, end, time.Second)
			if err != nil {
				t.Errorf("panel %q: %v", p.Title, err)
				continue
			}
			if n := finite(series); n == 0 {
				t.Errorf("panel %q: %s returned no data over the load (%d series)", p.Title, expr, len(series))
			}
		}
	}
}

// countQuery is the dashboard's total request count: the query the test
// compares with the load.
func countQuery(t *testing.T, d dashboard) string {
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			if regexp.MustCompile(`^sum\(fraudknn_requests_total\{job="api"\}\)$`).MatchString(q.Expr) {
				return q.Expr
			}
		}
	}
	t.Fatal(`no panel of observe/dashboard.json shows sum(fraudknn_requests_total{job="api"})`)
	return ""
}

func instant(t *testing.T, c observe.Client, expr string, at time.Time) float64 {
	t.Helper()
	s, err := c.Query(expr, at)
	if err != nil || len(s) != 1 {
		t.Fatalf("%s: %v (%d series)", expr, err, len(s))
	}
	return s[0].Points[0].V
}

// finite counts the samples of series that are numbers.
func finite(series []observe.Series) int {
	n := 0
	for _, s := range series {
		for _, p := range s.Points {
			if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
				n++
			}
		}
	}
	return n
}

// load sends SPEC.md's two examples in turn at a constant rate, and
// records when each request was sent and answered.
type load struct {
	start            time.Time
	mu               sync.Mutex
	sent, answeredAt []time.Time
	answered, failed atomic.Int64
	finished         chan struct{}
}

func startLoad(url string, rate int, length time.Duration) *load {
	l := &load{start: time.Now(), finished: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	bodies := []string{testenv.SpecLegit, testenv.SpecFraud}
	go func() {
		defer close(l.finished)
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for i := 0; time.Since(l.start) < length; i++ {
			<-tick.C
			l.mu.Lock()
			l.sent = append(l.sent, time.Now())
			l.mu.Unlock()
			wg.Go(func() {
				resp, err := client.Post(url+"/fraud-score", "application/json", strings.NewReader(bodies[i%2]))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					l.failed.Add(1)
					return
				}
				l.mu.Lock()
				l.answeredAt = append(l.answeredAt, time.Now())
				l.mu.Unlock()
				l.answered.Add(1)
			})
		}
		wg.Wait()
	}()
	return l
}

func (l *load) done() bool {
	select {
	case <-l.finished:
		return true
	default:
		return false
	}
}

// sentBy and answeredBy count the requests sent, and answered, by t.
func (l *load) sentBy(t time.Time) int     { return countBy(&l.mu, &l.sent, t) }
func (l *load) answeredBy(t time.Time) int { return countBy(&l.mu, &l.answeredAt, t) }

func countBy(mu *sync.Mutex, times *[]time.Time, t time.Time) int {
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, x := range *times {
		if !x.After(t) {
			n++
		}
	}
	return n
}
