package artifact

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDigestRecorded checks that Write records the file's SHA-256 beside
// it in sha256sum's format, and that both ways of opening the file
// compute the same digest in their checking pass.
func TestDigestRecorded(t *testing.T) {
	ix := testIndex(t, 700, 5)
	path := filepath.Join(t.TempDir(), "index.fknn")
	w, err := Write(path, ix, Meta{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Digest(sha256.Sum256(b))
	if w.SHA256 != want {
		t.Fatalf("Write returned sha256 %s; the file's is %s", w.SHA256, want)
	}
	rec, err := os.ReadFile(DigestPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if line := fmt.Sprintf("%s  index.fknn\n", want); string(rec) != line {
		t.Fatalf("digest record %q; want sha256sum's line %q", rec, line)
	}
	if d, err := ReadDigestFile(path); err != nil || d != want {
		t.Fatalf("ReadDigestFile: %s, %v; want %s", d, err, want)
	}
	for _, o := range openers {
		a, err := o.open(path)
		if err != nil {
			t.Fatal(err)
		}
		if a.SHA256 != want {
			t.Errorf("%s computed sha256 %s; want %s", o.name, a.SHA256, want)
		}
		if err := a.CheckPin(path, want); err != nil {
			t.Errorf("%s: CheckPin with the right digest: %v", o.name, err)
		}
		if err := a.CheckPin(path, Digest{}); err != nil {
			t.Errorf("%s: CheckPin with nothing pinned: %v", o.name, err)
		}
		other := want
		other[7] ^= 1
		err = a.CheckPin(path, other)
		if !IsPinError(err) || !strings.Contains(err.Error(), want.String()) || !strings.Contains(err.Error(), other.String()) {
			t.Errorf("%s: CheckPin with another digest: %v; want a refusal naming both digests", o.name, err)
		}
		a.Close()
	}
}

// TestRewriteReplacesByRename checks that writing over an artifact
// replaces the file (a new inode) instead of writing into it: a process
// that maps the old file must keep seeing the old bytes.
func TestRewriteReplacesByRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.fknn")
	if _, err := Write(path, testIndex(t, 500, 4), Meta{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	old, err := Map(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	before := old.SHA256
	w, err := Write(path, testIndex(t, 600, 4), Meta{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if w.SHA256 == before {
		t.Fatal("two different indexes gave the same digest")
	}
	_, sum := checkData(old.data)
	if sum != before {
		t.Fatalf("the mapping of the old file changed when a new artifact was written at its path (sha256 %s, was %s)", sum, before)
	}
}

func TestParseDigest(t *testing.T) {
	hex := strings.Repeat("0123456789abcdef", 4)
	for _, s := range []string{hex, "sha256:" + hex, strings.ToUpper(hex), " " + hex + "\n"} {
		if d, err := ParseDigest(s); err != nil || d.String() != hex {
			t.Errorf("ParseDigest(%q) = %s, %v", s, d, err)
		}
	}
	for _, s := range []string{"", hex[:63], hex + "0", "zz" + hex[2:], "md5:" + hex, strings.Repeat("0", 64)} {
		if _, err := ParseDigest(s); err == nil || !strings.Contains(err.Error(), "SHA-256") {
			t.Errorf("ParseDigest(%q) = %v; want an error saying what a digest looks like", s, err)
		}
	}
}
