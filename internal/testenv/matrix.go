// Package testenv holds what the tests of several packages share and no
// program links: where the shared data files are (skipping a test when
// they are absent), SPEC.md's worked examples, and the bad-input matrix
// that runs in process (internal/server) and through a running stack
// (harness/e2e).
package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// MatrixRow is one request of the bad-input matrix and what it must get.
type MatrixRow struct {
	name        string
	method      string
	path        string
	contentType string // "" sends none
	body        string
	status      int
	errText     string // for an error: text the "error" must contain
	sameAnswer  bool   // for a 200: the answer must equal the base body's
}

// fields are the required leaves of the request, with a value of the
// wrong JSON type for each.
var fields = []struct {
	path  string
	wrong any // a value of another JSON type
}{
	{"transaction.amount", "41.12"},
	{"transaction.installments", true},
	{"transaction.requested_at", 1773254753},
	{"customer.avg_amount", []any{82.24}},
	{"customer.tx_count_24h", "3"},
	{"customer.known_merchants", "MERC-003"},
	{"merchant.id", 16},
	{"merchant.mcc", 5411},
	{"merchant.avg_amount", map[string]any{"value": 60.25}},
	{"terminal.is_online", "false"},
	{"terminal.card_present", 1},
	{"terminal.km_from_home", false},
}

// decode parses a JSON object into a map, for editing.
func decode(s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic(err)
	}
	return m
}

func encode(m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// edit returns base with the value at path set to v, or removed when
// remove is set.
func edit(base, path string, v any, remove bool) string {
	m := decode(base)
	parts := strings.Split(path, ".")
	obj := m
	for _, p := range parts[:len(parts)-1] {
		obj = obj[p].(map[string]any)
	}
	if remove {
		delete(obj, parts[len(parts)-1])
	} else {
		obj[parts[len(parts)-1]] = v
	}
	return encode(m)
}

// Matrix builds the rows from base, a valid request without a last
// transaction (SPEC.md's first example).
func Matrix(base string) []MatrixRow {
	post := func(name, body string, status int, errText string) MatrixRow {
		return MatrixRow{name: name, method: "POST", path: "/fraud-score", contentType: "application/json", body: body, status: status, errText: errText}
	}
	same := func(name, body string) MatrixRow {
		r := post(name, body, 200, "")
		r.sameAnswer = true
		return r
	}
	withLast := edit(base, "last_transaction", map[string]any{"timestamp": "2026-03-11T14:58:35Z", "km_from_current": 18.86}, false)
	var rows []MatrixRow

	// Every required field: missing, of the wrong type, null.
	for _, f := range fields {
		rows = append(rows,
			post("missing "+f.path, edit(base, f.path, nil, true), 400, f.path+": missing"),
			post("wrong type for "+f.path, edit(base, f.path, f.wrong, false), 400, f.path+": expected"),
			post("null "+f.path, edit(base, f.path, nil, false), 400, f.path+": expected"),
		)
	}
	for _, obj := range []string{"transaction", "customer", "merchant", "terminal"} {
		rows = append(rows,
			post("missing "+obj, edit(base, obj, nil, true), 400, obj+": missing"),
			post("null "+obj, edit(base, obj, nil, false), 400, obj+": expected an object, got null"),
			post(obj+" as an array", edit(base, obj, []any{}, false), 400, obj+": expected an object, got an array"),
		)
	}
	for _, f := range []struct {
		path  string
		wrong any
	}{{"last_transaction.timestamp", 5}, {"last_transaction.km_from_current", "18.86"}} {
		rows = append(rows,
			post("missing "+f.path, edit(withLast, f.path, nil, true), 400, f.path+": missing"),
			post("wrong type for "+f.path, edit(withLast, f.path, f.wrong, false), 400, f.path+": expected"),
		)
	}
	rows = append(rows,
		post("last_transaction as a string", edit(base, "last_transaction", "none", false), 400, "last_transaction: expected an object or null"),
		post("id as a number", edit(base, "id", 7, false), 400, "id: expected a string"),
		post("known_merchants holding a number", edit(base, "customer.known_merchants", []any{"MERC-003", 16}, false), 400, "customer.known_merchants: expected only strings"),
	)

	// Accepted variants: the same transaction, written differently.
	unicode := strings.Replace(base, `"5411"`, `"\u0035\u0034\u0031\u0031"`, 1)
	unicode = strings.Replace(unicode, `"MERC-016","mcc"`, `"MERC\u002d016","mcc"`, 1)
	rows = append(rows,
		same("keys in another order", encode(decode(base))),
		same("extra unknown fields everywhere", strings.Replace(strings.Replace(base, `{"id"`, `{"extra":{"a":[1,{"b":null}],"c":"d"},"id"`, 1), `"avg_amount":82.24`, `"avg_amount":82.24,"note":"vip"`, 1)),
		same("whitespace and newlines", indent(base)),
		same("unicode escapes in strings", unicode),
		same("numbers with exponents", strings.Replace(base, `"amount":41.12`, `"amount":4.112e1`, 1)),
		same("last_transaction absent", edit(base, "last_transaction", nil, true)),
		same("timestamp with a +00:00 offset", strings.Replace(base, "18:45:53Z", "18:45:53+00:00", 1)),
		same("a 10 KiB id", edit(base, "id", strings.Repeat("x", 10<<10), false)),
		same("no Content-Type", base),
		same("Content-Type text/plain", base),
		post("2,000 known merchants", edit(base, "customer.known_merchants", manyMerchants(2000), false), 200, ""),
		post("negative amount (clamped to 0)", strings.Replace(base, `"amount":41.12`, `"amount":-41.12`, 1), 200, ""),
		post("timestamp with a -03:00 offset", strings.Replace(base, "18:45:53Z", "15:45:53-03:00", 1), 200, ""),
	)
	rows[len(rows)-5].contentType = ""
	rows[len(rows)-4].contentType = "text/plain"

	// Rejected forms.
	deep := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	rows = append(rows,
		post("empty body", "", 400, "empty body"),
		post("not JSON", "transaction=1", 400, "expected an object"),
		post("a JSON array", "[]", 400, "expected an object, got an array"),
		post("truncated", base[:len(base)/2], 400, "unexpected end of input"),
		post("trailing data", base+"x", 400, "unexpected data after the JSON object"),
		post("duplicate key", strings.Replace(base, `"amount":41.12`, `"amount":41.12,"amount":1`, 1), 400, "transaction.amount: duplicate key"),
		post("huge number", strings.Replace(base, `"amount":41.12`, `"amount":1e999`, 1), 400, "transaction.amount: number is not finite"),
		post("NaN literal", strings.Replace(base, `"amount":41.12`, `"amount":NaN`, 1), 400, "transaction.amount: expected a number"),
		post("Infinity literal", strings.Replace(base, `"amount":41.12`, `"amount":Infinity`, 1), 400, "transaction.amount: expected a number"),
		post("timestamp with a space", strings.Replace(base, "T18:45:53Z", " 18:45:53Z", 1), 400, "transaction.requested_at: invalid timestamp"),
		post("timestamp without a zone", strings.Replace(base, "18:45:53Z", "18:45:53", 1), 400, "missing the time zone"),
		post("timestamp as a date", strings.Replace(base, "2026-03-11T18:45:53Z", "11/03/2026", 1), 400, "transaction.requested_at: invalid timestamp"),
		post("deep nesting", strings.Replace(base, `{"id"`, `{"x":`+deep+`,"id"`, 1), 400, "nesting deeper than 64"),
		post("invalid UTF-8", strings.Replace(base, "MERC-003", "MERC\xff003", 1), 400, "invalid UTF-8"),
		post("a 1 MiB body", `{"id":"`+strings.Repeat("x", 1<<20)+`"}`, 413, "larger than 65536 bytes"),
		post("10,000 known merchants (130 KB)", edit(base, "customer.known_merchants", manyMerchants(10000), false), 413, "larger than 65536 bytes"),
		MatrixRow{name: "GET /fraud-score", method: "GET", path: "/fraud-score", status: 405, errText: "use POST"},
		MatrixRow{name: "PUT /fraud-score", method: "PUT", path: "/fraud-score", body: base, status: 405, errText: "use POST"},
		MatrixRow{name: "POST /ready", method: "POST", path: "/ready", body: "{}", status: 405, errText: "use GET"},
		MatrixRow{name: "unknown path", method: "GET", path: "/admin", status: 404, errText: "no such path"},
		MatrixRow{name: "path with a trailing slash", method: "POST", path: "/fraud-score/", body: base, status: 404, errText: "no such path"},
	)
	return rows
}

// At returns the row sent to path instead of /fraud-score, for the routes
// that take its body and give its errors (/fraud-score/explain); a row for
// another path, or for /fraud-score/ with a trailing slash, keeps its own
// (with the slash: path/).
func (r MatrixRow) At(path string) MatrixRow {
	if rest, ok := strings.CutPrefix(r.path, "/fraud-score"); ok {
		r.path = path + rest
	}
	return r
}

// indent pretty-prints a JSON body with CR LF line ends and tabs.
func indent(body string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(body), "\r\n ", "\t"); err != nil {
		panic(err)
	}
	return b.String()
}

