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

// example1 is the first body of example-payloads.json, SPEC.md's first
// worked example (a legitimate purchase), as the file has it.
const example1 = `{"id": "tx-1329056812", "transaction": {"amount": 41.12, "installments": 2, "requested_at": "2026-03-11T18:45:53Z"}, "customer": {"avg_amount": 82.24, "tx_count_24h": 3, "known_merchants": ["MERC-003", "MERC-016"]}, "merchant": {"id": "MERC-016", "mcc": "5411", "avg_amount": 60.25}, "terminal": {"is_online": false, "card_present": true, "km_from_home": 29.2331036248}, "last_transaction": null}`

// golden1 is SPEC.md's vector for example1:
// [0.0041, 0.1667, 0.05, 0.7826, 0.3333, -1, -1, 0.0292, 0.15, 0, 1, 0, 0.15, 0.006].
var golden1 = vector.Vector{41, 1667, 500, 7826, 3333, -10000, -10000, 292, 1500, 0, 10000, 0, 1500, 60}

// example2 is SPEC.md's second worked example (a fraud), written from its
// description: amount 9505.97, 10 installments, 2026-03-14T05:15:12Z,
// customer avg 81.28, 20 transactions in 24 h, known MERC-008/007/005,
// merchant MERC-068 with MCC 7802 and avg 54.86, in person with card,
// 952.27 km from home, no last transaction.
const example2 = `{"id": "tx-example-2", "transaction": {"amount": 9505.97, "installments": 10, "requested_at": "2026-03-14T05:15:12Z"}, "customer": {"avg_amount": 81.28, "tx_count_24h": 20, "known_merchants": ["MERC-008", "MERC-007", "MERC-005"]}, "merchant": {"id": "MERC-068", "mcc": "7802", "avg_amount": 54.86}, "terminal": {"is_online": false, "card_present": true, "km_from_home": 952.27}, "last_transaction": null}`

// golden2 is SPEC.md's vector for example2:
// [0.9506, 0.8333, 1.0, 0.2174, 0.8333, -1, -1, 0.9523, 1.0, 0, 1, 1, 0.75, 0.0055].
var golden2 = vector.Vector{9506, 8333, 10000, 2174, 8333, -10000, -10000, 9523, 10000, 0, 10000, 10000, 7500, 55}

// withLast is the second body of example-payloads.json, which has a last
// transaction.
const withLast = `{"id": "tx-3576980410", "transaction": {"amount": 384.88, "installments": 3, "requested_at": "2026-03-11T20:23:35Z"}, "customer": {"avg_amount": 769.76, "tx_count_24h": 3, "known_merchants": ["MERC-009", "MERC-009", "MERC-001", "MERC-001"]}, "merchant": {"id": "MERC-001", "mcc": "5912", "avg_amount": 298.95}, "terminal": {"is_online": false, "card_present": true, "km_from_home": 13.7090520965}, "last_transaction": {"timestamp": "2026-03-11T14:58:35Z", "km_from_current": 18.8626479774}}`

// goldenLast is withLast's vector, worked out by hand: 5 h 25 min since the
// last transaction is 325/1440 = 0.2257, 18.86 km is 0.0189.
var goldenLast = vector.Vector{385, 2500, 500, 8696, 3333, 2257, 189, 137, 1500, 0, 10000, 0, 2000, 299}

// with returns body with old replaced by new, failing the test unless old
// occurs exactly once: every case states its change from a known body.
func with(t testing.TB, body, old, new string) string {
	t.Helper()
	if n := strings.Count(body, old); n != 1 {
		t.Fatalf("with: %q occurs %d times in the body, want once", old, n)
	}
	return strings.Replace(body, old, new, 1)
}

func mustVectorize(t testing.TB, body string) vector.Vector {
	t.Helper()
	v, err := Vectorize([]byte(body))
	if err != nil {
		t.Fatalf("Vectorize(%s): %v", body, err)
	}
	return v
}

func TestGoldenExample1(t *testing.T) {
	if got := mustVectorize(t, example1); got != golden1 {
		t.Errorf("example 1:\n got %v\nwant %v", got, golden1)
	}
	want := [vector.Dims]float64{0.0041, 0.1667, 0.05, 0.7826, 0.3333, -1, -1, 0.0292, 0.15, 0, 1, 0, 0.15, 0.006}
	if got := golden1.Floats(); got != want {
		t.Errorf("Floats:\n got %v\nwant %v", got, want)
	}
}

func TestGoldenExample1FromFile(t *testing.T) {
	bodies := examplePayloads(t)
	if got := mustVectorize(t, string(bodies[0])); got != golden1 {
		t.Errorf("first body of example-payloads.json:\n got %v\nwant %v", got, golden1)
	}
	if got := mustVectorize(t, string(bodies[1])); got != goldenLast {
		t.Errorf("second body of example-payloads.json:\n got %v\nwant %v", got, goldenLast)
	}
}

func TestGoldenExample2(t *testing.T) {
	if got := mustVectorize(t, example2); got != golden2 {
		t.Errorf("example 2:\n got %v\nwant %v", got, golden2)
	}
	want := [vector.Dims]float64{0.9506, 0.8333, 1.0, 0.2174, 0.8333, -1, -1, 0.9523, 1.0, 0, 1, 1, 0.75, 0.0055}
	if got := golden2.Floats(); got != want {
		t.Errorf("Floats:\n got %v\nwant %v", got, want)
	}
}

func TestGoldenWithLast(t *testing.T) {
	if got := mustVectorize(t, withLast); got != goldenLast {
		t.Errorf("got %v\nwant %v", got, goldenLast)
	}
}

// dims is an expectation on some dimensions of a vector.
type dims map[int]int16

