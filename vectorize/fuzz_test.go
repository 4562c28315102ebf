package vectorize

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"fraudknn/vector"
)

// FuzzVectorize feeds arbitrary bodies to Vectorize and checks that it
// never panics, that an accepted body gives a vector in the documented
// range, that a refused one gives a well-formed *Error, and that whenever
// the encoding/json reference also accepts the body, the vectors agree.
func FuzzVectorize(f *testing.F) {
	seeds := []string{
		example1,
		example2,
		withLast,
		// Escapes, unknown fields, reordered keys.
		`{"merchant":{"mcc":"5\u0034\u0031\u0031","id":"M\u0045RC-1","avg_amount":1},"x":[{"y":[-0.0e-0,true,null]},"\ud83d\ude00"],"customer":{"known_merchants":["MERC-1","\u004dERC-2"],"avg_amount":0,"tx_count_24h":1.5},"transaction":{"amount":5e-1,"installments":0,"requested_at":"2026-03-11T23:30:00.123-03:00"},"terminal":{"is_online":true,"card_present":false,"km_from_home":-1},"last_transaction":{"timestamp":"2026-03-12T02:00:00Z","km_from_current":1e3}}`,
		// Malformed variants.
		``,
		` `,
		`{`,
		`[]`,
		`{}`,
		example1[:len(example1)/2],
		example1 + ` x`,
		with(f, example1, `41.12`, `"12.5"`),
		with(f, example1, `41.12`, `1e400`),
		with(f, example1, `41.12`, `01`),
		with(f, example1, `"amount": 41.12, `, `"amount": 41.12, "amount": 1, `),
		with(f, example1, `"2026-03-11T18:45:53Z"`, `"2026-02-29T24:00:60+24:00"`),
		with(f, example1, `"MERC-016", "mcc"`, "\"MERC\xff016\", \"mcc\""),
		with(f, example1, `"MERC-016", "mcc"`, "\"MERC\t016\", \"mcc\""),
		with(f, example1, `"id": "tx-1329056812"`, `"x": `+strings.Repeat("[", 70)),
		with(f, with(f, example1, `41.12`, `0`), `82.24`, `0`),
		with(f, example1, `"last_transaction": null`, `"last_transaction": {"timestamp": "2026-03-11T18:45:53Z"}`),
		with(f, example1, `"id": "MERC-016"`, `"id": "\ud800\udc00\ud800"`),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	if _, err := os.Stat(dataPath("example-payloads.json")); err == nil {
		for _, body := range examplePayloads(f) {
			f.Add([]byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := Vectorize(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if e.Reason == "" {
				t.Fatalf("error with no reason: %#v", e)
			}
			if e.Offset < 0 || e.Offset > len(body) {
				t.Fatalf("offset %d outside the body of %d bytes: %v", e.Offset, len(body), e)
			}
			if msg := e.Error(); strings.ContainsAny(msg, "\n\r") || len(msg) > 200 {
				t.Fatalf("error message is not one short line: %q", msg)
			}
			if v != (vector.Vector{}) {
				t.Fatalf("vector %v returned with an error", v)
			}
			return
		}
		checkRange(t, v)
		if want, ok := referenceVector(body); ok && v != want {
			t.Fatalf("Vectorize and the reference disagree:\n got %v\nwant %v", v, want)
		}
	})
}

// FuzzVectorizeFields builds well-formed bodies from fuzzed field values,
// so that the comparison with the reference reaches the formulas, the
// timestamp parser and the string comparisons far more often than random
// bytes do. Strings are written by encoding/json, with its escapes.
func FuzzVectorizeFields(f *testing.F) {
	f.Add(41.12, 82.24, 29.2331036248, 18.86, "2026-03-11T18:45:53Z", "2026-03-11T14:58:35Z", "MERC-016", "MERC-016", "5411", true)
	f.Add(0.5, 0.0, 0.05, -1.0, "2026-03-11T23:30:00-03:00", "2026-03-12T02:30:00.5+00:00", `MERC-\u002d`, "MERC--", "7802", false)
	f.Add(1e308, 1e-308, 1000.0, 1e6, "0000-01-01t00:00:00z", "9999-12-31T23:59:59.999999999Z", `\ud800`, `\ufffd`, `5\u00341\u0031`, true)
	f.Add(-0.0, 5.0, 0.25, 0.0, "2024-02-29T12:00:00+05:30", "2024-02-29T12:00:00+05:30", "é😀", "é😀", "", false)
	f.Fuzz(func(t *testing.T, amount, avg, kmHome, kmLast float64, requested, last, merchant, known, mcc string, hasLast bool) {
		for _, x := range []float64{amount, avg, kmHome, kmLast} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return // not expressible in JSON
			}
		}
		num := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
		// str writes s as a JSON string; a backslash followed by "u" is
		// kept as an escape, so the fuzzer can produce \uXXXX sequences.
		str := func(s string) string {
			b, _ := json.Marshal(s)
			return strings.ReplaceAll(string(b), `\\u`, `\u`)
		}
		lastJSON := "null"
		if hasLast {
			lastJSON = `{"timestamp": ` + str(last) + `, "km_from_current": ` + num(kmLast) + `}`
		}
		body := []byte(`{"transaction": {"amount": ` + num(amount) + `, "installments": 3, "requested_at": ` + str(requested) +
			`}, "customer": {"avg_amount": ` + num(avg) + `, "tx_count_24h": 2, "known_merchants": ["x", ` + str(known) +
			`]}, "merchant": {"id": ` + str(merchant) + `, "mcc": ` + str(mcc) + `, "avg_amount": 12.5}, "terminal": {"is_online": true, "card_present": false, "km_from_home": ` + num(kmHome) +
			`}, "last_transaction": ` + lastJSON + `}`)
		v, err := Vectorize(body)
		want, ok := referenceVector(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Reason == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		checkRange(t, v)
		if ok && v != want {
			t.Fatalf("Vectorize and the reference disagree on %s:\n got %v\nwant %v", body, v, want)
		}
	})
}
