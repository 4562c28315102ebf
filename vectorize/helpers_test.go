package vectorize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// dataFile returns the path of a file of the shared data folder, skipping
// the test when it is absent. The folder is $FRAUDKNN_DATA, by default
// ../../shared/data relative to this package.
func dataFile(t testing.TB, name string) string {
	t.Helper()
	path := dataPath(name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("data file %s not available (set FRAUDKNN_DATA to the data folder): %v", name, err)
	}
	return path
}

// dataPath returns the path of a file of the shared data folder.
func dataPath(name string) string {
	dir := os.Getenv("FRAUDKNN_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data")
	}
	return filepath.Join(dir, name)
}

// examplePayloads returns the bodies of example-payloads.json, compacted
// as they are sent.
func examplePayloads(t testing.TB) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(dataFile(t, "example-payloads.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bodies []json.RawMessage
	if err := json.Unmarshal(data, &bodies); err != nil {
		t.Fatalf("example-payloads.json: %v", err)
	}
	return bodies
}