// TestSemantics checks the formulas on inputs chosen to exercise one rule
// each; every case is a small change to a known body.
func TestSemantics(t *testing.T) {
	reordered := `{"last_transaction": null, "terminal": {"km_from_home": 29.2331036248, "card_present": true, "is_online": false}, "merchant": {"avg_amount": 60.25, "mcc": "5411", "id": "MERC-016"}, "customer": {"known_merchants": ["MERC-003", "MERC-016"], "tx_count_24h": 3, "avg_amount": 82.24}, "transaction": {"requested_at": "2026-03-11T18:45:53Z", "installments": 2, "amount": 41.12}, "id": "tx-1329056812"}`
	merchantFirst := `{"merchant": {"id": "MERC-016", "mcc": "5411", "avg_amount": 60.25}, "transaction": {"amount": 41.12, "installments": 2, "requested_at": "2026-03-11T18:45:53Z"}, "terminal": {"is_online": false, "card_present": true, "km_from_home": 29.2331036248}, "customer": {"avg_amount": 82.24, "tx_count_24h": 3, "known_merchants": ["MERC-003", "MERC-016"]}}`
	spaced := "\r\n\t {\n\t\"transaction\"\t:\r{ \"amount\" :41.12 ,\"installments\":\n2,\"requested_at\" : \"2026-03-11T18:45:53Z\" } ,\n\"customer\":{\"avg_amount\":82.24,\"tx_count_24h\":3,\"known_merchants\":[ \"MERC-003\" ,\r\n\"MERC-016\" ]},\"merchant\":{\"id\":\"MERC-016\",\"mcc\":\"5411\",\"avg_amount\":60.25},\"terminal\":{\"is_online\":false,\"card_present\":true,\"km_from_home\":29.2331036248},\"last_transaction\":null}\n\t\r "
	extras := `{"x": {"deep": [1, -2.5e-3, "s", true, false, null, {"a": []}, {}]}, "id": "t", "transaction": {"amount": 41.12, "currency": "BRL", "installments": 2, "requested_at": "2026-03-11T18:45:53Z", "meta": {"amount": "not this one"}}, "customer": {"avg_amount": 82.24, "tx_count_24h": 3, "known_merchants": ["MERC-003", "MERC-016"], "vip": null}, "merchant": {"id": "MERC-016", "mcc": "5411", "avg_amount": 60.25, "name": "Mercado \u00e9\ud83d\ude00"}, "terminal": {"is_online": false, "card_present": true, "km_from_home": 29.2331036248, "": 0}, "last_transaction": null, "Transaction": 1, "amount": 1}`

	tests := []struct {
		name string
		body string
		want dims
	}{
		// Structure: any order, any whitespace, unknown fields skipped.
		{"keys in reverse order", reordered, dims{0: 41, 2: 500, 3: 7826, 11: 0, 12: 1500}},
		{"merchant before customer", merchantFirst, dims{5: -10000, 6: -10000, 11: 0}},
		{"whitespace everywhere", spaced, dims{0: 41, 11: 0, 13: 60}},
		{"unknown fields at every level", extras, dims{0: 41, 1: 1667, 11: 0, 12: 1500}},
		{"escaped keys", with(t, example1, `"amount"`, `"am\u006Funt"`), dims{0: 41}},
		{"no id", with(t, example1, `"id": "tx-1329056812", `, ``), dims{0: 41}},

		// Last transaction: null, absent, present.
		{"last_transaction null", example1, dims{5: -10000, 6: -10000}},
		{"last_transaction absent", with(t, example1, `, "last_transaction": null`, ``), dims{5: -10000, 6: -10000}},
		{"last_transaction present", withLast, dims{5: 2257, 6: 189}},
		{"last after requested clamps to 0", with(t, withLast, `"2026-03-11T14:58:35Z"`, `"2026-03-11T21:00:00Z"`), dims{5: 0}},
		{"more than 1440 minutes clamps to 1", with(t, withLast, `"2026-03-11T14:58:35Z"`, `"2026-03-09T14:58:35Z"`), dims{5: 10000}},
		{"exactly 1440 minutes", with(t, withLast, `"2026-03-11T14:58:35Z"`, `"2026-03-10T20:23:35Z"`), dims{5: 10000}},
		{"km_from_current negative", with(t, withLast, `18.8626479774`, `-3`), dims{6: 0}},
		{"km_from_current beyond max_km", with(t, withLast, `18.8626479774`, `1000.1`), dims{6: 10000}},
		// 4.33 s is 4.33/60/1440*10000 = 0.501 units of dimension 5, 4.3 s is 0.498:
		// the fraction of a second decides the rounding.
		{"fractional seconds round up", with(t, with(t, withLast, `"requested_at": "2026-03-11T20:23:35Z"`, `"requested_at": "2026-03-11T20:23:39.33Z"`), `"2026-03-11T14:58:35Z"`, `"2026-03-11T20:23:35.000Z"`), dims{5: 1}},
		{"fractional seconds round down", with(t, with(t, withLast, `"requested_at": "2026-03-11T20:23:35Z"`, `"requested_at": "2026-03-11T20:23:39.3Z"`), `"2026-03-11T14:58:35Z"`, `"2026-03-11T20:23:35Z"`), dims{5: 0}},
		{"fraction past nanoseconds is dropped", with(t, withLast, `"2026-03-11T14:58:35Z"`, `"2026-03-11T14:58:34.9999999999999Z"`), dims{5: 2257}},
		{"last years ago", with(t, withLast, `"2026-03-11T14:58:35Z"`, `"0001-01-01T00:00:00Z"`), dims{5: 10000}},
		{"last in year 9999", with(t, withLast, `"2026-03-11T14:58:35Z"`, `"9999-12-31T23:59:59Z"`), dims{5: 0}},

		// Time of day and weekday, in UTC.
		{"offset moves to the next UTC day", with(t, example1, `"2026-03-11T18:45:53Z"`, `"2026-03-11T23:30:00-03:00"`), dims{3: 870, 4: 5000}},
		{"positive offset", with(t, example1, `"2026-03-11T18:45:53Z"`, `"2026-03-11T03:00:00+05:30"`), dims{3: 9130, 4: 1667}},
		{"lower-case t and z", with(t, example1, `"2026-03-11T18:45:53Z"`, `"2026-03-11t18:45:53z"`), dims{3: 7826, 4: 3333}},
		{"midnight Monday", with(t, example1, `"2026-03-11T18:45:53Z"`, `"2026-03-09T00:00:00Z"`), dims{3: 0, 4: 0}},
		{"23h Sunday", with(t, example1, `"2026-03-11T18:45:53Z"`, `"2026-03-15T23:59:59.999Z"`), dims{3: 10000, 4: 10000}},
		{"leap day", with(t, example1, `"2026-03-11T18:45:53Z"`, `"2024-02-29T12:00:00Z"`), dims{3: 5217, 4: 5000}},
		{"year 0000 (a Saturday, 1 January)", with(t, example1, `"2026-03-11T18:45:53Z"`, `"0000-01-01T00:00:00Z"`), dims{3: 0, 4: 8333}},
		{"escaped timestamp", with(t, example1, `"2026-03-11T18:45:53Z"`, `"2026-03-11\u005418:45:53\u005A"`), dims{3: 7826, 4: 3333}},

		// Known merchants: decoded comparison, any length.
		{"merchant unknown", with(t, example1, `"id": "MERC-016"`, `"id": "MERC-017"`), dims{11: 10000}},
		{"known_merchants empty", with(t, example1, `["MERC-003", "MERC-016"]`, `[]`), dims{11: 10000}},
		{"escape in merchant.id", with(t, example1, `"id": "MERC-016"`, `"id": "MERC\u002d016"`), dims{11: 0}},
		{"escape in known_merchants", with(t, example1, `"MERC-016"]`, `"\u004dERC-016"]`), dims{11: 0}},
		{"escapes on both sides", with(t, with(t, example1, `"id": "MERC-016"`, `"id": "MERC-\u0030\u00316"`), `"MERC-016"]`, `"\u004dERC-016"]`), dims{11: 0}},
		{"prefix is not equal", with(t, example1, `"id": "MERC-016"`, `"id": "MERC-01"`), dims{11: 10000}},
		{"case matters", with(t, example1, `"id": "MERC-016"`, `"id": "merc-016"`), dims{11: 10000}},
		{"surrogate pair equals the UTF-8 character", with(t, with(t, example1, `"id": "MERC-016"`, `"id": "M\ud83d\ude00"`), `"MERC-016"]`, `"M😀"]`), dims{11: 0}},
		{"lone surrogate decodes as U+FFFD", with(t, with(t, example1, `"id": "MERC-016"`, `"id": "M\ud800"`), `"MERC-016"]`, `"M\ufffd"]`), dims{11: 0}},
		{"escaped quote and backslash", with(t, with(t, example1, `"id": "MERC-016"`, `"id": "a\"b\\c"`), `"MERC-016"]`, `"a\u0022b\u005cc"]`), dims{11: 0}},
		{"string containing ] in the list", with(t, example1, `["MERC-003", "MERC-016"]`, `["x]\"]", "MERC-016"]`), dims{11: 0}},

		// MCC risk.
		{"mcc escaped", with(t, example1, `"5411"`, `"5\u0034\u0031\u0031"`), dims{12: 1500}},
		{"mcc unknown", with(t, example1, `"5411"`, `"1234"`), dims{12: 5000}},
		{"mcc longer than 4 bytes", with(t, example1, `"5411"`, `"54111"`), dims{12: 5000}},
		{"mcc escaped and longer", with(t, example1, `"5411"`, `"5411\u0030"`), dims{12: 5000}},
		{"mcc empty", with(t, example1, `"5411"`, `""`), dims{12: 5000}},
		{"mcc 7995", with(t, example1, `"5411"`, `"7995"`), dims{12: 8500}},

		// Booleans.
		{"is_online true", with(t, example1, `"is_online": false`, `"is_online": true`), dims{9: 10000}},
		{"card_present false", with(t, example1, `"card_present": true`, `"card_present": false`), dims{10: 0}},

		// Numbers the formulas define.
		{"amount over avg 0 is +Inf, clamps to 1", with(t, example1, `"avg_amount": 82.24`, `"avg_amount": 0`), dims{2: 10000}},
		{"negative amount clamps to 0", with(t, example1, `"amount": 41.12`, `"amount": -41.12`), dims{0: 0, 2: 0}},
		{"negative amount over avg 0 is -Inf, clamps to 0", with(t, with(t, example1, `"amount": 41.12`, `"amount": -1`), `"avg_amount": 82.24`, `"avg_amount": 0`), dims{2: 0}},
		{"zero amount, negative avg", with(t, with(t, example1, `"amount": 41.12`, `"amount": 0`), `"avg_amount": 82.24`, `"avg_amount": -5`), dims{0: 0, 2: 0}},
		{"negative zero", with(t, example1, `"amount": 41.12`, `"amount": -0.0`), dims{0: 0, 2: 0}},
		{"huge amount clamps to 1", with(t, example1, `"amount": 41.12`, `"amount": 1e308`), dims{0: 10000, 2: 10000}},
		{"underflow is 0", with(t, example1, `"km_from_home": 29.2331036248`, `"km_from_home": 1e-400`), dims{7: 0}},
		{"exponent form", with(t, example1, `"amount": 41.12`, `"amount": 4112E-2`), dims{0: 41, 2: 500}},
		{"fractional installments", with(t, example1, `"installments": 2`, `"installments": 1.5`), dims{1: 1250}},
		{"fractional tx_count_24h", with(t, example1, `"tx_count_24h": 3`, `"tx_count_24h": 2.5`), dims{8: 1250}},
		{"negative km_from_home", with(t, example1, `"km_from_home": 29.2331036248`, `"km_from_home": -1`), dims{7: 0}},
		{"merchant avg over max", with(t, example1, `"avg_amount": 60.25`, `"avg_amount": 20000`), dims{13: 10000}},

		// Rounding at exact halves: 0.5/10000*10000 is exactly 0.5 in
		// float64 and rounds away from zero (TestHalvesAreHalves checks the
		// premise). 1.5/10000*10000 is 1.4999999999999998, not a half.
		{"amount 0.5 rounds half up", with(t, example1, `"amount": 41.12`, `"amount": 0.5`), dims{0: 1}},
		{"amount 2.5 rounds half up", with(t, example1, `"amount": 41.12`, `"amount": 2.5`), dims{0: 3}},
		{"amount 1.5 is below the half", with(t, example1, `"amount": 41.12`, `"amount": 1.5`), dims{0: 1}},
		{"km_from_home 0.05 rounds half up", with(t, example1, `"km_from_home": 29.2331036248`, `"km_from_home": 0.05`), dims{7: 1}},
		{"km_from_home 0.25 rounds half up", with(t, example1, `"km_from_home": 29.2331036248`, `"km_from_home": 0.25`), dims{7: 3}},
		{"merchant avg 0.5 rounds half up", with(t, example1, `"avg_amount": 60.25`, `"avg_amount": 0.5`), dims{13: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := mustVectorize(t, tc.body)
			for i, want := range tc.want {
				if v[i] != want {
					t.Errorf("dimension %d = %d, want %d (vector %v)", i, v[i], want, v)
				}
			}
			checkRange(t, v)
		})
	}
}

