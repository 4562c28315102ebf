package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fraudknn/internal/dataset"
)

// DataFile returns the path of a shared data file, or skips the test with
// a message saying where the file was looked for.
func DataFile(t testing.TB, name string) string {
	t.Helper()
	dir, ok := dataset.Dir()
	path := filepath.Join(dir, name)
	if ok {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	t.Skipf("skipping: shared data file %s not found (looked in %q; set %s to the folder holding the contest's data files)", name, dir, dataset.EnvDir)
	return ""
}

// SPEC.md's two worked examples, with their documented answers.
const (
	SpecLegit       = `{"id":"tx-1329056812","transaction":{"amount":41.12,"installments":2,"requested_at":"2026-03-11T18:45:53Z"},"customer":{"avg_amount":82.24,"tx_count_24h":3,"known_merchants":["MERC-003","MERC-016"]},"merchant":{"id":"MERC-016","mcc":"5411","avg_amount":60.25},"terminal":{"is_online":false,"card_present":true,"km_from_home":29.2331036248},"last_transaction":null}`
	SpecLegitAnswer = `{"approved":true,"fraud_score":0.0}`
	SpecFraud       = `{"id":"tx-example-2","transaction":{"amount":9505.97,"installments":10,"requested_at":"2026-03-14T05:15:12Z"},"customer":{"avg_amount":81.28,"tx_count_24h":20,"known_merchants":["MERC-008","MERC-007","MERC-005"]},"merchant":{"id":"MERC-068","mcc":"7802","avg_amount":54.86},"terminal":{"is_online":false,"card_present":true,"km_from_home":952.27},"last_transaction":null}`
	SpecFraudAnswer = `{"approved":false,"fraud_score":1.0}`
)

// BadInput is one row of the bad-input table docs/API.md shows: a request
// and the status and error text it must get.
type BadInput struct {
	Name, Method, Path, Body string
	Status                   int
	Want                     string // in the "error" text
}

// BadInputs returns the bad-input table for an API whose body limit is
// maxBody bytes.
func BadInputs(maxBody int) []BadInput {
	return []BadInput{
		{"empty body", "POST", "/fraud-score", "", 400, "empty body"},
		{"not JSON", "POST", "/fraud-score", "hello", 400, "expected an object"},
		{"truncated JSON", "POST", "/fraud-score", `{"transaction":{"amount":12`, 400, "transaction: unexpected end of input"},
		{"amount as a string", "POST", "/fraud-score", strings.Replace(SpecLegit, `"amount":41.12`, `"amount":"41.12"`, 1), 400, "transaction.amount: expected a number, got a string"},
		{"missing merchant", "POST", "/fraud-score", `{"transaction":{"amount":1,"installments":1,"requested_at":"2026-03-11T20:00:00Z"},"customer":{"avg_amount":1,"tx_count_24h":1,"known_merchants":[]},"terminal":{"is_online":true,"card_present":false,"km_from_home":1}}`, 400, "merchant: missing"},
		{"null transaction", "POST", "/fraud-score", `{"transaction":null}`, 400, "transaction: expected an object, got null"},
		{"unknown path", "GET", "/score", "", 404, "no such path"},
		{"GET on /fraud-score", "GET", "/fraud-score", "", 405, "use POST"},
		{"POST on /ready", "POST", "/ready", "{}", 405, "use GET"},
		{"body over the limit", "POST", "/fraud-score", `{"id":"` + strings.Repeat("x", maxBody) + `"}`, 413, "larger than"},
	}
}
