package artifact

import (
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"fraudknn/artifact/hugemem"
	"fraudknn/knn"
	"fraudknn/vector"
)

// testIndex builds a small random index with clusters of uneven sizes.
func testIndex(t testing.TB, n, k int) *knn.Index {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(k)))
	vecs := make([]int16, n*vector.Dims)
	labels := make([]uint8, n)
	assign := make([]uint32, n)
	for i := 0; i < n; i++ {
		for d := 0; d < vector.Dims; d++ {
			vecs[i*vector.Dims+d] = int16(rng.IntN(vector.MaxValue + 1))
		}
		if rng.IntN(3) == 0 {
			vecs[i*vector.Dims+5], vecs[i*vector.Dims+6] = -vector.MaxValue, -vector.MaxValue
		}
		labels[i] = uint8(rng.IntN(2))
		assign[i] = uint32(rng.IntN(k) * rng.IntN(k) / k) // skewed sizes
	}
	ix, err := knn.Build(vecs, labels, assign, k)
	if err != nil {
		panic(err)
	}
	return ix
}

func writeTemp(t *testing.T, ix *knn.Index) (string, Meta) {
	t.Helper()
	meta := Meta{Seed: 42, KRequested: 9, Iterations: 3}
	meta.Source[0], meta.Source[31] = 0xab, 0xcd
	path := filepath.Join(t.TempDir(), "index.fknn")
	w, err := Write(path, ix, meta)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != w.Size {
		t.Fatalf("Write reported %d bytes; file: %v, %v", w.Size, st, err)
	}
	return path, meta
}

// openers are the two ways to bring an artifact into memory; every test
// of what a reader accepts runs with both.
var openers = []struct {
	name string
	open func(string) (*Artifact, error)
}{{"Map", Map}, {"CopyToHugePages", CopyToHugePages}}

func TestRoundTrip(t *testing.T) {
	ix := testIndex(t, 1000, 9)
	path, meta := writeTemp(t, ix)
	for _, o := range openers {
		t.Run(o.name, func(t *testing.T) { roundTrip(t, ix, path, meta, o.open) })
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("Write left %d files in its directory; want only the artifact and its digest record", len(entries))
	}
}

func roundTrip(t *testing.T, ix *knn.Index, path string, meta Meta, open func(string) (*Artifact, error)) {
	a, err := open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Meta != meta {
		t.Errorf("meta %+v; want %+v", a.Meta, meta)
	}
	got := a.Index
	if !reflect.DeepEqual(got.Tables(), ix.Tables()) {
		t.Errorf("the tables differ after the round trip")
	}
	// The mapped index searches like the one it was written from.
	s1, s2 := knn.NewSearcher(ix, 5), knn.NewSearcher(got, 5)
	var r1, r2 knn.Result
	vecs := ix.Tables().Vecs
	for i := 0; i < 50; i++ {
		var q [vector.Dims]int16
		copy(q[:], vecs[i*3:])
		for d := range q {
			q[d] = int16(min(max(int(q[d]), 0), vector.MaxValue))
		}
		s1.Search(&q, &r1)
		s2.Search(&q, &r2)
		if !slices.Equal(r1.List(), r2.List()) {
			t.Fatalf("query %v: %v from memory, %v from the file", q, r1.List(), r2.List())
		}
	}
	if h := a.HugeBytes(); h < 0 || h > a.Size+hugemem.PageSize {
		t.Errorf("HugeBytes = %d for a %d-byte artifact", h, a.Size)
	}
}

