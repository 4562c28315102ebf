package vectorize

import (
	"strings"
	"testing"
)

// TestVectorizeAllocations asserts that a successful call allocates nothing.
func TestVectorizeAllocations(t *testing.T) {
	escaped := with(t, with(t, with(t, withLast,
		`"id": "MERC-001"`, `"id": "MERC\u002d001", "note": ["\ud83d\ude00", {"k": [1e400, null]}]`),
		`"5912"`, `"5\u0039\u0031\u0032"`),
		`"requested_at"`, `"requested\u005fat"`)
	bodies := map[string]string{
		"without last_transaction": example1,
		"fraud example":            example2,
		"with last_transaction":    withLast,
		"with escapes":             escaped,
		"10,000 known merchants":   longKnownMerchants(10000, "MERC-016"),
	}
	for name, body := range bodies {
		b := []byte(body)
		if _, err := Vectorize(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = Vectorize(b) }); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
}

// TestErrorAllocations asserts that a refused body costs at most two
// allocations: the *Error and, when the reason is composed, its text. (One
// exception, not tested: a number beyond ±1.8e308 costs two more, the
// *NumError that strconv.ParseFloat returns on overflow.)
func TestErrorAllocations(t *testing.T) {
	bodies := map[string]string{
		"constant reason":   with(t, example1, `41.12`, `01`),
		"wrong type":        with(t, example1, `41.12`, `"12.5"`),
		"unexpected byte":   example1[:40] + "\xff",
		"bad timestamp":     with(t, example1, `"2026-03-11T18:45:53Z"`, `"2026-03-11 18:45:53\u2028"`),
		"long timestamp":    with(t, example1, `"2026-03-11T18:45:53Z"`, `"2026-03-11T18:45:53.`+strings.Repeat(`\u0031`, 70)+`Z"`),
		"control character": with(t, example1, `"MERC-016", "mcc"`, "\"MERC\x01016\", \"mcc\""),
		"invalid escape":    with(t, example1, `"MERC-016", "mcc"`, `"MERC\q", "mcc"`),
		"invalid literal":   with(t, example1, `"is_online": false`, `"is_online": fals3`),
		"0/0":               with(t, with(t, example1, `41.12`, `0`), `82.24`, `0`),
	}
	for name, body := range bodies {
		b := []byte(body)
		if _, err := Vectorize(b); err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = Vectorize(b) }); n > 2 {
			t.Errorf("%s: %v allocations per refusal, want at most 2", name, n)
		}
	}
}
