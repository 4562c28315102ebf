// Package dataset finds the contest's data files: the folder that holds
// them, and the reference file cmd/indexer builds the index from. Loading
// the labelled test payloads, which only tests and the harness need, is
// package payloads'.
package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// EnvDir names the environment variable that points at the data folder.
const EnvDir = "FRAUDKNN_DATA"

// Dir returns the folder holding the shared data: $FRAUDKNN_DATA when set,
// else ../shared/data next to the repository (ModuleRoot). ok is false
// when the folder does not exist.
func Dir() (dir string, ok bool) {
	if d := os.Getenv(EnvDir); d != "" {
		st, err := os.Stat(d)
		return d, err == nil && st.IsDir()
	}
	root, ok := ModuleRoot()
	if !ok {
		return "", false
	}
	data := filepath.Join(filepath.Dir(root), "shared", "data")
	st, err := os.Stat(data)
	return data, err == nil && st.IsDir()
}

// ModuleRoot returns the repository's folder: the nearest folder at or
// above the working directory whose go.mod is the product's (module
// fraudknn). The harness and research modules nested inside it have
// go.mod files of their own, which it walks past. ok is false when there
// is none.
func ModuleRoot() (root string, ok bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if isProductModule(filepath.Join(d, "go.mod")) {
			return d, true
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// productModule is the product's module path, as its go.mod declares it.
const productModule = "fraudknn"

// isProductModule reports whether the go.mod file at path declares the
// product's module.
func isProductModule(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for line := range bytes.Lines(b) {
		if f := bytes.Fields(line); len(f) == 2 && string(f[0]) == "module" {
			return strings.Trim(string(f[1]), `"`) == productModule
		}
	}
	return false
}

// ReferencesFile is the name of the contest's reference file.
const ReferencesFile = "references.json.gz"

// FindReferences looks for the contest's reference file where the
// Makefile does: resources/references.json.gz under the working
// directory, then in the shared data folder (Dir). It returns the first
// that exists ("" if none does) and every path it looked at, in order, so
// that a caller can say where it looked.
func FindReferences() (path string, looked []string) {
	looked = []string{filepath.Join("resources", ReferencesFile)}
	if dir, _ := Dir(); dir != "" {
		looked = append(looked, filepath.Join(dir, ReferencesFile))
	}
	for _, p := range looked {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, looked
		}
	}
	return "", looked
}
