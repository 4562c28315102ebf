package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFindReferences builds a repository beside a shared data folder and
// checks the order FindReferences looks in: resources/ first, then the
// folder $FRAUDKNN_DATA names, else ../shared/data beside the repository
// (the folder of the product's go.mod, past a nested module's).
func TestFindReferences(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	shared := filepath.Join(root, "shared", "data")
	other := filepath.Join(root, "elsewhere")
	for _, d := range []string{filepath.Join(repo, "cmd"), shared, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	touch := func(path string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, text string) {
		t.Helper()
		touch(path)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(repo, "go.mod"), "module fraudknn\n\ngo 1.26.0\n")
	write(filepath.Join(repo, "harness", "go.mod"), "module fraudknn/harness\n\nreplace fraudknn => ../\n")
	t.Chdir(repo)
	t.Setenv(EnvDir, "")

	local := filepath.Join("resources", ReferencesFile)
	inShared := filepath.Join(shared, ReferencesFile)
	inOther := filepath.Join(other, ReferencesFile)
	check := func(name, want string, wantLooked ...string) {
		t.Helper()
		got, looked := FindReferences()
		if got != want || !slices.Equal(looked, wantLooked) {
			t.Errorf("%s: found %q after looking at %q; want %q after %q", name, got, looked, want, wantLooked)
		}
	}

	check("nothing anywhere", "", local, inShared)
	touch(inShared)
	check("the shared folder", inShared, local, inShared)
	touch(local)
	check("resources/ first", local, local, inShared)

	t.Setenv(EnvDir, other)
	os.Remove(local)
	check("FRAUDKNN_DATA without the file", "", local, inOther)
	touch(inOther)
	check("FRAUDKNN_DATA", inOther, local, inOther)

	// From a subfolder of the repository, the shared folder is still
	// found; resources/ is relative to the working directory, as in the
	// Makefile.
	t.Setenv(EnvDir, "")
	t.Chdir(filepath.Join(repo, "cmd"))
	check("from a subfolder", inShared, local, inShared)

	// From the nested harness module, the product's go.mod still marks
	// the repository, not the harness's own.
	t.Chdir(filepath.Join(repo, "harness"))
	check("from the harness module", inShared, local, inShared)
}