// TestHalvesAreHalves checks the premise of the rounding cases: v*vector.Scale is
// exactly a half in float64 for these inputs, so only rounding half away
// from zero gives the expected result.
func TestHalvesAreHalves(t *testing.T) {
	for _, c := range []struct{ value, max float64 }{
		{0.5, maxAmount}, {2.5, maxAmount}, {0.05, maxKm}, {0.25, maxKm}, {0.5, maxMerchantAvgAmount},
	} {
		x := float64(c.value / c.max * vector.Scale)
		if x != math.Floor(x)+0.5 {
			t.Errorf("%v/%v*%v = %v, not a half", c.value, c.max, vector.Scale, x)
		}
		if got := scaled(c.value / c.max); float64(got) != math.Floor(x)+1 {
			t.Errorf("scaled(%v/%v) = %d, want %v", c.value, c.max, got, math.Floor(x)+1)
		}
	}
	// Variables, not constants: Go computes constant expressions exactly.
	value, max := 1.5, float64(maxAmount)
	if x := float64(value / max * vector.Scale); x == math.Floor(x)+0.5 {
		t.Errorf("1.5/10000*10000 = %v is a half; the test case assumes it is not", x)
	}
}

// TestLongKnownMerchants uses a list of 10,000 merchants, with the merchant
// at the end, then absent.
func TestLongKnownMerchants(t *testing.T) {
	body := longKnownMerchants(10000, "MERC-016")
	if v := mustVectorize(t, body); v[11] != 0 {
		t.Errorf("merchant last of 10,000: dimension 11 = %d, want 0", v[11])
	}
	body = longKnownMerchants(10000, "MERC-X")
	if v := mustVectorize(t, body); v[11] != vector.Scale {
		t.Errorf("merchant absent from 10,000: dimension 11 = %d, want %d", v[11], vector.Scale)
	}
}

