package replay

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fraudknn/artifact"
	"fraudknn/internal/decision"
	"fraudknn/internal/kmeans"
	"fraudknn/internal/payloads"
	"fraudknn/internal/refs"
	"fraudknn/internal/testenv"
	"fraudknn/knn"
	"fraudknn/vector"
	"fraudknn/vectorize"
)

// body returns a random, valid /fraud-score request.
func body(rng *rand.Rand, i int) []byte {
	last := "null"
	if rng.IntN(4) != 0 {
		last = fmt.Sprintf(`{"timestamp":"2026-03-%02dT%02d:%02d:00Z","km_from_current":%.4f}`, 1+rng.IntN(10), rng.IntN(24), rng.IntN(60), rng.Float64()*1200)
	}
	mccs := []string{"5411", "5812", "7995", "0000"}
	return fmt.Appendf(nil, `{"id":"tx-%d","transaction":{"amount":%.2f,"installments":%d,"requested_at":"2026-03-11T%02d:%02d:00Z"},`+
		`"customer":{"avg_amount":%.2f,"tx_count_24h":%d,"known_merchants":["MERC-001","MERC-002"]},`+
		`"merchant":{"id":"MERC-00%d","mcc":"%s","avg_amount":%.2f},`+
		`"terminal":{"is_online":%v,"card_present":%v,"km_from_home":%.4f},"last_transaction":%s}`,
		i, rng.Float64()*12000, 1+rng.IntN(12), rng.IntN(24), rng.IntN(60),
		10+rng.Float64()*2000, rng.IntN(25),
		1+rng.IntN(4), mccs[rng.IntN(len(mccs))], rng.Float64()*11000,
		rng.IntN(2) == 0, rng.IntN(2) == 0, rng.Float64()*1100, last)
}

// synthetic builds an index of random references and payloads whose
// expected answers come from a brute-force scan.
func synthetic(t *testing.T, n, count int) (*knn.Index, []payloads.Entry) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	vecs := make([]int16, 0, n*vector.Dims)
	labels := make([]uint8, n)
	for i := 0; i < n; i++ {
		v, err := vectorize.Vectorize(body(rng, i))
		if err != nil {
			t.Fatal(err)
		}
		vecs = append(vecs, v[:]...)
		labels[i] = uint8(rng.IntN(2))
	}
	res, err := kmeans.Run(vecs, kmeans.Config{K: 32, MaxIter: 4})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knn.Build(vecs, labels, res.Assign, res.K)
	if err != nil {
		t.Fatal(err)
	}
	entries := make([]payloads.Entry, count)
	var r knn.Result
	for i := range entries {
		b := body(rng, n+i)
		v, _ := vectorize.Vectorize(b)
		knn.BruteForce(vecs, labels, (*[vector.Dims]int16)(&v), Neighbors, &r)
		approved, score := decision.Decide(r.Frauds)
		entries[i] = payloads.Entry{Request: b, ExpectedApproved: approved, ExpectedFraudScore: score}
	}
	return ix, entries
}

func TestRunSynthetic(t *testing.T) {
	ix, entries := synthetic(t, 3000, 300)
	sum := Run(ix, entries, Options{Brute: 300})
	if !sum.OK() || sum.N != 300 || sum.BruteChecked != 300 {
		t.Fatalf("%v (brute-checked %d)", sum, sum.BruteChecked)
	}

	// Damage the expectations: the replay must count each kind.
	entries[0].ExpectedApproved = !entries[0].ExpectedApproved
	entries[1].ExpectedFraudScore += 0.2
	entries[2].Request = []byte(`{"transaction":`)
	var log strings.Builder
	sum = Run(ix, entries, Options{Show: 10, Log: &log})
	if sum.Wrong != 1 || sum.FP+sum.FN != 1 || sum.ScoreMismatch != 1 || sum.Errors != 1 || sum.OK() {
		t.Fatalf("damaged expectations: %v", sum)
	}
	if !strings.Contains(log.String(), "tx-3000") || !strings.Contains(log.String(), "vectorize") {
		t.Fatalf("the details do not name the failing entries:\n%s", log.String())
	}
}

func TestSummaryLine(t *testing.T) {
	s := Summary{N: 10, Wrong: 3, FP: 1, FN: 2, ScoreMismatch: 4, Errors: 5,
		SearchP50: 1500 * time.Nanosecond, SearchP99: 12300 * time.Nanosecond, ScannedP50: 700, ScannedP99: 9000}
	want := "replayed 10 payloads: 3 wrong (FP 1, FN 2), 4 fraud_score mismatches, 5 errors; search p50 1.5 µs, p99 12.3 µs; vectors scanned p50 700, p99 9000"
	if s.String() != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
}

// TestSharedPayloads replays every shared payload against the artifact
// built from the shared references: the project's main claim.
func TestSharedPayloads(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the full-data replay in -short mode")
	}
	payloadsPath := testenv.DataFile(t, "test-data.json.gz")
	path := os.Getenv("FRAUDKNN_ARTIFACT")
	if path == "" {
		refsPath := testenv.DataFile(t, "references.json.gz")
		t.Logf("FRAUDKNN_ARTIFACT is not set: building an artifact from %s (about a minute; `make test` reuses build/index.fknn)", refsPath)
		path = filepath.Join(t.TempDir(), "index.fknn")
		set, err := refs.ReadFile(refsPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := kmeans.Run(set.Vecs, kmeans.Config{K: 4096, MaxIter: kmeans.DefaultIterations, Sample: kmeans.DefaultSample, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		ix, err := knn.Build(set.Vecs, set.Labels, res.Assign, res.K)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := artifact.Write(path, ix, artifact.Meta{Source: set.SHA256}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := artifact.Map(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	p, err := payloads.Load(payloadsPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", a.Meta.Source); p.ReferencesSHA256 != got {
		t.Fatalf("artifact built from references %s; the payloads expect %s", got, p.ReferencesSHA256)
	}
	var log strings.Builder
	sum := Run(a.Index, p.Entries, Options{Show: 5, Brute: 20, Log: &log})
	t.Log(sum)
	if !sum.OK() || sum.N != len(p.Entries) {
		t.Fatalf("%v\n%s", sum, log.String())
	}
}

// The payload file's entries parse as the contest's schema.
func TestLoadPayloadsForms(t *testing.T) {
	dir := t.TempDir()
	entry := `{"request":{"id":"x"},"expected_approved":true,"expected_fraud_score":0.2}`
	for name, text := range map[string]string{
		"object.json": `{"references_checksum_sha256":"ab","entries":[` + entry + `]}`,
		"array.json":  `[` + entry + `]`,
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(text), 0o644)
		p, err := payloads.Load(path)
		if err != nil || len(p.Entries) != 1 || p.Entries[0].ExpectedFraudScore != 0.2 {
			t.Fatalf("%s: %+v %v", name, p, err)
		}
	}
	for name, text := range map[string]string{"empty.json": `[]`, "garbage.json": `{`, "norequest.json": `[{"expected_approved":true}]`} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(text), 0o644)
		if _, err := payloads.Load(path); err == nil {
			t.Fatalf("%s accepted", name)
		}
	}
}
