package vectorize

// instant is a moment in UTC: whole seconds since 1970-01-01T00:00:00Z and
// the nanoseconds within that second. Unlike time.Time it needs no
// location, and unlike time.Duration a difference of two instants cannot
// saturate.
type instant struct {
	sec  int64
	nsec int64 // in [0, 1e9)
}

const secondsPerDay = 24 * 60 * 60

// hour returns the hour of the day of t, in UTC.
func (t instant) hour() int {
	return int(floorMod(t.sec, secondsPerDay) / 3600)
}

// weekday returns the day of the week of t in UTC, Monday = 0 … Sunday = 6.
func (t instant) weekday() int {
	const thursday = 3 // 1970-01-01 was a Thursday
	return int(floorMod(floorDiv(t.sec, secondsPerDay)+thursday, 7))
}

// secondsBetween returns to − from in seconds, computed from the exact
// integer parts: the whole seconds, plus the nanoseconds as a fraction.
func secondsBetween(from, to instant) float64 {
	return float64(to.sec-from.sec) + float64(to.nsec-from.nsec)/1e9
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// maxTimestampLen bounds a timestamp's length. The longest useful form,
// with nanoseconds and an offset, is 35 bytes; the bound leaves room for
// longer fractions while keeping the decoding buffer small.
const maxTimestampLen = 64

const (
	reasonTimestampTooLong = "longer than 64 bytes"
	reasonTimestampForm    = "expected the form 2026-03-11T18:45:53Z (RFC 3339)"
	reasonOffsetForm       = "expected an offset of the form +HH:MM or -HH:MM"
)

// parseTimestamp reads an RFC 3339 date-time:
//
//	YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
//
// with 'T' or 't', 'Z' or 'z', and a fraction of any length (digits past
// nanoseconds are dropped, as time.Parse does). Every part is checked
// against its range, the day against its month, leap years included. A
// leap second (60) is refused: the contract has no use for one and
// time.Parse refuses it too. An offset is subtracted to give UTC.
//
// On failure it returns why, short enough to follow the quoted value.
func parseTimestamp(s []byte) (t instant, why string) {
	if len(s) > maxTimestampLen {
		return t, reasonTimestampTooLong
	}
	if len(s) < len("2006-01-02T15:04:05") {
		return t, reasonTimestampForm
	}
	year, okY := atoi(s[0:4])
	month, okM := atoi(s[5:7])
	day, okD := atoi(s[8:10])
	if !okY || !okM || !okD || s[4] != '-' || s[7] != '-' {
		return t, reasonTimestampForm
	}
	if s[10] != 'T' && s[10] != 't' {
		return t, "expected 'T' between the date and the time"
	}
	hour, okH := atoi(s[11:13])
	minute, okMin := atoi(s[14:16])
	second, okS := atoi(s[17:19])
	if !okH || !okMin || !okS || s[13] != ':' || s[16] != ':' {
		return t, reasonTimestampForm
	}
	switch {
	case month < 1 || month > 12:
		return t, "month out of range"
	case day < 1 || day > daysIn(month, year):
		return t, "day out of range"
	case hour > 23:
		return t, "hour out of range"
	case minute > 59:
		return t, "minute out of range"
	case second == 60:
		return t, "leap second (60) is not supported"
	case second > 60:
		return t, "second out of range"
	}

	i := len("2006-01-02T15:04:05")
	if i < len(s) && s[i] == '.' {
		i++
		digits := 0
		for ; i < len(s) && isDigit(s[i]); i++ {
			if digits < 9 {
				t.nsec = t.nsec*10 + int64(s[i]-'0')
			}
			digits++
		}
		if digits == 0 {
			return t, "expected digits after the decimal point"
		}
		for ; digits < 9; digits++ {
			t.nsec *= 10
		}
	}

	if i == len(s) {
		return t, "missing the time zone (Z or an offset like -03:00)"
	}
	var offset int64 // seconds east of UTC
	switch s[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(s)-i < len("+03:00") {
			return t, reasonOffsetForm
		}
		oh, okOH := atoi(s[i+1 : i+3])
		om, okOM := atoi(s[i+4 : i+6])
		if !okOH || !okOM || s[i+3] != ':' {
			return t, reasonOffsetForm
		}
		if oh > 23 {
			return t, "offset hour out of range"
		}
		if om > 59 {
			return t, "offset minute out of range"
		}
		offset = int64(oh*3600 + om*60)
		if s[i] == '-' {
			offset = -offset
		}
		i += len("+03:00")
	default:
		return t, "expected Z or an offset like -03:00 after the time"
	}
	if i != len(s) {
		return t, "unexpected text after the time zone"
	}

	t.sec = daysSinceEpoch(year, month, day)*secondsPerDay +
		int64(hour*3600+minute*60+second) - offset
	return t, ""
}

// atoi reads b, 2 or 4 decimal digits.
func atoi(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isLeap(year int) bool {
	return year%4 == 0 && (year%100 != 0 || year%400 == 0)
}

// daysIn returns the number of days of a month (1-12) of a year.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch returns the number of days from 1970-01-01 to a date of
// the proleptic Gregorian calendar (the one RFC 3339 uses), year 0 to 9999.
func daysSinceEpoch(year, month, day int) int64 {
	return dayNumber(year, month, day) - epochDayNumber
}

// epochDayNumber is dayNumber of 1970-01-01.
var epochDayNumber = dayNumber(1970, 1, 1)

// dayNumber counts days from a fixed origin to a date.
//
// It counts in years that begin on March 1st. Then the leap day, when there
// is one, is the last day of its counting year, so that the days before a
// counting year y are 365 per year plus one per leap year among 1…y
// (y/4 − y/100 + y/400), and the months from March have a fixed pattern of
// lengths, 31 30 31 30 31 repeating, which (153*m + 2) / 5 sums for the m
// months before the date's. Adding 400 years (exactly 146,097 days, a whole
// Gregorian cycle) keeps y positive for year 0, where Go's division would
// otherwise round towards zero.
func dayNumber(year, month, day int) int64 {
	y := int64(year) + 400
	m := int64(month) - 3 // March = 0 … December = 9
	if m < 0 {
		y-- // January and February close the previous counting year
		m += 12
	}
	return 365*y + y/4 - y/100 + y/400 + (153*m+2)/5 + int64(day) - 1
}
