package artifact

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"

	"golang.org/x/sys/unix"

	"fraudknn/knn"
)

// Artifact is an index mapped read-only from a file.
type Artifact struct {
	Index *knn.Index
	Meta  Meta
	Size  int64 // bytes mapped

	data []byte
}

// RebuildHint says how to make a good artifact; errors from Open end with it.
const RebuildHint = "rebuild it with `make artifact` (or `go run ./cmd/indexer -refs references.json.gz -out PATH`)"

// Open maps the artifact at path read-only and checks it before anything
// uses it: the header (magic, version, checksum, every size and offset),
// the checksum of all the data, which also brings every page into memory,
// and the index contents (knn.Index.Verify). A file that fails any check
// is refused with an error that says what is wrong.
func Open(path string) (*Artifact, error) {
	a, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w; %s", path, err, RebuildHint)
	}
	return a, nil
}

func open(path string) (*Artifact, error) {
	if !littleEndian() {
		return nil, errors.New("the artifact is little-endian and this machine is not")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < HeaderSize {
		return nil, fmt.Errorf("file is %d bytes, shorter than the %d-byte header: it is truncated or not an artifact", size, HeaderSize)
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("file is %d bytes, too large to map on this machine", size)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping %d bytes: %w", size, err)
	}
	a := &Artifact{Size: size, data: data}
	if err := a.load(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *Artifact) load() error {
	h, err := decodeHeader(a.data, uint64(len(a.data)))
	if err != nil {
		return err
	}
	if got := crc32.Checksum(a.data[HeaderSize:], castagnoli); got != h.dataCRC {
		return fmt.Errorf("data checksum mismatch (stored %08x, computed %08x): the file is corrupt", h.dataCRC, got)
	}
	sec := func(i int) []byte {
		s := h.sections[i]
		return a.data[s.off : s.off+s.len]
	}
	ix := &knn.Index{
		N:         h.n,
		K:         h.k,
		Vecs:      view[int16](sec(secVectors)),
		Labels:    view[uint8](sec(secLabels)),
		Pos:       view[uint32](sec(secPositions)),
		Start:     view[uint32](sec(secStart)),
		PadStart:  view[uint32](sec(secPadStart)),
		Centroids: view[float32](sec(secCentroids)),
		BoxMin:    view[int16](sec(secBoxMin)),
		BoxMax:    view[int16](sec(secBoxMax)),
		LeafStart: view[uint32](sec(secLeafStart)),
		LeafMin:   view[int16](sec(secLeafMin)),
		LeafMax:   view[int16](sec(secLeafMax)),
	}
	if err := ix.Verify(); err != nil {
		return fmt.Errorf("index is inconsistent: %w", err)
	}
	ix.Init()
	a.Index = ix
	a.Meta = h.meta
	return nil
}

// Close unmaps the file. The Index must not be used afterwards.
func (a *Artifact) Close() error {
	if a.data == nil {
		return nil
	}
	err := unix.Munmap(a.data)
	a.data = nil
	a.Index = nil
	return err
}