func manyMerchants(n int) []any {
	m := make([]any, n)
	for i := range m {
		m[i] = fmt.Sprintf("MERC-%05d", i)
	}
	return m
}

// CheckRow sends one row with do and checks the answer against base's.
func CheckRow(t *testing.T, row MatrixRow, baseAnswer string, do func(method, path, contentType, body string) (int, string)) {
	t.Helper()
	code, body := do(row.method, row.path, row.contentType, row.body)
	if code != row.status {
		t.Errorf("%s: status %d (%.120s); want %d", row.name, code, body, row.status)
		return
	}
	if code == 200 {
		var a struct {
			Approved   *bool    `json:"approved"`
			FraudScore *float64 `json:"fraud_score"`
		}
		if json.Unmarshal([]byte(body), &a) != nil || a.Approved == nil || a.FraudScore == nil {
			t.Errorf("%s: 200 with an unreadable answer %q", row.name, body)
		} else if row.sameAnswer && body != baseAnswer {
			t.Errorf("%s: answer %s; the same transaction unaltered gets %s", row.name, body, baseAnswer)
		}
		return
	}
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.Contains(e.Error, row.errText) {
		t.Errorf("%s: %d %.200s; want an error containing %q", row.name, code, body, row.errText)
	}
}

// ErrorText returns the "error" of a JSON error body such as
// {"error":"…"}, "" when the body is not one.
func ErrorText(body string) string {
	var e struct{ Error string }
	if json.Unmarshal([]byte(body), &e) != nil {
		return ""
	}
	return e.Error
}
