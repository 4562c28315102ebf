package artifact

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"fraudknn/artifact/hugemem"
	"fraudknn/knn"
)

// Artifact is an index in read-only memory: a mapping of the file
// (Map) or a private copy of it (CopyToHugePages).
type Artifact struct {
	Index *knn.Index
	Meta  Meta
	Size  int64 // bytes of the file
	// SHA256 is the digest of the whole file, computed in the same pass
	// over its bytes as the data checksum (CheckPin compares it).
	SHA256 Digest

	data []byte          // the file's bytes: the mapped file (Map) or mem.Data (CopyToHugePages)
	mem  *hugemem.Memory // CopyToHugePages's copy; nil for Map
}

// RebuildHint says how to make a good artifact; errors from Map and CopyToHugePages end with it.
const RebuildHint = "rebuild it with `make artifact` or `go run ./cmd/indexer` (add -out PATH to write it elsewhere)"

// Map maps the artifact at path read-only and checks it before anything
// uses it: the header (magic, version, checksum, every size and offset),
// the checksum of all the data, which also brings every page into memory,
// and the index contents (knn.New). A file that fails any check
// is refused with an error that says what is wrong.
func Map(path string) (*Artifact, error) {
	a, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w; %s", path, err, RebuildHint)
	}
	return a, nil
}

func mapFile(path string) (*Artifact, error) {
	f, size, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping %d bytes: %w", size, err)
	}
	a := &Artifact{Size: size, data: data}
	if err := a.decode(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// openFile opens an artifact file and returns its size, refusing files
// too short to hold a header or too large to address.
func openFile(path string) (*os.File, int64, error) {
	if !littleEndian() {
		return nil, 0, errors.New("the artifact is little-endian and this machine is not")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	size := st.Size()
	if size < HeaderSize {
		f.Close()
		return nil, 0, fmt.Errorf("file is %d bytes, shorter than the %d-byte header: it is truncated or not an artifact", size, HeaderSize)
	}
	if int64(int(size)) != size {
		f.Close()
		return nil, 0, fmt.Errorf("file is %d bytes, too large to map on this machine", size)
	}
	return f, size, nil
}

// loadChunk is how much of the file CopyToHugePages reads before it drops those
// pages from the page cache.
const loadChunk = 8 << 20

// CopyToHugePages reads the artifact at path into private memory of this process,
// asks the kernel to back it with transparent huge pages, checks it as
// Map does, and makes it read-only. The search reaches random places of
// a 100 MiB index; in 4 KiB pages nearly every such access misses the
// TLB, and on kernels that flush the TLB on every system call (page
// table isolation without PCID, as on this project's development
// machine) a request finds it empty. In 2 MiB pages about fifty entries
// cover the whole index (docs/TUNING.md has what it measured).
//
// The copy is private: two processes loading the same file hold it
// twice, where Map shares the page cache. CopyToHugePages drops the file's pages
// from the page cache as it goes (they are charged to this process's
// memory cgroup while it reads them). Where the kernel has transparent
// huge pages disabled, CopyToHugePages still works, in ordinary pages; HugeBytes
// says what the kernel gave.
func CopyToHugePages(path string) (*Artifact, error) {
	a, err := copyFile(path)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w; %s", path, err, RebuildHint)
	}
	return a, nil
}

func copyFile(path string) (*Artifact, error) {
	f, size, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mem, err := hugemem.Alloc(int(size))
	if err != nil {
		return nil, err
	}
	a := &Artifact{Size: size, data: mem.Data, mem: mem}
	// Read in pieces, dropping each from the page cache once copied: the
	// cache pages are charged to this process's memory cgroup, and the
	// file and its copy together would come close to an API's limit.
	for off := 0; off < len(a.data); off += loadChunk {
		end := min(off+loadChunk, len(a.data))
		if _, err := io.ReadFull(f, a.data[off:end]); err != nil {
			a.Close()
			return nil, fmt.Errorf("reading %d bytes at offset %d: %w", end-off, off, err)
		}
		_ = unix.Fadvise(int(f.Fd()), int64(off), int64(end-off), unix.FADV_DONTNEED)
	}
	if err := a.decode(); err != nil {
		a.Close()
		return nil, err
	}
	if err := mem.ReadOnly(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// HugeBytes returns how many bytes of the artifact the kernel backs with
// huge pages, as /proc/self/smaps reports it, or -1 when it cannot tell.
// A mapped artifact (Map) normally has none.
func (a *Artifact) HugeBytes() int64 {
	return hugemem.Backed(a.data)
}

// decode checks the file's bytes (header, data checksum, the index
// contents) and points the Index at its tables in them.
func (a *Artifact) decode() error {
	h, err := decodeHeader(a.data, uint64(len(a.data)))
	if err != nil {
		return err
	}
	got, sum := checkData(a.data)
	a.SHA256 = sum
	if got != h.dataCRC {
		return fmt.Errorf("data checksum mismatch (stored %08x, computed %08x): the file is corrupt", h.dataCRC, got)
	}
	t := knn.Tables{N: h.n, K: h.k}
	for i, s := range h.sections {
		setTable(knn.TableList()[i].Slice(&t), a.data[s.off:s.off+s.len])
	}
	ix, err := knn.New(t)
	if err != nil {
		return fmt.Errorf("index is inconsistent: %w", err)
	}
	a.Index = ix
	a.Meta = h.meta
	return nil
}

// Close unmaps the file or frees the copy. The Index must not be used
// afterwards.
func (a *Artifact) Close() error {
	var err error
	switch {
	case a.mem != nil:
		err = a.mem.Free()
	case a.data != nil:
		err = unix.Munmap(a.data)
	}
	a.data, a.mem, a.Index = nil, nil, nil
	return err
}