// longKnownMerchants returns example1 with n known merchants, the last
// being last.
func longKnownMerchants(n int, last string) string {
	var b strings.Builder
	b.WriteString(`[`)
	for i := range n - 1 {
		b.WriteString(`"MERC-`)
		b.WriteString(strings.Repeat("9", i%7+1))
		b.WriteString(`", `)
	}
	b.WriteString(`"` + last + `"]`)
	return strings.Replace(example1, `["MERC-003", "MERC-016"]`, b.String(), 1)
}

// TestMCCRiskTable checks the switch of riskOf against mcc_risk.json.
func TestMCCRiskTable(t *testing.T) {
	data, err := os.ReadFile(dataFile(t, "mcc_risk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var table map[string]float64
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	if len(table) != 10 {
		t.Errorf("mcc_risk.json has %d codes, the code knows 10", len(table))
	}
	for code, risk := range table {
		if got := riskOf([]byte(code)); got != risk {
			t.Errorf("riskOf(%s) = %v, want %v", code, got, risk)
		}
	}
}

// errCase is a body Vectorize must refuse, and the error it must give.
// An empty want.Reason is not checked; an Offset of -1 is not checked.
type errCase struct {
	name string
	body string
	want Error
}

func checkErrors(t *testing.T, tests []errCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Vectorize([]byte(tc.body))
			if err == nil {
				t.Fatalf("accepted, vector %v", v)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if v != (vector.Vector{}) {
				t.Errorf("vector %v returned with an error", v)
			}
			if e.Field != tc.want.Field {
				t.Errorf("Field = %q, want %q (%v)", e.Field, tc.want.Field, e)
			}
			if tc.want.Reason != "" && e.Reason != tc.want.Reason {
				t.Errorf("Reason = %q, want %q", e.Reason, tc.want.Reason)
			}
			if tc.want.Offset >= 0 && e.Offset != tc.want.Offset {
				t.Errorf("Offset = %d, want %d (%v)", e.Offset, tc.want.Offset, e)
			}
			if e.Offset < 0 || e.Offset > len(tc.body) {
				t.Errorf("Offset %d outside the body of %d bytes", e.Offset, len(tc.body))
			}
		})
	}
}

// TestMissingFields removes each required field in turn.
func TestMissingFields(t *testing.T) {
	remove := []struct{ field, text string }{
		{"transaction", `"transaction": {"amount": 41.12, "installments": 2, "requested_at": "2026-03-11T18:45:53Z"}, `},
		{"customer", `"customer": {"avg_amount": 82.24, "tx_count_24h": 3, "known_merchants": ["MERC-003", "MERC-016"]}, `},
		{"merchant", `"merchant": {"id": "MERC-016", "mcc": "5411", "avg_amount": 60.25}, `},
		{"terminal", `"terminal": {"is_online": false, "card_present": true, "km_from_home": 29.2331036248}, `},
		{"transaction.amount", `"amount": 41.12, `},
		{"transaction.installments", `"installments": 2, `},
		{"transaction.requested_at", `, "requested_at": "2026-03-11T18:45:53Z"`},
		{"customer.avg_amount", `"avg_amount": 82.24, `},
		{"customer.tx_count_24h", `"tx_count_24h": 3, `},
		{"customer.known_merchants", `, "known_merchants": ["MERC-003", "MERC-016"]`},
		{"merchant.id", `"id": "MERC-016", `},
		{"merchant.mcc", `"mcc": "5411", `},
		{"merchant.avg_amount", `, "avg_amount": 60.25`},
		{"terminal.is_online", `"is_online": false, `},
		{"terminal.card_present", `"card_present": true, `},
		{"terminal.km_from_home", `, "km_from_home": 29.2331036248`},
	}
	var tests []errCase
	for _, r := range remove {
		tests = append(tests, errCase{"without " + r.field, with(t, example1, r.text, ""), Error{Field: r.field, Reason: "missing", Offset: -1}})
	}
	tests = append(tests,
		errCase{"without last_transaction.timestamp", with(t, withLast, `"timestamp": "2026-03-11T14:58:35Z", `, ``), Error{Field: "last_transaction.timestamp", Reason: "missing", Offset: -1}},
		errCase{"without last_transaction.km_from_current", with(t, withLast, `, "km_from_current": 18.8626479774`, ``), Error{Field: "last_transaction.km_from_current", Reason: "missing", Offset: -1}},
		errCase{"empty last_transaction", with(t, example1, `"last_transaction": null`, `"last_transaction": {}`), Error{Field: "last_transaction.timestamp", Reason: "missing", Offset: 392}},
		errCase{"empty object", `{}`, Error{Field: "transaction", Reason: "missing", Offset: 1}},
		errCase{"missing is reported at the closing brace", `{"transaction": {"amount": 1}}`, Error{Field: "transaction.installments", Reason: "missing", Offset: 28}},
	)
	checkErrors(t, tests)
}