// TestLoadIsReadOnly writes into the loaded copy: the write must fault.
func TestLoadIsReadOnly(t *testing.T) {
	path, _ := writeTemp(t, testIndex(t, 300, 3))
	a, err := CopyToHugePages(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	faulted := func() (faulted bool) {
		defer func() { faulted = recover() != nil }()
		a.Index.Tables().Vecs[0]++
		return false
	}()
	if !faulted {
		t.Fatal("a write into the loaded artifact succeeded; the copy must be read-only")
	}
}

func rewrite(t *testing.T, path string, fixCRC bool, f func(b []byte) []byte) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = f(b)
	if fixCRC && len(b) >= HeaderSize {
		binary.LittleEndian.PutUint32(b[offHeaderCRC:], crc32.Checksum(b[:offHeaderCRC], castagnoli))
	}
	out := filepath.Join(t.TempDir(), "damaged.fknn")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenRefusesDamage(t *testing.T) {
	path, _ := writeTemp(t, testIndex(t, 500, 7))
	le := binary.LittleEndian
	cases := []struct {
		name   string
		fixCRC bool
		f      func(b []byte) []byte
		want   string
	}{
		{"empty", false, func(b []byte) []byte { return nil }, "shorter than the"},
		{"header only", false, func(b []byte) []byte { return b[:HeaderSize] }, "truncated"},
		{"truncated by one byte", false, func(b []byte) []byte { return b[:len(b)-1] }, "truncated"},
		{"extra byte", false, func(b []byte) []byte { return append(b, 0) }, "bytes but it is"},
		{"not an artifact", false, func(b []byte) []byte { copy(b, "PK\x03\x04"); return b }, "not a fraudknn artifact"},
		{"newer version", true, func(b []byte) []byte { le.PutUint32(b[offVersion:], Version+1); return b }, "version 5"},
		{"older version", true, func(b []byte) []byte { le.PutUint32(b[offVersion:], 3); return b }, "version 3; this build reads version 4"},
		{"other leaf size", true, func(b []byte) []byte { le.PutUint32(b[offLeaf:], 32); return b }, "leaves of 32"},
		{"other region size", true, func(b []byte) []byte { le.PutUint32(b[offRegion:], 32); return b }, "regions of 32"},
		{"header bit flip", false, func(b []byte) []byte { b[offN] ^= 1; return b }, "header checksum"},
		{"data bit flip", false, func(b []byte) []byte { b[len(b)-3] ^= 0x10; return b }, "data checksum"},
		{"other dimension count", true, func(b []byte) []byte { le.PutUint32(b[offDims:], 15); return b }, "15 dimensions"},
		{"misaligned section", true, func(b []byte) []byte {
			le.PutUint64(b[offSections+16*sectionOf(t, "labels"):], le.Uint64(b[offSections+16*sectionOf(t, "labels"):])+1)
			return b
		}, "misaligned"},
		{"section past the end", true, func(b []byte) []byte {
			le.PutUint64(b[offSections+16*sectionOf(t, "box maxima")+8:], 1<<40)
			return b
		}, "past the end"},
		{"wrong N", true, func(b []byte) []byte { le.PutUint32(b[offN:], 499); return b }, "need"},
		{"more clusters than vectors", true, func(b []byte) []byte { le.PutUint32(b[offK:], 501); return b }, "clusters"},
	}
	for _, o := range openers {
		for _, c := range cases {
			p := rewrite(t, path, c.fixCRC, c.f)
			a, err := o.open(p)
			if err == nil {
				a.Close()
				t.Errorf("%s: %s accepted it", c.name, o.name)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, "make artifact") {
				t.Errorf("%s: %s: error %q; want it to mention %q and how to rebuild", c.name, o.name, msg, c.want)
			}
		}
		if _, err := o.open(filepath.Join(t.TempDir(), "missing.fknn")); err == nil || !strings.Contains(err.Error(), "no such file") {
			t.Errorf("missing file: %s: %v", o.name, err)
		}
	}
}

// TestOpenRefusesBadContents writes an index whose contents break an
// invariant, with valid checksums: Map must still refuse it. The damage
// is done through the slices Tables shares with the index, which its
// documentation forbids to anything but a test of this kind.
func TestOpenRefusesBadContents(t *testing.T) {
	damage := []struct {
		want string
		f    func(t knn.Tables)
	}{
		{"outside the cluster's box", func(t knn.Tables) { t.BoxMin[0] = t.BoxMax[0] + 1 }},
		{"outside its leaf's box", func(t knn.Tables) { t.LeafBoxes[0] = t.LeafBoxes[int(t.LeafStart[1])*vector.Dims] + 1 }},
		{"not inside its region's", func(t knn.Tables) { t.RegionMin[0] = t.BoxMin[0] + 1 }},
	}
	for _, c := range damage {
		want := c.want
		ix := testIndex(t, 300, 2) // clusters of more than one leaf
		c.f(ix.Tables())
		path := filepath.Join(t.TempDir(), "bad.fknn")
		if _, err := Write(path, ix, Meta{}); err != nil {
			t.Fatal(err)
		}
		if a, err := Map(path); err == nil {
			a.Close()
			t.Errorf("Map accepted an index with a member %s", want)
		} else if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestWriteFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "index.fknn")
	if err := os.WriteFile(path, []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(filepath.Join(dir, "no-such-dir", "x.fknn"), testIndex(t, 100, 3), Meta{}); err == nil {
		t.Fatal("Write into a missing directory succeeded")
	}
	b, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(dir)
	if string(b) != "old contents" || len(entries) != 1 {
		t.Fatalf("a failed Write changed the directory: %d entries, old file now %q", len(entries), b)
	}
}

// sectionOf returns the index of the section that holds knn's table of
// the given name.
func sectionOf(tb testing.TB, name string) int {
	for i, t := range knn.TableList() {
		if t.Name == name {
			return i
		}
	}
	tb.Fatalf("knn has no table named %q", name)
	return -1
}
