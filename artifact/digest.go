package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
)

// Digest is the SHA-256 of a whole artifact file. The checksums inside
// the file find damage; they cannot tell one well-formed artifact from
// another, since anyone who can write the file can recompute them. A
// digest the operator pins (cmd/api -digest) can: it names the one file
// the operator built.
type Digest [sha256.Size]byte

// String returns the digest in lowercase hex, as sha256sum prints it.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is the zero digest (none given).
func (d Digest) IsZero() bool { return d == Digest{} }

// ParseDigest reads a SHA-256 written as 64 hex digits, optionally
// prefixed "sha256:".
func ParseDigest(s string) (Digest, error) {
	var d Digest
	h := strings.TrimPrefix(strings.TrimSpace(s), "sha256:")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != len(d) {
		return d, fmt.Errorf("%q is not a SHA-256: want 64 hex digits, as cmd/indexer prints and writes to FILE.sha256", s)
	}
	copy(d[:], b)
	if d.IsZero() {
		return d, fmt.Errorf("%q is all zeros, no file's SHA-256: pin the digest cmd/indexer printed", s)
	}
	return d, nil
}

// DigestPath is where cmd/indexer records the digest of the artifact at
// path: beside it, with ".sha256" added, in sha256sum's format.
func DigestPath(path string) string { return path + ".sha256" }

// ReadDigestFile reads the digest recorded beside the artifact at path
// (DigestPath). It is a record of what the indexer wrote, not a pin:
// whoever can replace the artifact can replace the record beside it.
func ReadDigestFile(path string) (Digest, error) {
	b, err := os.ReadFile(DigestPath(path))
	if err != nil {
		return Digest{}, err
	}
	field, _, _ := strings.Cut(string(b), " ")
	d, err := ParseDigest(field)
	if err != nil {
		return d, fmt.Errorf("%s: %w", DigestPath(path), err)
	}
	return d, nil
}

// writeDigestFile writes the sha256sum line for the artifact named base
// to a temporary file in dir and returns its name, for the caller to
// rename into place.
func writeDigestFile(dir, base string, d Digest) (string, error) {
	f, err := os.CreateTemp(dir, base+".sha256.tmp-*")
	if err != nil {
		return "", err
	}
	_, err = fmt.Fprintf(f, "%s  %s\n", d, base)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// PinError is the refusal of an artifact whose digest is not the pinned
// one.
type PinError struct {
	Path        string
	Got, Pinned Digest
}

func (e *PinError) Error() string {
	return fmt.Sprintf("artifact %s has sha256 %s, but the pinned digest is %s: it is not the artifact that was built and pinned. "+
		"Serve the file whose digest was pinned, or, if this file is one you built, pin its digest instead (cmd/indexer prints it; `indexer -check %s` prints it too)",
		e.Path, e.Got, e.Pinned, e.Path)
}

// CheckPin returns a *PinError unless the artifact's digest is pinned
// (nil when pinned is zero: nothing pinned).
func (a *Artifact) CheckPin(path string, pinned Digest) error {
	if pinned.IsZero() || a.SHA256 == pinned {
		return nil
	}
	return &PinError{Path: path, Got: a.SHA256, Pinned: pinned}
}

// Verify runs on the artifact at path every check an API makes before
// it serves it: it maps the file and checks it as Map does, then its
// digest against pinned (nothing when zero). The caller closes the
// artifact.
func Verify(path string, pinned Digest) (*Artifact, error) {
	a, err := Map(path)
	if err != nil {
		return nil, err
	}
	if err := a.CheckPin(path, pinned); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// IsPinError reports whether err is a refusal by CheckPin.
func IsPinError(err error) bool {
	var p *PinError
	return errors.As(err, &p)
}

// sumChunk is how much of the file checkData hashes at a time: small
// enough that the bytes the CRC just read are still in the core's cache
// when SHA-256 reads them.
const sumChunk = 256 << 10

// checkData computes, in one pass over data, the CRC-32C of everything
// after the header and the SHA-256 of the whole file. On a mapping this
// pass is also what brings every page into memory, so the digest costs
// no second read of the file.
func checkData(data []byte) (crc uint32, sum Digest) {
	h := sha256.New()
	h.Write(data[:HeaderSize])
	for off := HeaderSize; off < len(data); off += sumChunk {
		p := data[off:min(off+sumChunk, len(data))]
		crc = crc32.Update(crc, castagnoli, p)
		h.Write(p)
	}
	h.Sum(sum[:0])
	return crc, sum
}

// sumFile returns the SHA-256 of everything f holds, read from its start.
func sumFile(f *os.File) (Digest, error) {
	var d Digest
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return d, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return d, err
	}
	h.Sum(d[:0])
	return d, nil
}

// FileDigest returns the SHA-256 of the file at path, without checking
// that it is an artifact.
func FileDigest(path string) (Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Digest{}, err
	}
	defer f.Close()
	return sumFile(f)
}
