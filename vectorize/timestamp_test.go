package vectorize

import (
	"testing"
	"time"

	"fraudknn/internal/testenv"
)

// TestDaysSinceEpoch compares the day count with the time package on
// every day of years at the edges and on random dates of years 0 to 9999.
func TestDaysSinceEpoch(t *testing.T) {
	check := func(y, m, d int) {
		t.Helper()
		want := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay
		if got := daysSinceEpoch(y, m, d); got != want {
			t.Fatalf("daysSinceEpoch(%04d-%02d-%02d) = %d, want %d", y, m, d, got, want)
		}
	}
	for _, y := range []int{0, 1, 4, 100, 400, 1600, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 9999} {
		for m := 1; m <= 12; m++ {
			for d := 1; d <= daysIn(m, y); d++ {
				check(y, m, d)
			}
		}
	}
	r := testenv.Rand(t, 1)
	for range 100000 {
		y, m := r.IntN(10000), 1+r.IntN(12)
		check(y, m, 1+r.IntN(daysIn(m, y)))
	}
}

// TestParseTimestampAgainstTimePackage formats random instants with random
// offsets and fractions and compares the parse with time.Parse.
func TestParseTimestampAgainstTimePackage(t *testing.T) {
	r := testenv.Rand(t, 3)
	layouts := []string{
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05.9Z07:00",
		"2006-01-02T15:04:05.000Z07:00",
		"2006-01-02T15:04:05.999999999Z07:00",
	}
	for range 100000 {
		sec := r.Int64N(253402300800+62167219200) - 62167219200 // 0000-01-01 … 9999-12-31
		offset := (r.IntN(2*1439+1) - 1439) * 60                // -23:59 … +23:59
		when := time.Unix(sec, r.Int64N(1e9)).In(time.FixedZone("", offset))
		if when.Year() < 0 || when.Year() > 9999 {
			continue
		}
		s := when.Format(layouts[r.IntN(len(layouts))])
		ref, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("time.Parse(%q): %v", s, err)
		}
		got, why := parseTimestamp([]byte(s))
		if why != "" {
			t.Fatalf("parseTimestamp(%q): %s", s, why)
		}
		want := instant{sec: ref.Unix(), nsec: int64(ref.Nanosecond())}
		if got != want {
			t.Fatalf("parseTimestamp(%q) = %+v, want %+v", s, got, want)
		}
		utc := ref.UTC()
		if got.hour() != utc.Hour() {
			t.Fatalf("%q: hour %d, want %d", s, got.hour(), utc.Hour())
		}
		if wd := (int(utc.Weekday()) + 6) % 7; got.weekday() != wd {
			t.Fatalf("%q: weekday %d, want %d", s, got.weekday(), wd)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, tc := range []struct {
		in        string
		sec, nsec int64
		hour, wd  int
	}{
		{"2026-03-11T18:45:53Z", 1773254753, 0, 18, 2},
		{"2026-03-11T23:30:00-03:00", 1773282600, 0, 2, 3},
		{"2026-03-11t23:30:00z", 1773271800, 0, 23, 2},
		{"2026-03-11T18:45:53.5Z", 1773254753, 500000000, 18, 2},
		{"2026-03-11T18:45:53.123456789123Z", 1773254753, 123456789, 18, 2},
		{"1970-01-01T00:00:00Z", 0, 0, 0, 3},
		{"1969-12-31T23:59:59.999999999Z", -1, 999999999, 23, 2},
		{"0000-01-01T00:00:00+23:59", -62167305540, 0, 0, 4},
		{"9999-12-31T23:59:59-23:59", 253402387139, 0, 23, 5},
	} {
		got, why := parseTimestamp([]byte(tc.in))
		if why != "" {
			t.Errorf("%s: %s", tc.in, why)
			continue
		}
		if got.sec != tc.sec || got.nsec != tc.nsec || got.hour() != tc.hour || got.weekday() != tc.wd {
			t.Errorf("%s: sec %d nsec %d hour %d weekday %d, want %d %d %d %d",
				tc.in, got.sec, got.nsec, got.hour(), got.weekday(), tc.sec, tc.nsec, tc.hour, tc.wd)
		}
	}
}

func TestSecondsBetween(t *testing.T) {
	a := instant{sec: 100, nsec: 750000000}
	b := instant{sec: 104, nsec: 250000000}
	if got := secondsBetween(a, b); got != 3.5 {
		t.Errorf("secondsBetween = %v, want 3.5", got)
	}
	if got := secondsBetween(b, a); got != -3.5 {
		t.Errorf("secondsBetween reversed = %v, want -3.5", got)
	}
	// Ten thousand years apart: no saturation, unlike time.Duration.
	lo, _ := parseTimestamp([]byte("0000-01-01T00:00:00Z"))
	hi, _ := parseTimestamp([]byte("9999-12-31T23:59:59Z"))
	if got, want := secondsBetween(lo, hi), float64(253402300799+62167219200); got != want {
		t.Errorf("secondsBetween(0000, 9999) = %v, want %v", got, want)
	}
}
