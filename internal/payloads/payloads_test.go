package payloads

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoad reads the contest's object, gzipped, and a bare array of
// entries, and refuses files that are not test data.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	object := `{"references_checksum_sha256":"24a1fd58","entries":[{"request":{"id":"tx-1"},"expected_approved":false,"expected_fraud_score":0.8}]}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(object))
	zw.Close()
	write := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	f, err := Load(write("test-data.json.gz", gz.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if f.ReferencesSHA256 != "24a1fd58" || len(f.Entries) != 1 || string(f.Entries[0].Request) != `{"id":"tx-1"}` || f.Entries[0].ExpectedApproved || f.Entries[0].ExpectedFraudScore != 0.8 {
		t.Errorf("gzipped object: %+v", f)
	}
	f, err = Load(write("bare.json", []byte(` [{"request":{"id":"tx-2"},"expected_approved":true,"expected_fraud_score":0}]`)))
	if err != nil || len(f.Entries) != 1 || !f.Entries[0].ExpectedApproved {
		t.Errorf("bare array: %+v, %v", f, err)
	}

	for name, body := range map[string]string{
		"empty.json":     `{"entries":[]}`,
		"norequest.json": `[{"expected_approved":true}]`,
		"notjson.json":   `hello`,
	} {
		if _, err := Load(write(name, []byte(body))); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v; want one naming the file", name, err)
		}
	}
}
