// Package payloads loads the contest's labelled test payloads
// (test-data.json.gz): request bodies with their expected answers, which
// the tests, the harness and the research programs check the service
// against. No product binary needs it.
package payloads

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Entry is one labelled test payload.
type Entry struct {
	Request            json.RawMessage `json:"request"`
	ExpectedApproved   bool            `json:"expected_approved"`
	ExpectedFraudScore float64         `json:"expected_fraud_score"`
}

// File is a test-data file: entries and the checksum of the
// references their answers were computed against (empty if not given).
type File struct {
	ReferencesSHA256 string  `json:"references_checksum_sha256"`
	Entries          []Entry `json:"entries"`
}

// Load reads a test-data file, gzipped or not: either the
// contest's object with an "entries" array, or a bare array of entries.
func Load(path string) (*File, error) {
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
	var p File
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
