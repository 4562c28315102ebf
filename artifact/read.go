package artifact

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"fraudknn/knn"
)

// Artifact is an index in read-only memory: a mapping of the file
// (Open) or a private copy of it (Load).
type Artifact struct {
	Index *knn.Index
	Meta  Meta
	Size  int64 // bytes of the file

	data   []byte // the file's bytes
	region []byte // what to unmap: data itself, or the larger region it sits in
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
	f, size, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping %d bytes: %w", size, err)
	}
	a := &Artifact{Size: size, data: data, region: data}
	if err := a.load(); err != nil {
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

// loadChunk is how much of the file Load reads before it drops those
// pages from the page cache.
const loadChunk = 8 << 20

// hugePage is the size of a transparent huge page on amd64 and arm64
// with 4 KiB base pages.
const hugePage = 2 << 20

// Load reads the artifact at path into private memory of this process,
// asks the kernel to back it with transparent huge pages, checks it as
// Open does, and makes it read-only. The search reaches random places of
// a 100 MiB index; in 4 KiB pages nearly every such access misses the
// TLB, and on kernels that flush the TLB on every system call (page
// table isolation without PCID, as on this project's development
// machine) a request finds it empty. In 2 MiB pages about fifty entries
// cover the whole index (docs/TUNING.md has what it measured).
//
// The copy is private: two processes loading the same file hold it
// twice, where Open shares the page cache. Load drops the file's pages
// from the page cache as it goes (they are charged to this process's
// memory cgroup while it reads them). Where the kernel has transparent
// huge pages disabled, Load still works, in ordinary pages; HugeBytes
// says what the kernel gave.
func Load(path string) (*Artifact, error) {
	a, err := load(path)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w; %s", path, err, RebuildHint)
	}
	return a, nil
}

func load(path string) (*Artifact, error) {
	f, size, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A region one huge page larger than needed, so that the data can
	// start on a huge-page boundary; the untouched slack costs nothing.
	// The data and the pages around it are whole huge pages: advice and
	// protection then cover whole pages, which the kernel need not split.
	whole := (int(size) + hugePage - 1) / hugePage * hugePage
	region, err := unix.Mmap(-1, 0, whole+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("allocating %d bytes: %w", size, err)
	}
	skip := 0
	if r := int(uintptr(unsafe.Pointer(&region[0])) % hugePage); r != 0 {
		skip = hugePage - r
	}
	pages := region[skip : skip+whole]
	a := &Artifact{Size: size, data: pages[:size], region: region}
	// Advice only: without transparent huge pages (disabled, or another
	// kernel) the copy lives in ordinary pages and everything else holds.
	_ = unix.Madvise(pages, unix.MADV_HUGEPAGE)
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
	if err := a.load(); err != nil {
		a.Close()
		return nil, err
	}
	if err := unix.Mprotect(pages, unix.PROT_READ); err != nil {
		a.Close()
		return nil, fmt.Errorf("making the copy read-only: %w", err)
	}
	return a, nil
}

// HugeBytes returns how many bytes of the artifact the kernel backs with
// huge pages, as /proc/self/smaps reports it, or -1 when it cannot tell.
// A mapped artifact (Open) normally has none.
func (a *Artifact) HugeBytes() int64 {
	if a.data == nil {
		return -1
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return -1
	}
	return smapsHuge(b, uintptr(unsafe.Pointer(&a.data[0])))
}

// smapsHuge returns the AnonHugePages and FilePmdMapped bytes of the
// mapping that starts at addr in the smaps text b, or -1 if b has no
// such mapping.
func smapsHuge(b []byte, addr uintptr) int64 {
	want := strconv.FormatUint(uint64(addr), 16) + "-"
	found := false
	var total int64
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			if found {
				break // the next mapping
			}
			found = strings.HasPrefix(fields[0], want)
			continue
		}
		if found && len(fields) >= 2 && (fields[0] == "AnonHugePages:" || fields[0] == "FilePmdMapped:") {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				total += kb << 10
			}
		}
	}
	if !found {
		return -1
	}
	return total
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
		LeafBoxes: view[int16](sec(secLeafBoxes)),

		RegionCentroids: view[float32](sec(secRegionCentroids)),
		RegionMin:       view[int16](sec(secRegionMin)),
		RegionMax:       view[int16](sec(secRegionMax)),
	}
	if err := ix.Verify(); err != nil {
		return fmt.Errorf("index is inconsistent: %w", err)
	}
	ix.Init()
	a.Index = ix
	a.Meta = h.meta
	return nil
}

// Close unmaps the file or frees the copy. The Index must not be used
// afterwards.
func (a *Artifact) Close() error {
	if a.region == nil {
		return nil
	}
	err := unix.Munmap(a.region)
	a.data, a.region = nil, nil
	a.Index = nil
	return err
}
