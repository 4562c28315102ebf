package server

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// These tests run against a running stack (nginx and both APIs over the
// real artifact) when FRAUDKNN_URL points at it, e.g.
//
//	make run &   # or bin/stack
//	FRAUDKNN_URL=http://127.0.0.1:9999 go test -run Stack ./internal/server

func stackURL(t *testing.T) string {
	url := os.Getenv("FRAUDKNN_URL")
	if url == "" {
		t.Skip("skipping: FRAUDKNN_URL does not point at a running stack (start one with `make run`)")
	}
	return strings.TrimRight(url, "/")
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

// SPEC.md's two worked examples, with their documented answers.
const (
	specLegit = `{"id":"tx-1329056812","transaction":{"amount":41.12,"installments":2,"requested_at":"2026-03-11T18:45:53Z"},"customer":{"avg_amount":82.24,"tx_count_24h":3,"known_merchants":["MERC-003","MERC-016"]},"merchant":{"id":"MERC-016","mcc":"5411","avg_amount":60.25},"terminal":{"is_online":false,"card_present":true,"km_from_home":29.2331036248},"last_transaction":null}`
	specFraud = `{"id":"tx-example-2","transaction":{"amount":9505.97,"installments":10,"requested_at":"2026-03-14T05:15:12Z"},"customer":{"avg_amount":81.28,"tx_count_24h":20,"known_merchants":["MERC-008","MERC-007","MERC-005"]},"merchant":{"id":"MERC-068","mcc":"7802","avg_amount":54.86},"terminal":{"is_online":false,"card_present":true,"km_from_home":952.27},"last_transaction":null}`
)

func TestStackSpecExamples(t *testing.T) {
	url := stackURL(t)
	if code, body, _ := post(t, "GET", url+"/ready", ""); code != 200 {
		t.Fatalf("/ready: %d %s", code, body)
	}
	for _, c := range []struct{ body, want string }{
		{specLegit, `{"approved":true,"fraud_score":0.0}`},
		{specFraud, `{"approved":false,"fraud_score":1.0}`},
	} {
		if code, body, h := post(t, "POST", url+"/fraud-score", c.body); code != 200 || body != c.want || h.Get("Content-Type") != "application/json" {
			t.Errorf("got %d %s (%s); want 200 %s", code, body, h.Get("Content-Type"), c.want)
		}
	}
}

// TestStackBadInputs runs the bad-input table through nginx.
func TestStackBadInputs(t *testing.T) {
	url := stackURL(t)
	for _, row := range badInputs {
		code, body, h := post(t, row.method, url+row.path, row.body)
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || code != row.status || !strings.Contains(e.Error, row.want) {
			t.Errorf("%s: %d %s; want %d with an error containing %q", row.name, code, body, row.status, row.want)
		}
		if code == 405 && h.Get("Allow") == "" {
			t.Errorf("%s: 405 without an Allow header", row.name)
		}
	}
	// A body of 3 MiB, sent whole: nginx reads and refuses it, in JSON.
	code, body, _ := post(t, "POST", url+"/fraud-score", strings.Repeat(" ", 3<<20))
	if code != 413 || !strings.Contains(body, `"error"`) {
		t.Errorf("3 MiB body: %d %s; want 413 with a JSON error", code, body)
	}
	if code, body, _ := post(t, "POST", url+"/fraud-score", specFraud); code != 200 {
		t.Fatalf("after the bad inputs: %d %s", code, body)
	}
}

// TestStackMatrix runs the whole bad-input matrix through nginx.
func TestStackMatrix(t *testing.T) {
	url := stackURL(t)
	do := func(method, path, contentType, body string) (int, string) {
		code, b, _ := postCT(t, method, url+path, contentType, body)
		return code, b
	}
	_, base := do("POST", "/fraud-score", "application/json", specLegit)
	for _, row := range matrix(specLegit) {
		checkRow(t, row, base, do)
	}
}