// TestWrongTypes gives each field a value of another JSON type.
func TestWrongTypes(t *testing.T) {
	checkErrors(t, []errCase{
		{"amount as a string", with(t, example1, `41.12`, `"12.5"`), Error{Field: "transaction.amount", Reason: "expected a number, got a string", Offset: 50}},
		{"amount null", with(t, example1, `41.12`, `null`), Error{Field: "transaction.amount", Reason: "expected a number, got null", Offset: 50}},
		{"amount true", with(t, example1, `41.12`, `true`), Error{Field: "transaction.amount", Reason: "expected a number, got a boolean", Offset: 50}},
		{"amount an object", with(t, example1, `41.12`, `{"value": 41.12}`), Error{Field: "transaction.amount", Reason: "expected a number, got an object", Offset: 50}},
		{"amount an array", with(t, example1, `41.12`, `[41.12]`), Error{Field: "transaction.amount", Reason: "expected a number, got an array", Offset: 50}},
		{"amount NaN", with(t, example1, `41.12`, `NaN`), Error{Field: "transaction.amount", Reason: "expected a number, got 'N'", Offset: 50}},
		{"installments as a string", with(t, example1, `"installments": 2`, `"installments": "2"`), Error{Field: "transaction.installments", Reason: "expected a number, got a string", Offset: -1}},
		{"requested_at a number", with(t, example1, `"2026-03-11T18:45:53Z"`, `1710000000`), Error{Field: "transaction.requested_at", Reason: "expected a string, got a number", Offset: -1}},
		{"customer avg_amount null", with(t, example1, `82.24`, `null`), Error{Field: "customer.avg_amount", Reason: "expected a number, got null", Offset: -1}},
		{"tx_count_24h a boolean", with(t, example1, `"tx_count_24h": 3`, `"tx_count_24h": false`), Error{Field: "customer.tx_count_24h", Reason: "expected a number, got a boolean", Offset: -1}},
		{"known_merchants a string", with(t, example1, `["MERC-003", "MERC-016"]`, `"MERC-016"`), Error{Field: "customer.known_merchants", Reason: "expected an array of strings, got a string", Offset: -1}},
		{"known_merchants null", with(t, example1, `["MERC-003", "MERC-016"]`, `null`), Error{Field: "customer.known_merchants", Reason: "expected an array of strings, got null", Offset: -1}},
		{"known_merchants with a number", with(t, example1, `["MERC-003", "MERC-016"]`, `["MERC-003", 16]`), Error{Field: "customer.known_merchants", Reason: "expected only strings in the array, got a number", Offset: -1}},
		{"known_merchants with null", with(t, example1, `["MERC-003", "MERC-016"]`, `[null]`), Error{Field: "customer.known_merchants", Reason: "expected only strings in the array, got null", Offset: -1}},
		{"merchant id a number", with(t, example1, `"id": "MERC-016"`, `"id": 16`), Error{Field: "merchant.id", Reason: "expected a string, got a number", Offset: -1}},
		{"mcc a number", with(t, example1, `"5411"`, `5411`), Error{Field: "merchant.mcc", Reason: "expected a string, got a number", Offset: -1}},
		{"merchant avg a string", with(t, example1, `60.25`, `"60.25"`), Error{Field: "merchant.avg_amount", Reason: "expected a number, got a string", Offset: -1}},
		{"is_online a string", with(t, example1, `"is_online": false`, `"is_online": "false"`), Error{Field: "terminal.is_online", Reason: "expected a boolean, got a string", Offset: -1}},
		{"card_present a number", with(t, example1, `"card_present": true`, `"card_present": 1`), Error{Field: "terminal.card_present", Reason: "expected a boolean, got a number", Offset: -1}},
		{"km_from_home null", with(t, example1, `29.2331036248`, `null`), Error{Field: "terminal.km_from_home", Reason: "expected a number, got null", Offset: -1}},
		{"transaction null", with(t, example1, `{"amount": 41.12, "installments": 2, "requested_at": "2026-03-11T18:45:53Z"}`, `null`), Error{Field: "transaction", Reason: "expected an object, got null", Offset: 39}},
		{"customer an array", with(t, example1, `{"avg_amount": 82.24, "tx_count_24h": 3, "known_merchants": ["MERC-003", "MERC-016"]}`, `[]`), Error{Field: "customer", Reason: "expected an object, got an array", Offset: -1}},
		{"merchant a string", with(t, example1, `{"id": "MERC-016", "mcc": "5411", "avg_amount": 60.25}`, `"MERC-016"`), Error{Field: "merchant", Reason: "expected an object, got a string", Offset: -1}},
		{"terminal a number", with(t, example1, `{"is_online": false, "card_present": true, "km_from_home": 29.2331036248}`, `0`), Error{Field: "terminal", Reason: "expected an object, got a number", Offset: -1}},
		{"last_transaction a number", with(t, example1, `"last_transaction": null`, `"last_transaction": 0`), Error{Field: "last_transaction", Reason: "expected an object or null, got a number", Offset: -1}},
		{"last_transaction false", with(t, example1, `"last_transaction": null`, `"last_transaction": false`), Error{Field: "last_transaction", Reason: "expected an object or null, got a boolean", Offset: -1}},
		{"last timestamp null", with(t, withLast, `"2026-03-11T14:58:35Z"`, `null`), Error{Field: "last_transaction.timestamp", Reason: "expected a string, got null", Offset: -1}},
		{"last km a string", with(t, withLast, `18.8626479774`, `"18.86"`), Error{Field: "last_transaction.km_from_current", Reason: "expected a number, got a string", Offset: -1}},
		{"id a number", with(t, example1, `"tx-1329056812"`, `1329056812`), Error{Field: "id", Reason: "expected a string, got a number", Offset: 7}},
		{"id null", with(t, example1, `"tx-1329056812"`, `null`), Error{Field: "id", Reason: "expected a string, got null", Offset: 7}},
		{"top level an array", `[` + example1 + `]`, Error{Field: "", Reason: "expected an object, got an array", Offset: 0}},
		{"top level a string", `"{}"`, Error{Field: "", Reason: "expected an object, got a string", Offset: 0}},
		{"top level null", ` null `, Error{Field: "", Reason: "expected an object, got null", Offset: 1}},
		{"wrong type and broken JSON: the syntax error wins", with(t, example1, `41.12`, `"12.5`), Error{Field: "transaction.amount", Offset: -1}},
	})
}

