package vectorize

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"fraudknn/vector"
)

// referenceVector is a slow, independent implementation of SPEC.md used as
// a test oracle: encoding/json into generic values, time.Parse, and the
// formulas written out again. ok is false when it cannot vectorize body:
// invalid JSON, a field missing or of the wrong type, a bad timestamp, or a
// NaN dimension.
//
// encoding/json is more lenient than Vectorize (duplicate keys resolve
// last-wins, invalid UTF-8 becomes U+FFFD, time.Parse accepts an offset of
// +24:00), so only agreement on the vector is meaningful, not agreement on
// acceptance. Decoding into maps keeps keys exact, so "Amount" is not
// mistaken for "amount" as it would be with struct fields.
func referenceVector(body []byte) (v vector.Vector, ok bool) {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil || doc == nil {
		return v, false
	}
	if id, present := doc["id"]; present {
		if _, isString := id.(string); !isString {
			return v, false
		}
	}
	tx, ok1 := doc["transaction"].(map[string]any)
	cu, ok2 := doc["customer"].(map[string]any)
	me, ok3 := doc["merchant"].(map[string]any)
	te, ok4 := doc["terminal"].(map[string]any)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return v, false
	}
	amount, ok1 := tx["amount"].(float64)
	installments, ok2 := tx["installments"].(float64)
	requested, ok3 := refTime(tx["requested_at"])
	customerAvg, ok4 := cu["avg_amount"].(float64)
	txCount, ok5 := cu["tx_count_24h"].(float64)
	known, ok6 := cu["known_merchants"].([]any)
	merchantID, ok7 := me["id"].(string)
	mcc, ok8 := me["mcc"].(string)
	merchantAvg, ok9 := me["avg_amount"].(float64)
	online, ok10 := te["is_online"].(bool)
	cardPresent, ok11 := te["card_present"].(bool)
	kmHome, ok12 := te["km_from_home"].(float64)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9 && ok10 && ok11 && ok12) {
		return v, false
	}

	round := func(x float64) int16 { return int16(math.Round(x * 10000)) }
	clamp := func(x float64) float64 { return math.Min(math.Max(x, 0), 1) }
	boolean := func(b bool) int16 {
		if b {
			return 10000
		}
		return 0
	}

	ratio := amount / customerAvg
	if math.IsNaN(ratio) {
		return v, false
	}
	utc := requested.UTC()
	v[0] = round(clamp(amount / 10000))
	v[1] = round(clamp(installments / 12))
	v[2] = round(clamp(ratio / 10))
	v[3] = round(float64(utc.Hour()) / 23)
	v[4] = round(float64((int(utc.Weekday())+6)%7) / 6) // time.Weekday has Sunday = 0
	switch last := doc["last_transaction"].(type) {
	case nil:
		v[5], v[6] = -10000, -10000
	case map[string]any:
		when, ok1 := refTime(last["timestamp"])
		km, ok2 := last["km_from_current"].(float64)
		if !ok1 || !ok2 {
			return v, false
		}
		seconds := float64(requested.Unix()-when.Unix()) + float64(requested.Nanosecond()-when.Nanosecond())/1e9
		v[5] = round(clamp(seconds / 60 / 1440))
		v[6] = round(clamp(km / 1000))
	default:
		return v, false
	}
	v[7] = round(clamp(kmHome / 1000))
	v[8] = round(clamp(txCount / 20))
	v[9] = boolean(online)
	v[10] = boolean(cardPresent)
	v[11] = 10000
	for _, k := range known {
		s, isString := k.(string)
		if !isString {
			return v, false
		}
		if s == merchantID {
			v[11] = 0
		}
	}
	risk, listed := referenceMCCRisk[mcc]
	if !listed {
		risk = 0.5
	}
	v[12] = round(risk)
	v[13] = round(clamp(merchantAvg / 10000))
	return v, true
}

// referenceMCCRisk is mcc_risk.json.
var referenceMCCRisk = map[string]float64{
	"5411": 0.15, "5812": 0.30, "5912": 0.20, "5944": 0.45, "7801": 0.80,
	"7802": 0.75, "7995": 0.85, "4511": 0.35, "5311": 0.25, "5999": 0.50,
}

// refTime parses a JSON string value with time.Parse(time.RFC3339).
func refTime(x any) (time.Time, bool) {
	s, ok := x.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// TestReferenceOnSPECExamples checks the oracle itself on the golden vectors.
func TestReferenceOnSPECExamples(t *testing.T) {
	for _, c := range []struct {
		body string
		want vector.Vector
	}{{example1, golden1}, {example2, golden2}, {withLast, goldenLast}} {
		got, ok := referenceVector([]byte(c.body))
		if !ok || got != c.want {
			t.Errorf("referenceVector = %v, %v; want %v", got, ok, c.want)
		}
	}
}

// TestAgainstReferenceExamples compares Vectorize with the reference on
// every body of example-payloads.json.
func TestAgainstReferenceExamples(t *testing.T) {
	for i, body := range examplePayloads(t) {
		compareWithReference(t, i, body)
	}
}

// TestAgainstReferenceTestData compares Vectorize with the reference on
// the requests of test-data.json.gz: all 72,100, or the first 3,000 with
// -short.
func TestAgainstReferenceTestData(t *testing.T) {
	f, err := os.Open(dataFile(t, "test-data.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Entries []struct {
			Request json.RawMessage `json:"request"`
		} `json:"entries"`
	}
	if err := json.NewDecoder(zr).Decode(&data); err != nil {
		t.Fatalf("test-data.json.gz: %v", err)
	}
	entries := data.Entries
	if testing.Short() && len(entries) > 3000 {
		entries = entries[:3000]
	}
	if len(entries) == 0 {
		t.Fatal("test-data.json.gz has no entries")
	}
	withLast := 0
	for i, e := range entries {
		v := compareWithReference(t, i, e.Request)
		if v[5] != -vector.Scale {
			withLast++
		}
	}
	t.Logf("%d requests agree with the reference, %d of them with a last transaction", len(entries), withLast)
}

// compareWithReference requires both implementations to accept body and to
// agree on its vector, and checks the body once more with indentation
// removed or added, which must not change the result.
func compareWithReference(t *testing.T, i int, body []byte) vector.Vector {
	t.Helper()
	want, ok := referenceVector(body)
	if !ok {
		t.Fatalf("request %d: the reference refuses it: %s", i, body)
	}
	var compact, indented bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		t.Fatal(err)
	}
	if err := json.Indent(&indented, body, "\t", "  "); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{body, compact.Bytes(), indented.Bytes()} {
		got, err := Vectorize(b)
		if err != nil {
			t.Fatalf("request %d: %v\n%s", i, err, b)
		}
		if got != want {
			t.Fatalf("request %d:\n got %v\nwant %v\n%s", i, got, want, b)
		}
	}
	return want
}
