package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fraudknn/artifact"
	"fraudknn/internal/dataset"
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
	a, err := artifact.Map(out)
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

// TestNoFlags runs the command as `go run ./cmd/indexer` does, with no
// flags, in a repository of its own: it must find resources/'s reference
// file, write build/index.fknn (creating build/) and say both; with no
// reference file anywhere, exit 1 and say every place it looked and where
// the file comes from.
func TestNoFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "indexer")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	refs := refsFile(t, 5000, nil)
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "resources"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module fraudknn\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(dataset.EnvDir, "")
	runIn := func() (string, error) {
		var stderr bytes.Buffer
		cmd := exec.Command(bin)
		cmd.Dir = repo
		cmd.Stderr = &stderr
		err := cmd.Run()
		return stderr.String(), err
	}

	msg, err := runIn()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
		t.Fatalf("with no reference file: exit %v; want status 1\n%s", err, msg)
	}
	for _, want := range []string{"resources/references.json.gz", filepath.Join(root, "shared", "data", "references.json.gz"), "Rinha de Backend 2026", "-refs"} {
		if !strings.Contains(msg, want) {
			t.Errorf("with no reference file the indexer said %q; want it to mention %q", msg, want)
		}
	}

	b, err := os.ReadFile(refs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "resources", "references.json.gz"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	msg, err = runIn()
	if err != nil {
		t.Fatalf("with resources/references.json.gz: %v\n%s", err, msg)
	}
	if !strings.Contains(msg, "reading resources/references.json.gz, writing build/index.fknn") {
		t.Errorf("the indexer did not say what it read and wrote: %q", msg)
	}
	a, err := artifact.Map(filepath.Join(repo, "build", "index.fknn"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Index.Len() != 5000 || a.Meta.KRequested != 4096 {
		t.Errorf("the artifact holds %d vectors, %d clusters asked; want 5000 and the default 4096", a.Index.Len(), a.Meta.KRequested)
	}
}
