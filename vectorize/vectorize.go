// Package vectorize turns a /fraud-score request body into the 14-dimension
// vector the nearest-neighbour search compares against the references.
//
// The formulas, constants and the rounding rule come from SPEC.md ("From
// payload to vector: 14 dimensions"). Every dimension is rounded to 4
// decimals and stored as a fixed-point int16 at vector.Scale, which is exactly how
// the reference vectors were produced, so distances between a query and the
// references are exact integers.
//
// The JSON parser is written for this one schema: one pass over the body, no
// reflection, no heap allocation on success. It is strict (RFC 8259, RFC
// 3339) and reports every problem as an *Error that names the field.
package vectorize

import (
	"math"

	"fraudknn/vector"
)

// Normalization constants, from normalization.json.
const (
	maxAmount            = 10000
	maxInstallments      = 12
	amountVsAvgRatio     = 10
	maxMinutes           = 1440
	maxKm                = 1000
	maxTxCount24h        = 20
	maxMerchantAvgAmount = 10000

	maxHour    = 23 // hour_of_day is hour / 23
	maxWeekday = 6  // day_of_week is weekday / 6, Monday = 0
)

// Vectorize parses a /fraud-score request body and returns its vector.
//
// Output range, which the search relies on: every dimension is within
// [0, vector.Scale], except dimensions 5 (minutes_since_last_tx) and 6
// (km_from_last_tx), which are within [0, vector.Scale] or exactly -vector.Scale when the
// body has no last transaction. So any per-dimension difference between two
// vectors is at most 2*vector.Scale.
//
// The body must be one JSON object (RFC 8259, UTF-8) with the fields of
// SPEC.md, each of the right type, each known key at most once; unknown
// keys are skipped. On any problem Vectorize returns an *Error naming the
// field; it never substitutes a default. A successful call does not
// allocate, and Vectorize does not keep body.
func Vectorize(body []byte) (vector.Vector, error) {
	p := parser{buf: body}
	if err := p.parse(); err != nil {
		return vector.Vector{}, err
	}
	v, err := p.vector()
	if err != nil {
		return vector.Vector{}, err
	}
	return v, nil
}

// vector computes the 14 dimensions from the parsed fields.
//
// Each dimension repeats the formula of SPEC.md with the same float64
// operations in the same order, then clamps and rounds, so that the result
// is bit-for-bit what the reference generator computed.
func (p *parser) vector() (vector.Vector, *Error) {
	var v vector.Vector
	amount := p.num[fieldAmount]

	v[0] = scaled(clamp(amount / maxAmount))
	v[1] = scaled(clamp(p.num[fieldInstallments] / maxInstallments))

	ratio := amount / p.num[fieldCustomerAvg]
	if math.IsNaN(ratio) { // only 0/0 can produce it from finite inputs
		return v, p.fail(fieldCustomerAvg, p.at[fieldCustomerAvg],
			"amount/avg_amount is 0/0, undefined")
	}
	v[2] = scaled(clamp(ratio / amountVsAvgRatio))

	requested := p.when[fieldRequestedAt]
	v[3] = scaled(float64(requested.hour()) / maxHour)
	v[4] = scaled(float64(requested.weekday()) / maxWeekday)

	if p.hasLast {
		minutes := secondsBetween(p.when[fieldLastTimestamp], requested) / 60
		v[5] = scaled(clamp(minutes / maxMinutes))
		v[6] = scaled(clamp(p.num[fieldLastKm] / maxKm))
	} else {
		v[5], v[6] = -vector.Scale, -vector.Scale
	}

	v[7] = scaled(clamp(p.num[fieldKmFromHome] / maxKm))
	v[8] = scaled(clamp(p.num[fieldTxCount24h] / maxTxCount24h))
	v[9] = oneIf(p.flag[fieldIsOnline])
	v[10] = oneIf(p.flag[fieldCardPresent])
	v[11] = oneIf(!p.merchantKnown())
	v[12] = scaled(p.mccRisk())
	v[13] = scaled(clamp(p.num[fieldMerchantAvg] / maxMerchantAvgAmount))
	return v, nil
}

// clamp limits x to [0, 1]. Go's min and max order -0 before +0, so a
// negative zero comes out as +0.
func clamp(x float64) float64 {
	return min(max(x, 0), 1)
}

// scaled rounds v to 4 decimals as a fixed-point int16: round(v*vector.Scale),
// halves away from zero. The float64 conversion forbids the compiler to
// fuse the product into a neighbouring operation (FMA), so the product is
// rounded to float64 exactly as the reference generator rounded it.
func scaled(v float64) int16 {
	return int16(math.Round(float64(v * vector.Scale)))
}

// oneIf is 1 (as vector.Scale) for true and 0 for false.
func oneIf(b bool) int16 {
	if b {
		return vector.Scale
	}
	return 0
}

// unknownMCCRisk is the risk of an MCC that mcc_risk.json does not list.
const unknownMCCRisk = 0.5

// mccRisk looks merchant.mcc up in mcc_risk.json.
func (p *parser) mccRisk() float64 {
	// Every listed code is 4 ASCII digits, so a value that does not decode
	// into 4 bytes is not listed.
	var buf [4]byte
	code, ok := p.decoded(fieldMCC, buf[:])
	if !ok {
		return unknownMCCRisk
	}
	return riskOf(code)
}

// riskOf looks a decoded MCC up in mcc_risk.json.
func riskOf(code []byte) float64 {
	switch string(code) {
	case "5411":
		return 0.15
	case "5812":
		return 0.30
	case "5912":
		return 0.20
	case "5944":
		return 0.45
	case "7801":
		return 0.80
	case "7802":
		return 0.75
	case "7995":
		return 0.85
	case "4511":
		return 0.35
	case "5311":
		return 0.25
	case "5999":
		return 0.50
	}
	return unknownMCCRisk
}
