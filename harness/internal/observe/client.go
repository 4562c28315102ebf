package observe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Client asks a Prometheus's HTTP API.
type Client struct{ URL string }

// Series is one time series of a query's answer.
type Series struct {
	Labels map[string]string
	Points []Point
}

// Point is one sample.
type Point struct {
	T time.Time
	V float64
}

// answer is the envelope of every API answer.
type answer struct {
	Status    string          `json:"status"`
	Error     string          `json:"error"`
	ErrorType string          `json:"errorType"`
	Data      json.RawMessage `json:"data"`
}

func (c Client) get(path string, args url.Values, into any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	u := c.URL + path
	if len(args) > 0 {
		u += "?" + args.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("asking Prometheus at %s: %w (is make observe running?)", c.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return fmt.Errorf("Prometheus at %s answered %s to %s with something not JSON: %.200s", c.URL, resp.Status, path, body)
	}
	if a.Status != "success" {
		return fmt.Errorf("Prometheus refused %s (%s): %s", u, a.ErrorType, a.Error)
	}
	return json.Unmarshal(a.Data, into)
}

// result is the data of a query or a range query.
type result struct {
	ResultType string `json:"resultType"`
	Result     []struct {
		Metric map[string]string `json:"metric"`
		Value  []any             `json:"value"`  // instant: [t, "v"]
		Values [][]any           `json:"values"` // range: [[t, "v"], ...]
	} `json:"result"`
}

// Query evaluates expr at t.
func (c Client) Query(expr string, t time.Time) ([]Series, error) {
	var r result
	args := url.Values{"query": {expr}, "time": {unix(t)}}
	if err := c.get("/api/v1/query", args, &r); err != nil {
		return nil, err
	}
	if r.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: a %s, not an instant vector", expr, r.ResultType)
	}
	out := make([]Series, 0, len(r.Result))
	for _, s := range r.Result {
		p, err := point(s.Value)
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", expr, err)
		}
		out = append(out, Series{Labels: s.Metric, Points: []Point{p}})
	}
	return out, nil
}

// QueryRange evaluates expr from start to end every step.
func (c Client) QueryRange(expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	var r result
	args := url.Values{"query": {expr}, "start": {unix(start)}, "end": {unix(end)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	if err := c.get("/api/v1/query_range", args, &r); err != nil {
		return nil, err
	}
	out := make([]Series, 0, len(r.Result))
	for _, s := range r.Result {
		ser := Series{Labels: s.Metric}
		for _, v := range s.Values {
			p, err := point(v)
			if err != nil {
				return nil, fmt.Errorf("query %q: %w", expr, err)
			}
			ser.Points = append(ser.Points, p)
		}
		out = append(out, ser)
	}
	return out, nil
}

// Target is one scrape target as the targets API reports it.
type Target struct {
	Labels     map[string]string `json:"labels"`
	ScrapeURL  string            `json:"scrapeUrl"`
	Health     string            `json:"health"`
	LastError  string            `json:"lastError"`
	LastScrape time.Time         `json:"lastScrape"`
}

// Targets returns the active scrape targets.
func (c Client) Targets() ([]Target, error) {
	var d struct {
		Active []Target `json:"activeTargets"`
	}
	err := c.get("/api/v1/targets", url.Values{"state": {"active"}}, &d)
	return d.Active, err
}

// Alert is one alert as the alerts API reports it.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"` // pending or firing
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

// Alerts returns the pending and firing alerts, and the API's answer as
// it came (for the record).
func (c Client) Alerts() ([]Alert, json.RawMessage, error) {
	var raw json.RawMessage
	if err := c.get("/api/v1/alerts", nil, &raw); err != nil {
		return nil, nil, err
	}
	var d struct {
		Alerts []Alert `json:"alerts"`
	}
	err := json.Unmarshal(raw, &d)
	return d.Alerts, raw, err
}

func point(v []any) (Point, error) {
	if len(v) != 2 {
		return Point{}, fmt.Errorf("a sample of %d fields", len(v))
	}
	t, ok := v[0].(float64)
	s, ok2 := v[1].(string)
	if !ok || !ok2 {
		return Point{}, fmt.Errorf("a sample %v not [time, \"value\"]", v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Point{}, err
	}
	return Point{T: time.UnixMilli(int64(t * 1000)), V: f}, nil
}

func unix(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}
