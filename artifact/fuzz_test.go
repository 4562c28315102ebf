package artifact

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"fraudknn/knn"
)

// seedArtifact returns the bytes of a small valid artifact.
func seedArtifact(f *testing.F) []byte {
	path := filepath.Join(f.TempDir(), "seed.fknn")
	if _, err := Write(path, testIndex(nil, 150, 3), Meta{Seed: 1}); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// openBytes writes b to a file and opens it; whatever it holds, Map must
// either refuse it or return an index that searches without trouble.
func openBytes(t *testing.T, b []byte) {
	path := filepath.Join(t.TempDir(), "fuzz.fknn")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Map(path)
	if err != nil {
		if err.Error() == "" {
			t.Fatal("empty error")
		}
		return
	}
	defer a.Close()
	s := knn.NewSearcher(a.Index, 5)
	var r knn.Result
	for i := 0; i < 3; i++ {
		q := a.Index.Vector(i%a.Index.Clusters(), 0)
		s.Search(&q, &r)
		if r.Count != min(5, a.Index.Len()) {
			t.Fatalf("a search of an accepted artifact found %d neighbours", r.Count)
		}
	}
}

// FuzzOpen feeds Map arbitrary files, starting from a valid artifact and
// its truncations.
func FuzzOpen(f *testing.F) {
	valid := seedArtifact(f)
	f.Add(valid)
	for _, n := range []int{0, 10, HeaderSize - 1, HeaderSize, len(valid) / 2, len(valid) - 1} {
		f.Add(valid[:n])
	}
	f.Fuzz(openBytes)
}

// FuzzOpenSealed mutates a valid artifact and then recomputes both
// checksums, so that the mutation reaches the checks behind them: sizes,
// offsets, tables and contents.
func FuzzOpenSealed(f *testing.F) {
	valid := seedArtifact(f)
	f.Add(uint32(0), byte(0), uint16(0))
	f.Add(uint32(offN), byte(1), uint16(1))
	f.Add(uint32(offSections+16*sectionOf(f, "leaf starts")), byte(64), uint16(8))
	f.Fuzz(func(t *testing.T, at uint32, xor byte, n uint16) {
		b := append([]byte(nil), valid...)
		// Flip n bytes from at on, skipping the magic and version.
		for i := 0; i <= int(n%64); i++ {
			p := int(at+uint32(i)*7919) % len(b)
			if p < 12 {
				continue
			}
			b[p] ^= xor + byte(i)
		}
		le := binary.LittleEndian
		le.PutUint32(b[offDataCRC:], crc32.Checksum(b[HeaderSize:], castagnoli))
		le.PutUint32(b[offHeaderCRC:], crc32.Checksum(b[:offHeaderCRC], castagnoli))
		openBytes(t, b)
	})
}
