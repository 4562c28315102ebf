// Package dataset finds the contest's shared data files and loads the
// labelled test payloads.
package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Entry is one labelled test payload.
type Entry struct {
	Request            json.RawMessage `json:"request"`
	ExpectedApproved   bool            `json:"expected_approved"`
	ExpectedFraudScore float64         `json:"expected_fraud_score"`
}

// Payloads is a test-data file: entries and the checksum of the
// references their answers were computed against (empty if not given).
type Payloads struct {
	ReferencesSHA256 string  `json:"references_checksum_sha256"`
	Entries          []Entry `json:"entries"`
}

// LoadPayloads reads a test-data file, gzipped or not: either the
// contest's object with an "entries" array, or a bare array of entries.
func LoadPayloads(path string) (*Payloads, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	var magic [2]byte
	if n, _ := io.ReadFull(f, magic[:]); n == 2 && magic == [2]byte{0x1f, 0x8b} {
		f.Seek(0, io.SeekStart)
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = zr
	} else {
		f.Seek(0, io.SeekStart)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var p Payloads
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		err = json.Unmarshal(b, &p.Entries)
	} else {
		err = json.Unmarshal(b, &p)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a test-data file: %w", path, err)
	}
	if len(p.Entries) == 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.New("no entries"))
	}
	for i, e := range p.Entries {
		if len(e.Request) == 0 {
			return nil, fmt.Errorf("%s: entry %d has no \"request\"", path, i)
		}
	}
	return &p, nil
}
