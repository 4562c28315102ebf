package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fraudknn/artifact"
)

// refsFile writes n random references as gzipped JSON and returns its path.
func refsFile(t testing.TB, n int, mutate func(i int, rec string) string) string {
	rng := rand.New(rand.NewPCG(uint64(n), 5))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("["))
	for i := 0; i < n; i++ {
		if i > 0 {
			zw.Write([]byte(","))
		}
		v := make([]string, 14)
		for d := range v {
			v[d] = fmt.Sprintf("%.4f", float64(rng.IntN(10001))/10000)
		}
		label := "legit"
		if rng.IntN(3) == 0 {
			label = "fraud"
		}
		rec := `{"vector":[` + strings.Join(v, ",") + `],"label":"` + label + `"}`
		if mutate != nil {
			rec = mutate(i, rec)
		}
		zw.Write([]byte(rec))
	}
	zw.Write([]byte("]"))
	zw.Close()
	path := filepath.Join(t.TempDir(), "refs.json.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBuildsAnArtifact(t *testing.T) {
	out := filepath.Join(t.TempDir(), "index.fknn")
	if err := run(refsFile(t, 5000, nil), out, 64, 1, 5, 2000, 2); err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n, k := a.Index.Len(), a.Index.Clusters(); n != 5000 || k < 32 || k > 64 || a.Meta.KRequested != 64 {
		t.Fatalf("artifact has N %d, K %d (asked %d)", n, k, a.Meta.KRequested)
	}
}

func TestMalformedInputWritesNothing(t *testing.T) {
	cases := map[string]struct {
		mutate func(i int, rec string) string
		want   string
	}{
		"bad JSON": {func(i int, rec string) string {
			if i == 700 {
				return rec[:len(rec)-1]
			}
			return rec
		}, "record 700"},
		"15 dimensions": {func(i int, rec string) string {
			if i == 701 {
				return strings.Replace(rec, "[", "[0,", 1)
			}
			return rec
		}, "record 701"},
		"unknown label": {func(i int, rec string) string {
			if i == 702 {
				return strings.Replace(strings.Replace(rec, "legit", "maybe", 1), "fraud", "maybe", 1)
			}
			return rec
		}, `record 702 (0-based), byte`},
	}
	for name, c := range cases {
		dir := t.TempDir()
		out := filepath.Join(dir, "index.fknn")
		err := run(refsFile(t, 1000, c.mutate), out, 16, 1, 2, 0, 2)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v; want it to name %q", name, err, c.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: %d files left in the output folder", name, len(entries))
		}
	}
}
