package artifact

import (
	"bufio"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"fraudknn/knn"
)

// Written is what Write wrote.
type Written struct {
	Size   int64  // bytes of the artifact
	SHA256 Digest // its digest, also recorded at DigestPath(path)
}

// Write stores ix and meta at path atomically: it writes a temporary file
// in the same directory, syncs it, renames it over path and syncs the
// directory, so a reader sees either the old file or the whole new one,
// and a failure leaves nothing half-written behind. Beside it, at
// DigestPath(path), it records the file's SHA-256 in sha256sum's format,
// also by rename. An artifact is never written in place: a process that
// maps the old file keeps seeing the old file.
func Write(path string, ix *knn.Index, meta Meta) (Written, error) {
	size, sum, err := write(path, ix, meta)
	return Written{Size: size, SHA256: sum}, err
}

func write(path string, ix *knn.Index, meta Meta) (size int64, sum Digest, err error) {
	if !littleEndian() {
		return 0, sum, errors.New("artifact: writing needs a little-endian machine")
	}
	t := ix.Tables()
	h := &header{n: t.N, k: t.K, meta: meta}
	h.sections, h.fileSize = layout(tableLengths(&t))
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+".tmp-*")
	if err != nil {
		return 0, sum, fmt.Errorf("artifact: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	bw := bufio.NewWriterSize(f, 1<<20)
	crc := crc32.New(castagnoli)
	w := &crcWriter{w: bw, crc: crc}
	if _, err = bw.Write(make([]byte, HeaderSize)); err != nil { // placeholder, written last
		return 0, sum, fmt.Errorf("artifact: writing %s: %w", f.Name(), err)
	}
	w.n = HeaderSize
	for i, s := range h.sections {
		if _, err = w.Write(make([]byte, s.off-w.n)); err != nil {
			return 0, sum, fmt.Errorf("artifact: writing %s: %w", f.Name(), err)
		}
		if _, err = w.Write(tableBytes(knn.TableList()[i].Slice(&t))); err != nil {
			return 0, sum, fmt.Errorf("artifact: writing %s: %w", f.Name(), err)
		}
	}
	if err = bw.Flush(); err != nil {
		return 0, sum, fmt.Errorf("artifact: writing %s: %w", f.Name(), err)
	}
	h.dataCRC = crc.Sum32()
	if _, err = f.WriteAt(h.encode(), 0); err != nil {
		return 0, sum, fmt.Errorf("artifact: writing the header of %s: %w", f.Name(), err)
	}
	if err = f.Chmod(0o644); err != nil {
		return 0, sum, fmt.Errorf("artifact: %w", err)
	}
	if err = f.Sync(); err != nil {
		return 0, sum, fmt.Errorf("artifact: syncing %s: %w", f.Name(), err)
	}
	if sum, err = sumFile(f); err != nil {
		return 0, sum, fmt.Errorf("artifact: reading %s back for its digest: %w", f.Name(), err)
	}
	if err = f.Close(); err != nil {
		return 0, sum, fmt.Errorf("artifact: closing %s: %w", f.Name(), err)
	}
	record, err := writeDigestFile(dir, base, sum)
	if err != nil {
		return 0, sum, fmt.Errorf("artifact: recording the digest: %w", err)
	}
	// The artifact first, then its record: between the two renames a
	// reader finds the new file beside the old record, which a pinned
	// API refuses and an unpinned one reports (never the reverse, a
	// record naming a file that is not there yet).
	if err = os.Rename(f.Name(), path); err != nil {
		os.Remove(record)
		return 0, sum, fmt.Errorf("artifact: %w", err)
	}
	if err = os.Rename(record, DigestPath(path)); err != nil {
		os.Remove(record)
		return 0, sum, fmt.Errorf("artifact: %s is written but its digest record is not: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil { // make the renames durable
		d.Sync()
		d.Close()
	}
	return int64(h.fileSize), sum, nil
}

// crcWriter passes writes on and keeps a running CRC and byte count.
type crcWriter struct {
	w   io.Writer
	crc hash.Hash32
	n   uint64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc.Write(p[:n])
	c.n += uint64(n)
	return n, err
}