// TestDuplicateKeys checks that a known key met twice is refused, never
// resolved by last-wins.
func TestDuplicateKeys(t *testing.T) {
	checkErrors(t, []errCase{
		{"amount twice", with(t, example1, `"amount": 41.12, `, `"amount": 41.12, "amount": 1, `), Error{Field: "transaction.amount", Reason: "duplicate key", Offset: 57}},
		{"amount twice, once escaped", with(t, example1, `"amount": 41.12, `, `"amount": 41.12, "\u0061mount": 41.12, `), Error{Field: "transaction.amount", Reason: "duplicate key", Offset: 57}},
		{"merchant id twice", with(t, example1, `"id": "MERC-016", `, `"id": "MERC-016", "id": "MERC-001", `), Error{Field: "merchant.id", Reason: "duplicate key", Offset: -1}},
		{"transaction twice", with(t, example1, `, "last_transaction": null`, `, "last_transaction": null, "transaction": {}`), Error{Field: "transaction", Reason: "duplicate key", Offset: -1}},
		{"last_transaction null twice", with(t, example1, `, "last_transaction": null`, `, "last_transaction": null, "last_transaction": null`), Error{Field: "last_transaction", Reason: "duplicate key", Offset: -1}},
		{"id twice", with(t, example1, `"id": "tx-1329056812", `, `"id": "a", "id": "b", `), Error{Field: "id", Reason: "duplicate key", Offset: 12}},
		{"known_merchants twice", with(t, example1, `"tx_count_24h": 3, `, `"tx_count_24h": 3, "known_merchants": [], `), Error{Field: "customer.known_merchants", Reason: "duplicate key", Offset: -1}},
	})
	// Unknown keys are not tracked: repeating one is fine.
	mustVectorize(t, with(t, example1, `"id": "tx-1329056812", `, `"x": 1, "x": 2, `))
}

// TestNumbers covers the number grammar of RFC 8259 and finiteness.
func TestNumbers(t *testing.T) {
	amount := func(s string) string { return with(t, example1, `41.12`, s) }
	const at = 50 // where the amount starts
	checkErrors(t, []errCase{
		{"1e400", amount(`1e400`), Error{Field: "transaction.amount", Reason: "number is not finite", Offset: at}},
		{"-1e400", amount(`-1e400`), Error{Field: "transaction.amount", Reason: "number is not finite", Offset: at}},
		{"huge mantissa", amount(`2` + strings.Repeat("0", 400)), Error{Field: "transaction.amount", Reason: "number is not finite", Offset: at}},
		{"leading zero", amount(`041.12`), Error{Field: "transaction.amount", Reason: "leading zero in number", Offset: at}},
		{"negative leading zero", amount(`-01`), Error{Field: "transaction.amount", Reason: "leading zero in number", Offset: at + 1}},
		{"leading plus", amount(`+41.12`), Error{Field: "transaction.amount", Reason: "expected a number, got '+'", Offset: at}},
		{"leading dot", amount(`.5`), Error{Field: "transaction.amount", Reason: "expected a number, got '.'", Offset: at}},
		{"trailing dot", amount(`5.`), Error{Field: "transaction.amount", Reason: "expected a digit after the decimal point", Offset: at + 2}},
		{"dot before exponent", amount(`5.e3`), Error{Field: "transaction.amount", Reason: "expected a digit after the decimal point", Offset: at + 2}},
		{"bare minus", amount(`-`), Error{Field: "transaction.amount", Reason: "expected a digit after '-'", Offset: at + 1}},
		{"minus then letter", amount(`-Infinity`), Error{Field: "transaction.amount", Reason: "expected a digit after '-'", Offset: at + 1}},
		{"Infinity", amount(`Infinity`), Error{Field: "transaction.amount", Reason: "expected a number, got 'I'", Offset: at}},
		{"empty exponent", amount(`1e`), Error{Field: "transaction.amount", Reason: "expected a digit in the exponent", Offset: at + 2}},
		{"exponent sign only", amount(`1e+`), Error{Field: "transaction.amount", Reason: "expected a digit in the exponent", Offset: at + 3}},
		{"hexadecimal", amount(`0x10`), Error{Field: "transaction", Reason: "expected ',' or '}' after an object member, got 'x'", Offset: at + 1}},
		{"digit group", amount(`1_000`), Error{Field: "transaction", Reason: "expected ',' or '}' after an object member, got '_'", Offset: at + 1}},
		{"bad number in an unknown field", with(t, example1, `"id": "tx-1329056812"`, `"x": 01`), Error{Field: "", Reason: "leading zero in number", Offset: -1}},
		{"infinite number in an unknown field is only syntax-checked, so 0/0 is the error", with(t, with(t, example1, `41.12`, `0`), `82.24`, `0`), Error{Field: "customer.avg_amount", Reason: "amount/avg_amount is 0/0, undefined", Offset: 140}},
	})
	// Out-of-range numbers in unknown fields are skipped, not parsed.
	mustVectorize(t, with(t, example1, `"id": "tx-1329056812"`, `"x": 1e400`))
}

// TestSyntax covers the rest of RFC 8259: structure, strings, literals,
// nesting, trailing data.
func TestSyntax(t *testing.T) {
	deep := func(n int, open, close string) string {
		return with(t, example1, `"id": "tx-1329056812"`, `"x": `+strings.Repeat(open, n)+strings.Repeat(close, n))
	}
	// The top-level object is depth 1 and the value of "x" depth 2, so 63
	// nested arrays reach depth 64, the limit.
	mustVectorize(t, deep(63, "[", "]"))
	mustVectorize(t, with(t, example1, `"id": "tx-1329056812"`, `"x": `+strings.Repeat(`{"a":`, 62)+`{}`+strings.Repeat("}", 62)))

	checkErrors(t, []errCase{
		{"empty body", ``, Error{Field: "", Reason: "empty body", Offset: 0}},
		{"only whitespace", " \n\t\r ", Error{Field: "", Reason: "empty body", Offset: 5}},
		{"trailing garbage", example1 + ` x`, Error{Field: "", Reason: "unexpected data after the JSON object", Offset: len(example1) + 1}},
		{"two objects", example1 + `{}`, Error{Field: "", Reason: "unexpected data after the JSON object", Offset: len(example1)}},
		{"trailing NUL", example1 + "\x00", Error{Field: "", Reason: "unexpected data after the JSON object", Offset: len(example1)}},
		{"arrays nested 64 deep", deep(64, "[", "]"), Error{Field: "", Reason: "nesting deeper than 64", Offset: 69}},
		{"objects nested 64 deep", with(t, example1, `"id": "tx-1329056812"`, `"x": `+strings.Repeat(`{"a":`, 64)+`0`+strings.Repeat("}", 64)), Error{Field: "", Reason: "nesting deeper than 64", Offset: -1}},
		{"deep nesting inside a section", with(t, example1, `"amount": 41.12`, `"x": `+strings.Repeat("[", 100)), Error{Field: "transaction", Reason: "nesting deeper than 64", Offset: -1}},
		{"trailing comma in object", with(t, example1, `"requested_at": "2026-03-11T18:45:53Z"}`, `"requested_at": "2026-03-11T18:45:53Z",}`), Error{Field: "transaction", Reason: "expected a quoted key after ',', got '}'", Offset: -1}},
		{"trailing comma in array", with(t, example1, `"MERC-016"]`, `"MERC-016",]`), Error{Field: "customer.known_merchants", Reason: "expected a string, got ']'", Offset: -1}},
		{"missing comma", with(t, example1, `"amount": 41.12, `, `"amount": 41.12 `), Error{Field: "transaction", Reason: `expected ',' or '}' after an object member, got '"'`, Offset: -1}},
		{"missing colon", with(t, example1, `"amount": 41.12`, `"amount" 41.12`), Error{Field: "transaction", Reason: "expected ':' after the key, got '4'", Offset: -1}},
		{"unquoted key", with(t, example1, `"amount": 41.12`, `amount: 41.12`), Error{Field: "transaction", Reason: "expected a quoted key or '}', got 'a'", Offset: -1}},
		{"single quotes", with(t, example1, `"amount": 41.12`, `'amount': 41.12`), Error{Field: "transaction", Reason: `expected a quoted key or '}', got '\''`, Offset: -1}},
		{"literal True", with(t, example1, `"is_online": false`, `"is_online": True`), Error{Field: "terminal.is_online", Reason: "expected a boolean, got 'T'", Offset: -1}},
		{"literal tru", with(t, example1, `"is_online": false`, `"is_online": tru`), Error{Field: "terminal.is_online", Reason: "invalid literal, expected true", Offset: -1}},
		{"literal nul", with(t, example1, `"last_transaction": null`, `"last_transaction": nul`), Error{Field: "last_transaction", Reason: "invalid literal, expected null", Offset: -1}},
		{"literal nulll", with(t, example1, `"last_transaction": null}`, `"last_transaction": nulll}`), Error{Field: "", Reason: "expected ',' or '}' after an object member, got 'l'", Offset: -1}},
		{"control character in a string", with(t, example1, `"MERC-016", "mcc"`, "\"MERC\t016\", \"mcc\""), Error{Field: "merchant.id", Reason: "control character 0x09 in string (it must be escaped)", Offset: -1}},
		{"newline in a key", with(t, example1, `"amount"`, "\"amo\nunt\""), Error{Field: "transaction", Reason: "control character 0x0a in string (it must be escaped)", Offset: -1}},
		{"invalid UTF-8 in a value", with(t, example1, `"MERC-016", "mcc"`, "\"MERC\xff016\", \"mcc\""), Error{Field: "merchant.id", Reason: "invalid UTF-8 in string", Offset: -1}},
		{"invalid UTF-8 in an unknown field", with(t, example1, `"tx-1329056812"`, "\"tx\xc3\x28\""), Error{Field: "id", Reason: "invalid UTF-8 in string", Offset: -1}},
		{"UTF-8-encoded surrogate", with(t, example1, `"tx-1329056812"`, "\"\xed\xa0\x80\""), Error{Field: "id", Reason: "invalid UTF-8 in string", Offset: -1}},
		{"overlong UTF-8", with(t, example1, `"tx-1329056812"`, "\"\xc0\xaf\""), Error{Field: "id", Reason: "invalid UTF-8 in string", Offset: -1}},
		{"invalid UTF-8 outside strings", with(t, example1, `"amount": 41.12`, "\xff\"amount\": 41.12"), Error{Field: "transaction", Reason: "expected a quoted key or '}', got byte 0xff", Offset: -1}},
		{"unknown escape", with(t, example1, `"MERC-016", "mcc"`, `"MERC\x016", "mcc"`), Error{Field: "merchant.id", Reason: "invalid escape in string: backslash followed by 'x'", Offset: -1}},
		{"short \\u escape", with(t, example1, `"MERC-016", "mcc"`, `"MERC\u01", "mcc"`), Error{Field: "merchant.id", Reason: `invalid \u escape in string: expected 4 hexadecimal digits`, Offset: -1}},
		{"non-hex \\u escape", with(t, example1, `"5411"`, `"\u12G4"`), Error{Field: "merchant.mcc", Reason: `invalid \u escape in string: expected 4 hexadecimal digits`, Offset: -1}},
		{"string never closed", `{"id": "abc`, Error{Field: "id", Reason: "unexpected end of input", Offset: 11}},
		{"0/0", with(t, with(t, example1, `41.12`, `0`), `82.24`, `0`), Error{Field: "customer.avg_amount", Reason: "amount/avg_amount is 0/0, undefined", Offset: -1}},
		{"-0/0", with(t, with(t, example1, `41.12`, `-0`), `82.24`, `0`), Error{Field: "customer.avg_amount", Reason: "amount/avg_amount is 0/0, undefined", Offset: -1}},
	})
}

// TestTimestamps checks that bad timestamps are errors naming the field and
// quoting the value.
func TestTimestamps(t *testing.T) {
	requested := func(s string) string { return with(t, example1, `"2026-03-11T18:45:53Z"`, s) }
	const field = "transaction.requested_at"
	bad := func(name, value, why string) errCase {
		return errCase{name, requested(value), Error{Field: field, Reason: "invalid timestamp " + value + ": " + why, Offset: 92}}
	}
	checkErrors(t, []errCase{
		bad("space instead of T", `"2026-03-11 18:45:53"`, "expected 'T' between the date and the time"),
		bad("no zone", `"2026-03-11T18:45:53"`, "missing the time zone (Z or an offset like -03:00)"),
		bad("Unix seconds in a string", `"1710000000"`, reasonTimestampForm),
		bad("date only", `"2026-03-11"`, reasonTimestampForm),
		bad("empty", `""`, reasonTimestampForm),
		bad("month 13", `"2026-13-01T00:00:00Z"`, "month out of range"),
		bad("month 0", `"2026-00-01T00:00:00Z"`, "month out of range"),
		bad("day 0", `"2026-03-00T00:00:00Z"`, "day out of range"),
		bad("29 February of a common year", `"2026-02-29T00:00:00Z"`, "day out of range"),
		bad("29 February 1900", `"1900-02-29T00:00:00Z"`, "day out of range"),
		bad("31 April", `"2026-04-31T00:00:00Z"`, "day out of range"),
		bad("hour 24", `"2026-03-11T24:00:00Z"`, "hour out of range"),
		bad("minute 60", `"2026-03-11T18:60:00Z"`, "minute out of range"),
		bad("leap second", `"2016-12-31T23:59:60Z"`, "leap second (60) is not supported"),
		bad("second 61", `"2026-03-11T18:45:61Z"`, "second out of range"),
		bad("offset hour 24", `"2026-03-11T18:45:53+24:00"`, "offset hour out of range"),
		bad("offset minute 60", `"2026-03-11T18:45:53+05:60"`, "offset minute out of range"),
		bad("offset without colon", `"2026-03-11T18:45:53+0530"`, reasonOffsetForm),
		bad("offset hours only", `"2026-03-11T18:45:53+05"`, reasonOffsetForm),
		bad("zone name", `"2026-03-11T18:45:53 UTC"`, "expected Z or an offset like -03:00 after the time"),
		bad("text after Z", `"2026-03-11T18:45:53ZZ"`, "unexpected text after the time zone"),
		bad("empty fraction", `"2026-03-11T18:45:53.Z"`, "expected digits after the decimal point"),
		bad("comma fraction", `"2026-03-11T18:45:53,5Z"`, "expected Z or an offset like -03:00 after the time"),
		bad("short year", `"226-03-11T18:45:53Z"`, reasonTimestampForm),
		bad("signed year", `"+2026-03-11T18:45:53Z"`, reasonTimestampForm),
		bad("single-digit month", `"2026-3-11T18:45:53Z"`, reasonTimestampForm),
	})
	// An escaped value is quoted decoded; a long one is cut at 40 bytes.
	checkErrors(t, []errCase{
		{"escaped and wrong", requested(`"2026-13-11T18:45:53\u005a"`), Error{Field: field, Reason: `invalid timestamp "2026-13-11T18:45:53Z": month out of range`, Offset: 92}},
		{"long value is cut", requested(`"2026-03-11T18:45:53.` + strings.Repeat("1", 30) + `+25:00"`), Error{Field: field, Reason: `invalid timestamp "2026-03-11T18:45:53.11111111111111111111"...: offset hour out of range`, Offset: 92}},
		{"longer than 64 bytes", requested(`"2026-03-11T18:45:53.` + strings.Repeat("1", 60) + `Z"`), Error{Field: field, Reason: `invalid timestamp "2026-03-11T18:45:53.11111111111111111111"...: longer than 64 bytes`, Offset: 92}},
		{"escaped, longer than 64 bytes", requested(`"2026-03-11T18:45:53.` + strings.Repeat(`\u0031`, 60) + `Z"`), Error{Field: field, Reason: `invalid timestamp "2026-03-11T18:45:53.11111111111111111111"...: longer than 64 bytes`, Offset: 92}},
		{"bad last timestamp", with(t, withLast, `"2026-03-11T14:58:35Z"`, `"yesterday"`), Error{Field: "last_transaction.timestamp", Reason: `invalid timestamp "yesterday": ` + reasonTimestampForm, Offset: -1}},
	})
}

// TestEveryPrefixIsAnError cuts valid bodies at every byte: each prefix is
// truncated JSON and must say so, at its end, without panicking.
func TestEveryPrefixIsAnError(t *testing.T) {
	escaped := with(t, withLast, `"id": "MERC-001"`, `"id": "MERC\u002d001", "x": [{"y": -1.5e+3}, true, false, null, "\ud83d\ude00"]`)
	for _, body := range []string{example1, example2, withLast, escaped} {
		for n := range len(body) {
			_, err := Vectorize([]byte(body[:n]))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("prefix %q: error %v is not an *Error", body[:n], err)
			}
			want := "unexpected end of input"
			if n == 0 {
				want = "empty body"
			}
			if e.Reason != want || e.Offset != n {
				t.Fatalf("prefix %q: %v, want %q at byte %d", body[:n], e, want, n)
			}
		}
	}
	// The field path is named when the cut is inside a known field.
	for cut, field := range map[string]string{
		`{"transaction": {"amount": 41.`:                    "transaction.amount",
		`{"transaction": {"amount": 41.12,`:                 "transaction",
		`{"transaction": {"requested_at": "2026-03-`:        "transaction.requested_at",
		`{"customer": {"known_merchants": ["MERC-003", "ME`: "customer.known_merchants",
		`{"terminal": {"is_online": fal`:                    "terminal.is_online",
		`{"last_transaction": nu`:                           "last_transaction",
		`{"x": [1, 2`:                                       "",
	} {
		_, err := Vectorize([]byte(cut))
		if e := err.(*Error); e.Field != field || e.Reason != "unexpected end of input" {
			t.Errorf("%s: got %v, want field %q", cut, e, field)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  Error
		want string
	}{
		{Error{"transaction.amount", 45, "expected a number, got a string"}, "transaction.amount: expected a number, got a string (byte 45)"},
		{Error{"", 0, "empty body"}, "empty body (byte 0)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	// A real one, end to end.
	_, err := Vectorize([]byte(with(t, example1, `41.12`, `"12.5"`)))
	if got, want := err.Error(), "transaction.amount: expected a number, got a string (byte 50)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// checkRange checks the output range Vectorize documents.
func checkRange(t testing.TB, v vector.Vector) {
	t.Helper()
	for i, x := range v {
		inRange := 0 <= x && x <= vector.Scale
		if (i == 5 || i == 6) && x == -vector.Scale {
			inRange = true
		}
		if !inRange {
			t.Errorf("dimension %d = %d is outside the documented range (vector %v)", i, x, v)
		}
	}
	if (v[5] == -vector.Scale) != (v[6] == -vector.Scale) {
		t.Errorf("dimensions 5 and 6 disagree on the last transaction: %v", v)
	}
}

func TestExcerpt(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"2026-13-01T00:00:00Z", `"2026-13-01T00:00:00Z"`},
		{strings.Repeat("a", 40), `"` + strings.Repeat("a", 40) + `"`},
		{strings.Repeat("a", 41), `"` + strings.Repeat("a", 40) + `"...`},
		{strings.Repeat("\x7f", 20), `"` + strings.Repeat(`\x7f`, 10) + `"...`},
		{"\n\t\"'\\é😀\u2028\x00", `"\n\t\"'\\é😀\u2028\x00"`},
	} {
		var m message
		m.text = m.mem[:0]
		if got := string(m.excerpt([]byte(tc.in)).text); got != tc.want {
			t.Errorf("excerpt(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if got := strconv.Quote(tc.in); !strings.HasSuffix(tc.want, "...") && got != tc.want {
			t.Errorf("excerpt(%q) = %s, strconv.Quote gives %s", tc.in, tc.want, got)
		}
	}
}
